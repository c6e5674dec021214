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
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from player.lifeline import die_with_parent

VERSION_FALLBACK = "0.1.0"
"""Used when the package metadata is missing (a bare checkout on ``PYTHONPATH``)."""
PROBE_FLAG = "--self-check-probe"
"""``python -m ui.selfcheck --self-check-probe gl|mpv``; frozen: ``edgeplay --self-check-probe``."""
PROBE_TIMEOUT_S = 30.0
KEYRING_TIMEOUT_S = 10.0
CONTROL_PLANE_TIMEOUT_S = 60.0
LOW_SPACE_BYTES = 1 << 30
KEYRING_PROBE_SERVICE = "edgeplay-self-check"
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software rasterizer", "lavapipe",
                      "microsoft basic render")
LIBRARIES = ("PySide6_Essentials", "python-mpv", "httpx", "keyring", "platformdirs",
             "cryptography", "aiohttp", "m3u8")
ENV_KEYS = ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "QT_QPA_PLATFORM",
            "LIBGL_ALWAYS_SOFTWARE", "EDGEPLAY_DATA_DIR", "EDGEPLAY_AO")

Status = Literal["ok", "warn", "FAIL"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "FAIL")


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
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""
    """What to do about a warn or FAIL."""


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


# ---------------------------------------------------------------------------------------------
# Child-process probes


def _probe_command(kind: str) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, PROBE_FLAG, kind]
    return [sys.executable, "-m", "ui.selfcheck", PROBE_FLAG, kind]


def _probe_gl() -> dict[str, Any]:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion
    from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext

    app = QGuiApplication.instance() or QGuiApplication(["edgeplay-self-check"])
    assert isinstance(app, QGuiApplication)
    result: dict[str, Any] = {"qt": qVersion(), "pyside": pyside_version,
                              "platform": app.platformName()}
    context = QOpenGLContext()
    if not context.create():
        result["gl_error"] = "no OpenGL context (QOpenGLContext.create() failed)"
        return result
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    if not context.makeCurrent(surface):
        result["gl_error"] = "an OpenGL context was created but cannot be made current"
        return result
    gl = context.functions()
    fmt = context.format()
    result.update(
        gl_vendor=str(gl.glGetString(0x1F00) or ""), gl_renderer=str(gl.glGetString(0x1F01) or ""),
        gl_version=str(gl.glGetString(0x1F02) or ""), gl_es=context.isOpenGLES(),
        gl_format=f"{fmt.majorVersion()}.{fmt.minorVersion()}")
    context.doneCurrent()
    surface.destroy()
    return result


def _probe_mpv() -> dict[str, Any]:
    try:
        import mpv
    except (OSError, ImportError) as exc:  # python-mpv raises OSError when libmpv is missing
        return {"error": f"{type(exc).__name__}: {exc}"}
    result: dict[str, Any] = {"library": _loaded_path("libmpv") or str(getattr(mpv.backend,
                                                                             "_name", "")),
                              "python_mpv": _dist_version("python-mpv"),
                              "render_api": hasattr(mpv.backend, "mpv_render_context_create")}
    try:
        api = mpv._mpv_client_api_version()
        result["client_api"] = ".".join(str(part) for part in api)
    except Exception:
        pass
    player = mpv.MPV(vo="null", ao="null", config="no", load_scripts="no", ytdl="no",
                     idle="yes")
    try:
        result["mpv_version"] = str(player._get_property("mpv-version") or "")
        result["ffmpeg_version"] = str(player._get_property("ffmpeg-version") or "")
    finally:
        player.terminate()
    return result


def _loaded_path(stem: str) -> str:
    """Where the library named ``stem…`` was loaded from (Linux: /proc/self/maps), or ""."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip()
                if os.path.basename(path).startswith(stem + "."):
                    return path
    except OSError:
        pass
    return ""


PROBES: dict[str, Callable[[], dict[str, Any]]] = {"gl": _probe_gl, "mpv": _probe_mpv}


def probe_main(argv: list[str]) -> int:
    """``--self-check-probe KIND``: print one JSON line with what the probe found."""
    args = argv[1:] if argv[:1] == [PROBE_FLAG] else argv
    probe = PROBES.get(args[0]) if args else None
    if probe is None:
        print(f"usage: {PROBE_FLAG} {{{'|'.join(PROBES)}}}", file=sys.stderr)
        return 2
    try:
        result = probe()
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result), flush=True)
    return 0


@dataclass(frozen=True)
class ProbeResult:
    data: dict[str, Any] | None
    """The probe's JSON answer; None when it crashed or did not answer."""
    problem: str = ""


def run_probe(kind: str, env: Mapping[str, str] | None = None,
              timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    env = dict(os.environ if env is None else env)
    if not getattr(sys, "frozen", False):  # make `-m ui.selfcheck` importable from anywhere
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run(_probe_command(kind), capture_output=True, text=True, env=env,
                              timeout=timeout_s, stdin=subprocess.DEVNULL, check=False,
                              preexec_fn=die_with_parent())
    except subprocess.TimeoutExpired:
        return ProbeResult(None, f"did not answer within {timeout_s:.0f} s")
    except OSError as exc:
        return ProbeResult(None, f"could not start ({exc})")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                break
            if isinstance(data, dict):
                return ProbeResult(data)
    tail = [line.strip() for line in done.stderr.splitlines() if line.strip()][-3:]
    how = (f"crashed (signal {-done.returncode})" if done.returncode < 0
           else f"exited with status {done.returncode}")
    return ProbeResult(None, f"{how}: {' / '.join(tail) or 'no message'}")


# ---------------------------------------------------------------------------------------------
# The checks


def _dist_version(name: str) -> str:
    try:
        from importlib.metadata import version as dist_version

        return dist_version(name)
    except Exception:
        return "?"


def _has_display(env: Mapping[str, str]) -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _gl_env(env: Mapping[str, str]) -> dict[str, str]:
    """The probe's environment: Qt's offscreen platform when there is no display (Qt's xcb
    plugin aborts without one)."""
    env = dict(env)
    if not env.get("QT_QPA_PLATFORM") and not _has_display(env):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def check_qt_and_gl(env: Mapping[str, str] | None = None,
                    result: ProbeResult | None = None) -> tuple[list[Check], dict[str, str]]:
    """The ``qt`` and ``opengl`` lines, and the Qt version for the header."""
    env = dict(os.environ if env is None else env)
    headless = not env.get("QT_QPA_PLATFORM") and not _has_display(env)
    if result is None:
        result = run_probe("gl", _gl_env(env))
    if result.data is None or "error" in result.data:
        problem = result.problem or str((result.data or {}).get("error"))
        return [Check("qt", "FAIL", f"Qt could not start: {problem}",
                      "on Linux install the xcb libraries (Debian/Ubuntu: apt install "
                      "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libegl1), "
                      "or try QT_QPA_PLATFORM=wayland; QT_DEBUG_PLUGINS=1 says more"),
                Check("opengl", "FAIL", "not checked: Qt did not start",
                      "fix the qt line first")], {}
    data = result.data
    info = {"qt": f"Qt {data.get('qt')}, PySide6 {data.get('pyside')}"}
    qpa = str(data.get("platform", "?"))
    checks: list[Check] = []
    if headless:
        checks.append(Check("qt", "warn", f"Qt {data.get('qt')} works, but there is no display "
                            "(DISPLAY and WAYLAND_DISPLAY are unset)",
                            "the window needs X11 or Wayland; `edgeplay play TITLE --headless` "
                            "works without one"))
    else:
        where = env.get("WAYLAND_DISPLAY") if qpa.startswith("wayland") else env.get("DISPLAY")
        checks.append(Check("qt", "ok", f"Qt {data.get('qt')}, platform {qpa}"
                            + (f" ({where})" if where else "")))
    if "gl_error" in data:
        if qpa in ("offscreen", "minimal"):
            checks.append(Check("opengl", "warn", f"no OpenGL on Qt's {qpa!r} platform",
                                "video in the window needs a display with OpenGL (X11/Wayland); "
                                "headless playback does not"))
        else:
            checks.append(Check("opengl", "FAIL", f"{data['gl_error']} on {qpa}",
                                "the player cannot show video: install Mesa (Debian/Ubuntu: apt "
                                "install libgl1-mesa-dri libglx-mesa0 libegl1) or your GPU's "
                                "driver; LIBGL_ALWAYS_SOFTWARE=1 forces Mesa's software renderer"))
        return checks, info
    renderer = str(data.get("gl_renderer", ""))
    kind = "OpenGL ES" if data.get("gl_es") else "OpenGL"
    detail = f"{kind} {data.get('gl_version')}, renderer {renderer} ({data.get('gl_vendor')})"
    if any(name in renderer.lower() for name in SOFTWARE_RENDERERS):
        forced = " (LIBGL_ALWAYS_SOFTWARE is set)" if env.get("LIBGL_ALWAYS_SOFTWARE") else ""
        checks.append(Check("opengl", "warn", f"{detail}: software rendering{forced}",
                            "video is drawn by the CPU (fine up to 1080p on a few cores); for "
                            "hardware rendering install your GPU's driver (Mesa: "
                            "libgl1-mesa-dri)" + (" and unset LIBGL_ALWAYS_SOFTWARE"
                                                  if forced else "")))
    else:
        checks.append(Check("opengl", "ok", detail))
    return checks, info


def check_libmpv(result: ProbeResult | None = None) -> tuple[Check, dict[str, str]]:
    if result is None:
        result = run_probe("mpv")
    install = ("install libmpv (Debian/Ubuntu: apt install libmpv2; Fedora: mpv-libs; "
               "Arch: mpv; macOS: brew install mpv; Windows: mpv-2.dll next to edgeplay.exe)")
    if result.data is None:
        return Check("libmpv", "FAIL", f"the libmpv probe {result.problem}", install), {}
    data = result.data
    if "error" in data:
        return Check("libmpv", "FAIL", f"libmpv does not load: {data['error']}", install), {}
    bundle = getattr(sys, "_MEIPASS", None)
    library = str(data.get("library", ""))
    where = "bundled" if bundle and library.startswith(str(bundle)) else library or "?"
    mpv_version = str(data.get("mpv_version", "?"))
    info = {"libmpv": f"{mpv_version}, FFmpeg {data.get('ffmpeg_version', '?')}, client API "
                      f"{data.get('client_api', '?')}, python-mpv {data.get('python_mpv', '?')}"}
    if not data.get("render_api"):
        return Check("libmpv", "FAIL", f"{mpv_version} ({where}) has no render API",
                     "the window cannot draw video: install libmpv 0.33 or newer"), info
    return Check("libmpv", "ok", f"{mpv_version} loads ({where})"), info


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


def _find_ffmpeg() -> tuple[str | None, str]:
    on_path = shutil.which("ffmpeg")
    if on_path:
        bundle = getattr(sys, "_MEIPASS", None)
        return on_path, "bundled" if bundle and on_path.startswith(str(bundle)) else "PATH"
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe()), "imageio-ffmpeg"
    except Exception:
        return None, ""


def _catalog_cache() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("edgeplay")) / "controlplane"


def _catalog_titles(profile: str) -> int | None:
    try:
        raw = json.loads((_catalog_cache() / f"catalog-{profile}" / "catalog.json").read_text(
            encoding="utf-8"))
        return len(raw["titles"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_ffmpeg(remote: bool) -> Check:
    exe, source = _find_ffmpeg()
    generated = _catalog_titles("default") is not None
    if exe is None:
        fix = ("install ffmpeg (Debian/Ubuntu: apt install ffmpeg) or the imageio-ffmpeg "
               "wheel (pip install imageio-ffmpeg)")
        if remote:
            return Check("ffmpeg", "ok", "none found; not needed with a remote control plane")
        if generated:
            return Check("ffmpeg", "warn", "none found: the bundled control plane serves the "
                         "catalog already generated but cannot make a new one", fix)
        return Check("ffmpeg", "FAIL", "none found: the bundled control plane cannot "
                     "generate its catalog", fix)
    try:
        banner = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True,
                                text=True, timeout=15, check=False).stdout
        encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True,
                                  text=True, timeout=15, check=False).stdout
        filters = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True,
                                 text=True, timeout=15, check=False).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("ffmpeg", "FAIL" if not (remote or generated) else "warn",
                     f"{exe} does not run ({exc})", "install a working ffmpeg")
    words = (banner.splitlines() or ["?"])[0].split()
    name = f"ffmpeg {words[2]}" if words[:2] == ["ffmpeg", "version"] and len(words) > 2 \
        else " ".join(words[:3])
    detail = f"{name} ({source}: {exe})"
    if " libx264 " not in encoders:
        return Check("ffmpeg", "warn" if remote or generated else "FAIL",
                     f"{detail} has no libx264 encoder: the catalog cannot be generated",
                     "install an ffmpeg built with libx264 (Debian's is)")
    if " drawtext " not in filters:
        return Check("ffmpeg", "warn", f"{detail} has no drawtext filter: the rendition and "
                     "timecode are not burned into the picture",
                     "install an ffmpeg built with libfreetype (Debian's is)")
    return Check("ffmpeg", "ok", detail)


def check_catalog(remote: bool) -> Check:
    if remote:
        return Check("catalog", "ok", "served by the remote control plane")
    counts = {p: _catalog_titles(p) for p in ("default", "test")}
    present = ", ".join(f"{p}: {n} titles" for p, n in counts.items() if n is not None)
    where = str(_catalog_cache())
    if counts["default"] is None:
        return Check("catalog", "warn", f"the default catalog is not generated yet ({where}"
                     + (f"; {present}" if present else "") + ")",
                     "the first start generates it with ffmpeg (a few minutes), or run "
                     "`edgeplay serve` once")
    return Check("catalog", "ok", f"{present} in {where}")


def _get_public_key(base_url: str, timeout_s: float = 5.0) -> tuple[float, str]:
    """GET /v1/licenses/public-key; returns (ms, key id). Raises on any problem."""
    import httpx

    started = time.monotonic()
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        answer = client.get(base_url.rstrip("/") + "/v1/licenses/public-key")
        answer.raise_for_status()
        key_id = str(answer.json().get("key_id", "?"))
    return (time.monotonic() - started) * 1000.0, key_id


def check_control_plane(url: str | None, source: str = "") -> Check:
    if url:
        try:
            ms, key_id = _get_public_key(url)
        except Exception as exc:
            return Check("control plane", "FAIL",
                         f"{url} ({source}) does not answer GET /v1/licenses/public-key: "
                         f"{type(exc).__name__}: {exc}",
                         "check the address and that the server runs; "
                         + ("leave out --control-plane" if source == "--control-plane" else
                            "clear the URL in Settings (or settings.json)")
                         + " to use the bundled control plane")
        return Check("control plane", "ok", f"{url} ({source}) answered GET "
                     f"/v1/licenses/public-key in {ms:.0f} ms (key {key_id})")
    return _check_bundled_control_plane()


def _check_bundled_control_plane() -> Check:
    """Start the bundled control plane on an empty catalog, ask it, stop it."""
    import httpx

    from player.bundled import BundledControlPlane, ControlPlaneStartError

    with tempfile.TemporaryDirectory(prefix="edgeplay-self-check-") as tmp:
        catalog = Path(tmp) / "catalog"
        catalog.mkdir()
        (catalog / "catalog.json").write_text(
            json.dumps({"format": 1, "profile": "self-check", "titles": []}), encoding="utf-8")
        cp = BundledControlPlane(
            ["--catalog-dir", str(catalog), "--state-dir", str(Path(tmp) / "state"),
             "--edges", "1", "--request-log", os.devnull],
            start_timeout_s=CONTROL_PLANE_TIMEOUT_S)
        started = time.monotonic()
        try:
            ready = cp.start()
            start_s = time.monotonic() - started
            ms, key_id = _get_public_key(ready.base_url)
            with httpx.Client(timeout=5.0) as client:
                healthy = sum(client.get(url + "/health").status_code == 200
                              for _, url in ready.edges)
        except (ControlPlaneStartError, ValueError) as exc:
            lines = [line for line in str(exc).splitlines() if line.strip()]
            return Check("control plane", "FAIL", "the bundled control plane did not start: "
                         + " / ".join(lines[-3:]),
                         "run `edgeplay serve` to see its output; reinstall if a module is "
                         "missing")
        except Exception as exc:
            return Check("control plane", "FAIL", "the bundled control plane started but did "
                         f"not answer: {type(exc).__name__}: {exc}",
                         "a firewall or proxy on 127.0.0.1? (NO_PROXY=127.0.0.1)")
        finally:
            status = cp.stop()
    how = "this executable" if getattr(sys, "frozen", False) else "python -m controlplane"
    detail = (f"the bundled one ({how}) started in {start_s:.1f} s, answered GET "
              f"/v1/licenses/public-key in {ms:.0f} ms (key {key_id}), {healthy}/"
              f"{len(ready.edges)} edge healthy; stopped (status {status})")
    if healthy < len(ready.edges):
        return Check("control plane", "warn", detail, "an edge did not answer /health")
    return Check("control plane", "ok", detail)


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
