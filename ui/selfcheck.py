"""``edgeplay --version`` and ``edgeplay --self-check``: what a bug report needs.

``--version`` prints ``Edgeplay X.Y.Z`` without importing Qt. ``--self-check`` prints the
versions (Edgeplay, Python, Qt, libmpv, platform, libraries) and then one line per check —
``ok``, ``warn`` or ``FAIL`` with what to do — and a summary; the exit status is 1 when a check
FAILed, else 0. ``--self-check json`` prints the same as one JSON object. The checks:

* **libmpv** loads, and has the render API the window draws video with;
* **qt** starts on this display (or says there is none), **opengl** gives a context (renderer and
  version; the software fallback, Mesa llvmpipe, is a warning that says so);
* **keyring**: the backend in use, and whether a test entry can be written, read and deleted;
* **data dirs**: the config, data and cache folders (``--data-dir`` / ``EDGEPLAY_DATA_DIR``, else
  the platform's) are writable; free space;
* **ffmpeg**, which the bundled control plane generates its catalog with, and the **catalog**
  already generated in the cache;
* **control plane**: the configured URL (``--control-plane``, else Settings) answers the
  unauthenticated ``GET /v1/licenses/public-key``; with none configured the bundled one is started
  on an empty catalog, asked the same and stopped.

Qt/OpenGL and libmpv are probed in child processes (``python -m ui.selfcheck --self-check-probe
gl|mpv``; in a frozen bundle ``edgeplay --self-check-probe …``): a platform plugin that aborts or a
GL driver that crashes becomes a FAIL line with its message instead of killing the report. No
check raises: an unexpected error is a FAIL line naming it.

This module runs the checks and prints the report; the checks are grouped by what they check:
``ui/selfcheck_display.py`` (libmpv, qt, opengl), ``ui/selfcheck_local.py`` (keyring, data dirs),
``ui/selfcheck_service.py`` (ffmpeg, catalog, control plane), with the child-process probes and
:class:`Check` in ``ui/selfcheck_probes.py``. Every public name is importable from here.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ui.selfcheck_display import SOFTWARE_RENDERERS, _gl_env, check_libmpv, check_qt_and_gl
from ui.selfcheck_local import (
    KEYRING_PROBE_SERVICE,
    KEYRING_TIMEOUT_S,
    LOW_SPACE_BYTES,
    check_data_dirs,
    check_keyring,
)
from ui.selfcheck_probes import (
    PROBE_FLAG,
    PROBE_TIMEOUT_S,
    STATUSES,
    Check,
    ProbeResult,
    Status,
    _dist_version,
    probe_main,
    run_probe,
)
from ui.selfcheck_service import (
    CONTROL_PLANE_TIMEOUT_S,
    check_catalog,
    check_control_plane,
    check_ffmpeg,
)

__all__ = [
    "CONTROL_PLANE_TIMEOUT_S", "KEYRING_PROBE_SERVICE", "KEYRING_TIMEOUT_S", "LOW_SPACE_BYTES",
    "PROBE_FLAG", "PROBE_TIMEOUT_S", "SOFTWARE_RENDERERS", "STATUSES", "Check", "ProbeResult",
    "Report", "SelfCheckOptions", "Status", "check_catalog", "check_control_plane",
    "check_data_dirs", "check_ffmpeg", "check_keyring", "check_libmpv", "check_qt_and_gl",
    "collect", "format_text", "print_version", "probe_main", "run_probe", "run_self_check",
    "version"]

VERSION_FALLBACK = "0.1.0"
"""Used when the package metadata is missing (a bare checkout on ``PYTHONPATH``)."""
LIBRARIES = ("PySide6_Essentials", "python-mpv", "httpx", "keyring", "platformdirs",
             "cryptography", "aiohttp", "m3u8")
ENV_KEYS = ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "QT_QPA_PLATFORM",
            "LIBGL_ALWAYS_SOFTWARE", "EDGEPLAY_DATA_DIR", "EDGEPLAY_AO")


def version() -> str:
    """Edgeplay's version from the package metadata, else :data:`VERSION_FALLBACK`."""
    try:
        from importlib.metadata import version as dist_version

        return dist_version("edgeplay")
    except Exception:
        return VERSION_FALLBACK


def print_version(out: TextIO | None = None) -> int:
    print(f"Edgeplay {version()}", file=out or sys.stdout)
    return 0


@dataclass(frozen=True)
class SelfCheckOptions:
    data_dir: str | None = None
    control_plane: str | None = None
    """``--control-plane URL``; None: the Settings' URL, else the bundled control plane."""
    json: bool = False


@dataclass
class Report:
    info: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in STATUSES}

    @property
    def ok(self) -> bool:
        return not any(c.status == "FAIL" for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"edgeplay": version(), "info": self.info,
                "checks": [asdict(c) for c in self.checks], "summary": self.counts(),
                "ok": self.ok}


def _configured_url(options: SelfCheckOptions) -> tuple[str | None, str]:
    if options.control_plane:
        return options.control_plane, "--control-plane"
    try:
        from ui.config import AppPaths, Settings

        url = Settings.load(AppPaths.resolve(options.data_dir).settings_file).control_plane_url
    except Exception:
        return None, ""
    return (url, "Settings") if url else (None, "")


def _header() -> dict[str, str]:
    frozen = getattr(sys, "frozen", False)
    install = (f"bundle at {Path(sys.executable).resolve().parent}" if frozen
               else f"from {Path(__file__).resolve().parent.parent} ({sys.executable})")
    env = " ".join(f"{k}={os.environ[k]}" for k in ENV_KEYS if os.environ.get(k)) or "-"
    return {
        "edgeplay": f"{version()}, {install}",
        "python": f"{platform.python_version()} ({platform.python_implementation()}, "
                  f"{'frozen' if frozen else sys.executable})",
        "platform": f"{platform.platform()} ({platform.machine()})",
        "libraries": ", ".join(f"{name} {_dist_version(name)}" for name in LIBRARIES),
        "environment": env,
    }


def collect(options: SelfCheckOptions) -> Report:
    """Run every check (the slow ones side by side) and return the report."""
    report = Report(info=_header())
    url, source = _configured_url(options)

    def guard(name: str, fn: Callable[[], Check]) -> Check:
        try:
            return fn()
        except Exception as exc:
            return Check(name, "FAIL", f"the check failed: {type(exc).__name__}: {exc}",
                         "report this line")

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="self-check") as pool:
        gl: Future[ProbeResult] = pool.submit(run_probe, "gl", _gl_env(os.environ))
        mpv: Future[ProbeResult] = pool.submit(run_probe, "mpv")
        cp: Future[Check] = pool.submit(guard, "control plane",
                                        lambda: check_control_plane(url, source))
        keyring_check = pool.submit(guard, "keyring", check_keyring)
        dirs = guard("data dirs", lambda: check_data_dirs(options.data_dir))
        ffmpeg = guard("ffmpeg", lambda: check_ffmpeg(remote=url is not None))
        catalog = guard("catalog", lambda: check_catalog(remote=url is not None))
        try:
            mpv_check, mpv_info = check_libmpv(mpv.result())
        except Exception as exc:
            mpv_check, mpv_info = Check("libmpv", "FAIL", f"the check failed: {exc!r}",
                                        "report this line"), {}
        try:
            gl_checks, qt_info = check_qt_and_gl(os.environ, gl.result())
        except Exception as exc:
            gl_checks, qt_info = [Check("opengl", "FAIL", f"the check failed: {exc!r}",
                                        "report this line")], {}
        tail = {k: report.info.pop(k) for k in ("libraries", "environment")}
        report.info.update(qt_info)
        report.info.update(mpv_info)
        report.info.update(tail)
        report.checks += [mpv_check, *gl_checks, keyring_check.result(), dirs, ffmpeg, catalog,
                          cp.result()]
    return report


def format_text(report: Report) -> str:
    lines = [f"Edgeplay {version()} self-check"]
    width = max(len(k) for k in report.info) if report.info else 0
    lines += [f"  {key.ljust(width)}  {value}" for key, value in report.info.items()]
    width = max(len(c.name) for c in report.checks) if report.checks else 0
    for check in report.checks:
        line = f"{check.status:<4}  {check.name.ljust(width)}  {check.detail}"
        if check.fix and check.status != "ok":
            line += f" -> {check.fix}"
        lines.append(line)
    counts = report.counts()
    verdict = "FAILED" if not report.ok else "passed"
    lines.append(f"summary: {counts['ok']} ok, {counts['warn']} warn, {counts['FAIL']} FAIL: "
                 f"self-check {verdict}")
    return "\n".join(lines)


def run_self_check(options: SelfCheckOptions, out: TextIO | None = None) -> int:
    """Print the report; 0 when nothing FAILed, else 1. Never raises (Ctrl+C: 130)."""
    out = out or sys.stdout
    try:
        report = collect(options)
    except KeyboardInterrupt:
        print("edgeplay: self-check interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # collect() guards every check; this is the last net
        report = Report(info={"edgeplay": version()},
                        checks=[Check("self-check", "FAIL", f"{type(exc).__name__}: {exc}",
                                      "report this line")])
    if options.json:
        print(json.dumps(report.to_json(), indent=2), file=out, flush=True)
    else:
        print(format_text(report), file=out, flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(probe_main(sys.argv[1:]))
