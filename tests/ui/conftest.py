"""pytest-qt fixtures for the app's widgets: offscreen Qt, a real engine loop, a fake engine."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import pytest

from player.mpv_seam import FakeMpv
from player.session import SessionSnapshot, ThumbnailSource
from player.telemetry import Telemetry
from ui.aio import AsyncLoop, Runner
from ui.artwork import ArtCache
from ui.backend import Backend
from ui.config import AppPaths, Settings
from ui.playback import PlayerController
from ui.video import NullVideoWidget
from ui.window import MainWindow


def make_title(i: int, *, progress: float | None = None) -> dict[str, Any]:
    title: dict[str, Any] = {
        "id": f"t{i}", "name": f"Title {i}", "synopsis": "A story.", "year": 2020 + i % 5,
        "genres": ["Drama"], "duration_s": 600.0, "maturity_rating": "PG",
        "audio": [{"language": "en", "name": "English"}, {"language": "es", "name": "Spanish"}],
        "subtitles": [{"language": "en", "name": "English"}], "poster_url": "",
        "playable": True}
    if progress is not None:
        title["progress"] = {"position_s": progress, "duration_s": 600.0}
    return title


def make_rows(rows: int = 3, per_row: int = 6) -> list[dict[str, Any]]:
    out = [{"id": "continue-watching", "title": "Continue Watching",
            "items": [make_title(100 + i, progress=120.0) for i in range(2)]}]
    for r in range(rows):
        out.append({"id": f"genre-{r}", "title": f"Genre {r}",
                    "items": [make_title(r * 100 + i) for i in range(per_row)]})
    return out


class FakeScheduler:
    rung: int | None = 4
    buffer_s = 8.0
    """The rung being fetched."""


LADDER = ["240p", "360p", "480p", "720p", "1080p"]


class FakeSession:
    """A :class:`player.session.Session` recording the calls. Its snapshot puts segments 0–1
    on screen at 240p, then 1080p (``served_rungs``), while the scheduler fetches ``rung``."""

    def __init__(self, *, fail: BaseException | None = None, config: Any = None) -> None:
        self.config = config
        """The :class:`SessionConfig` the window made (None when not given)."""
        self.calls: list[tuple[str, Any]] = []
        self.telemetry = Telemetry(title_id="t0")
        self.fail = fail
        self.position_s = 0.0
        self.duration_s = 600.0
        self.scheduler: Any = FakeScheduler()
        self.estimate_bps: float | None = None
        self.progress: Any = None
        self.max_rung: int | None = None
        self.served_rungs = {0: 0, 1: 0}
        self._ended: asyncio.Future[str] | None = None

    async def play(self) -> None:
        self.calls.append(("play", None))
        self._ended = asyncio.get_running_loop().create_future()
        if self.fail is not None:
            raise self.fail
        self.telemetry.emit("session_start", renditions=LADDER,
                            bitrates_bps=[300000, 700000, 1200000, 2800000, 5200000],
                            format=getattr(self.config, "stream_format", "hls"))
        self.telemetry.emit("rendition_switch", rendition="240p", bitrate_bps=300000,
                            reason="startup", index=0, to=0)

    def thumbnails(self) -> ThumbnailSource | None:
        return None

    def snapshot(self) -> SessionSnapshot:
        index = int(self.position_s // 4.0)
        return SessionSnapshot(
            position_s=self.position_s, duration_s=self.duration_s,
            buffer_s=self.scheduler.buffer_s, estimate_bps=self.estimate_bps, edges=(),
            shown_rung=self.served_rungs.get(index, 4), fetching_rung=self.scheduler.rung)

    def finish(self) -> None:
        """The title played to its end (call on the engine loop)."""
        if self._ended is not None and not self._ended.done():
            self._ended.set_result("eof")

    async def wait_ended(self) -> str:
        assert self._ended is not None
        return await self._ended

    async def pause(self) -> None:
        self.calls.append(("pause", None))

    async def resume(self) -> None:
        self.calls.append(("resume", None))

    async def seek(self, position_s: float) -> None:
        self.calls.append(("seek", position_s))
        self.position_s = position_s

    async def set_audio(self, language: str) -> None:
        self.calls.append(("audio", language))

    async def set_subtitles(self, language: str | None) -> None:
        self.calls.append(("subtitles", language))

    async def stop(self) -> None:
        self.calls.append(("stop", None))
        if self._ended is not None and not self._ended.done():
            self._ended.set_result("stopped")


class FakeControlPlane:
    """The catalog calls the pages make."""

    async def title(self, title_id: str, profile_id: str) -> dict[str, Any]:
        n = int(title_id[1:])
        return make_title(n, progress=120.0 if n >= 100 else None)

    async def rows(self, profile_id: str) -> list[dict[str, Any]]:
        return make_rows()

    async def search(self, query: str, profile_id: str) -> list[dict[str, Any]]:
        return [make_title(7)]


class Harness:
    def __init__(self, window: MainWindow, aio: AsyncLoop, runner: Runner) -> None:
        self.window = window
        self.aio = aio
        self.runner = runner
        self.sessions: list[FakeSession] = []
        self.fail: BaseException | None = None

    def make_session(self, *args: Any) -> FakeSession:
        session = FakeSession(fail=self.fail, config=args[4] if len(args) > 4 else None)
        self.sessions.append(session)
        return session


@pytest.fixture
def harness(qtbot: Any, tmp_path: Path) -> Iterator[Harness]:
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    paths = AppPaths.under(tmp_path)
    backend = Backend(runner, paths, control_plane_url="http://127.0.0.1:9")
    art = ArtCache(runner, paths.art_cache)
    mpv = FakeMpv()
    controller = PlayerController(runner, mpv, poll_ms=50)
    window = MainWindow(backend, art, controller, NullVideoWidget(), Settings(), paths,
                        tv=True)
    h = Harness(window, aio, runner)
    controller.make_session = h.make_session
    backend.client = FakeControlPlane()  # type: ignore[assignment]
    # Not qtbot.addWidget: pytest-qt would close and delete it before this fixture's teardown
    # runs the app's own shutdown order.
    window.resize(1280, 720)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    qtbot.waitActive(window)  # activation is asynchronous: keys go to the focus of the active one
    window.profile = {"id": "p1", "name": "Dana"}
    window.show_page("home", remember=False)
    window.home.set_rows(make_rows())
    window.home.focus_default()
    yield h
    controller.stop()
    runner.close()
    art.close()
    window.close()  # its key filter and thumbnail loader go with it
    window.deleteLater()
    aio.stop()
