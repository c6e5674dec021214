"""The self-check's child-process probes and what a check says (:class:`Check`).

Qt/OpenGL and libmpv are probed in child processes (``python -m ui.selfcheck --self-check-probe
gl|mpv``; in a frozen bundle ``edgeplay --self-check-probe …``): a platform plugin that aborts or a
GL driver that crashes becomes a FAIL line with its message instead of killing the report. The
lines they become are :mod:`ui.selfcheck_display`'s; the report is :mod:`ui.selfcheck`'s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from player.lifeline import die_with_parent

PROBE_FLAG = "--self-check-probe"
"""``python -m ui.selfcheck --self-check-probe gl|mpv``; frozen: ``edgeplay --self-check-probe``."""
PROBE_TIMEOUT_S = 30.0

Status = Literal["ok", "warn", "FAIL"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "FAIL")


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""
    """What to do about a warn or FAIL."""


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


def _dist_version(name: str) -> str:
    try:
        from importlib.metadata import version as dist_version

        return dist_version(name)
    except Exception:
        return "?"
