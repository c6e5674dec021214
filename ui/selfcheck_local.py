"""The self-check's lines about this device: the **keyring** (the backend in use, and whether a
test entry can be written, read and deleted) and the **data dirs** (the config, data and cache
folders are writable; free space)."""

from __future__ import annotations

import os
import shutil
import threading
import uuid

from ui.selfcheck_probes import Check

KEYRING_TIMEOUT_S = 10.0
LOW_SPACE_BYTES = 1 << 30
KEYRING_PROBE_SERVICE = "edgeplay-self-check"


def check_keyring(timeout_s: float = KEYRING_TIMEOUT_S) -> Check:
    """The backend ``keyring`` picks, and a write/read/delete of a throw-away entry."""
    box: list[Check] = []

    def run() -> None:
        try:
            box.append(_keyring())
        except Exception as exc:
            box.append(Check("keyring", "FAIL", f"the check failed: {type(exc).__name__}: {exc}",
                             "report this line"))

    worker = threading.Thread(target=run, name="self-check-keyring", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not box:
        return Check("keyring", "warn", f"the keyring did not answer within {timeout_s:.0f} s "
                     "(locked, or waiting for a password prompt?)",
                     "unlock your keyring (gnome-keyring, KWallet) and run the check again")
    return box[0]


def _keyring() -> Check:
    import keyring
    import keyring.backends.fail
    import keyring.backends.null

    from player.tokens import NO_KEYRING_MESSAGE

    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        return Check("keyring", "warn", f"no keyring backend ({type(exc).__name__}: {exc})",
                     NO_KEYRING_MESSAGE)
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    inner = getattr(backend, "backends", None)
    if inner:
        name += " [" + ", ".join(f"{type(b).__module__}.{type(b).__name__}" for b in inner) + "]"
    # The same test as player.tokens.TokenStore: these two never keep anything.
    if isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
        return Check("keyring", "warn", f"{name} is not usable: sign-ins last one session",
                     NO_KEYRING_MESSAGE)
    user, secret = "probe", uuid.uuid4().hex
    try:
        backend.set_password(KEYRING_PROBE_SERVICE, user, secret)
        read = backend.get_password(KEYRING_PROBE_SERVICE, user)
        backend.delete_password(KEYRING_PROBE_SERVICE, user)
    except Exception as exc:
        return Check("keyring", "warn", f"{name} failed a test entry ({type(exc).__name__}: "
                     f"{exc}): sign-ins last one session", NO_KEYRING_MESSAGE)
    if read != secret:
        return Check("keyring", "warn", f"{name} did not give back a test entry",
                     NO_KEYRING_MESSAGE)
    return Check("keyring", "ok", f"{name}: a test entry was written, read and deleted")


def check_data_dirs(data_dir: str | None = None) -> Check:
    from ui.config import DATA_DIR_ENV, AppPaths

    paths = AppPaths.resolve(data_dir)
    source = ("--data-dir" if data_dir else DATA_DIR_ENV if os.environ.get(DATA_DIR_ENV)
              else "")
    problems: list[str] = []
    for label, folder in (("config", paths.config), ("data", paths.data),
                          ("cache", paths.cache)):
        probe = folder / f".edgeplay-self-check-{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"edgeplay")
            probe.unlink()
        except OSError as exc:
            problems.append(f"{label} {folder} ({type(exc).__name__}: {exc.strerror or exc})")
    if problems:
        where = f" (from {source})" if source else ""
        return Check("data dirs", "FAIL", "not writable: " + "; ".join(problems) + where,
                     "make the folder writable, or pick another with --data-dir DIR "
                     f"(or {DATA_DIR_ENV})")
    folders = (f"config {paths.config}, data {paths.data}, cache {paths.cache}"
               if not paths.custom else f"all under {paths.data.parent}")
    free = shutil.disk_usage(paths.data).free
    detail = f"writable: {folders} ({free / 1e9:.1f} GB free)"
    if free < LOW_SPACE_BYTES:
        return Check("data dirs", "warn", detail,
                     "free some space: the catalog, art cache and downloads need it")
    return Check("data dirs", "ok", detail)
