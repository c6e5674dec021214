"""The self-check's display lines: **libmpv** loads and has the render API the window draws
video with; **qt** starts on this display (or says there is none); **opengl** gives a context
(renderer and version; the software fallback, Mesa llvmpipe, is a warning that says so). Each
reads a probe's answer (:mod:`ui.selfcheck_probes`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ui.selfcheck_probes import Check, ProbeResult, run_probe

SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software rasterizer", "lavapipe",
                      "microsoft basic render")


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
