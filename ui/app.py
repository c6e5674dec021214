"""The desktop / TV app's entry point: builds the objects in order — QApplication →
``setlocale(LC_NUMERIC, "C")`` → mpv (``vo=libmpv``) → the engine loop → widgets — runs Qt,
then shuts down cleanly: the session stops, the render context is freed before mpv terminates,
the control plane stops, and the process exits 0."""

from __future__ import annotations

import locale
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("ui")
ASSETS = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class AppOptions:
    control_plane: str | None = None
    catalog: str = "default"
    catalog_dir: str | None = None
    data_dir: str | None = None
    tv: bool = False
    screenshot: str | None = None
    page: str = "home"
    verbose: bool = False
    fake_mpv: bool = False
    """No libmpv at all (tests)."""
    auto_sign_in: bool = False
    """Sign in with the demo account without asking (as ``--screenshot`` does)."""
    on_window: Any = None
    """``on_window(window)`` once the window exists, before the event loop runs (benchmarks
    drive the real app through it); None: nothing."""


def _gl_available() -> bool:
    from PySide6.QtGui import QGuiApplication
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


def _note_renderer(video: Any) -> None:
    """Say when video is drawn by OpenGL on a CPU rasteriser (forced with ``EDGEPLAY_VIDEO``):
    each frame then costs the GUI thread tens of milliseconds (docs/benchmarks.md, *UI-thread
    stalls*). By default such machines get the software surface (ui/video.py)."""
    if video.software:
        log.warning("OpenGL is software-rendered (%s): video drawing will load the CPU",
                    video.renderer)


def run_app(options: AppOptions) -> int:
    logging.basicConfig(level=logging.INFO if options.verbose else logging.WARNING,
                        stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QSurfaceFormat
    from PySide6.QtWidgets import QApplication

    from player.estimate_store import EstimateStore
    from ui.aio import AsyncLoop, Runner
    from ui.artwork import ArtCache
    from ui.backend import Backend
    from ui.config import AppPaths, Settings
    from ui.desktop.integration import DesktopIntegration
    from ui.playback import PlayerController
    from ui.video import MpvVideoWidget, NullVideoWidget, create_video
    from ui.window import MainWindow

    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    fmt = QSurfaceFormat.defaultFormat()
    fmt.setSwapInterval(1)
    QSurfaceFormat.setDefaultFormat(fmt)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Edgeplay")
    app.setDesktopFileName("io.github.edgeplay.Edgeplay")  # the installed desktop entry
    icon = ASSETS / "icons" / "hicolor" / "256x256" / "apps" / "io.github.edgeplay.Edgeplay.png"
    if icon.exists():
        from PySide6.QtGui import QIcon
        app.setWindowIcon(QIcon(str(icon)))
    locale.setlocale(locale.LC_NUMERIC, "C")  # libmpv refuses to start otherwise

    paths = AppPaths.resolve(options.data_dir)
    settings = Settings.load(paths.settings_file)
    gl = _gl_available() and not options.fake_mpv
    mpv: Any
    if gl:
        from player.mpv_seam import create_mpv
        mpv = create_mpv(vo="libmpv", ao=os.environ.get("EDGEPLAY_AO", "pulse,alsa,null"),
                         sub_font_size=str(settings.subtitle_size), hwdec="no")
    else:
        from player.mpv_seam import FakeMpv
        mpv = FakeMpv()
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    url = options.control_plane or settings.control_plane_url
    backend = Backend(runner, paths, control_plane_url=url or "", catalog=options.catalog,
                      catalog_dir=options.catalog_dir)
    art = ArtCache(runner, paths.art_cache)
    video = create_video(mpv.handle) if gl else NullVideoWidget()
    if gl:
        video.gl_ready.connect(lambda: _note_renderer(video))  # type: ignore[attr-defined]
        if isinstance(video, MpvVideoWidget):  # a GPU: decode on it where a safe decoder exists
            mpv.set("hwdec", "auto-safe")
    controller = PlayerController(runner, mpv,
                                  estimates=EstimateStore(paths.throughput_estimate))
    tv = options.tv or settings.start_in_tv
    window = MainWindow(backend, art, controller, video, settings, paths, tv=tv,
                        auto_sign_in=options.auto_sign_in or (
                            options.screenshot is not None and options.page != "signin"))
    desktop = DesktopIntegration(controller, window, quit_app=app.quit,  # MPRIS, screen saver
                                 stop=window.player.leave.emit, art_folder=paths.art_cache)
    desktop.start()
    job = None
    if options.screenshot:
        from ui.screenshot import ScreenshotJob
        job = ScreenshotJob(window, Path(options.screenshot), options.page)
    if options.on_window is not None:
        options.on_window(window)
    if tv:
        window.go_fullscreen()
    else:
        window.resize(1600, 900)
        window.show()
    window.raise_()
    window.activateWindow()
    window.start()
    status = app.exec()
    desktop.close()  # release the inhibition, leave the bus: before the session stops
    if job is not None and not job.saved:
        status = 1
    shutdown(window, runner, aio, backend, art, controller, video, mpv)
    return status


def shutdown(window: Any, runner: Any, aio: Any, backend: Any, art: Any, controller: Any,
             video: Any, mpv: Any) -> None:
    """Stop playback, free the render context, terminate mpv, stop decoding, close the window,
    stop the control plane and the engine loop — in that order: each goes before what it uses."""
    stopping = controller.stop()
    if stopping is not None:
        try:
            stopping.result(5.0)
        except Exception as exc:
            log.warning("stopping playback: %s", exc)
    if aio.running:
        try:
            controller.cancel_prefetch().result(3.0)
        except Exception as exc:
            log.warning("dropping the prefetch: %s", exc)
    runner.close()
    video.free()
    mpv.terminate()
    if aio.running:
        try:
            aio.submit(art.aclose()).result(3.0)
        except Exception as exc:
            log.warning("closing the art client: %s", exc)
        window.dl.close()  # running downloads pause; the next start resumes them
    art.close()  # waits for a decode under way
    window.close()  # the key filter and the thumbnail loader go with it
    backend.stop()
    aio.stop()  # cancels what is left, joins the default executor and the loop thread
