"""The controller hands the ABR estimate of the session it stops to the next session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from player.estimate_store import EstimateStore
from player.mpv_seam import FakeMpv
from tests.ui.conftest import FakeSession
from ui.aio import AsyncLoop, Runner
from ui.playback import PlayerController


def test_the_next_session_starts_from_the_last_estimate(qtbot: Any) -> None:
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    configs: list[Any] = []
    sessions: list[FakeSession] = []

    def make_session(cp: Any, title_id: str, profile_id: str, mpv: Any, config: Any) -> Any:
        configs.append(config)
        sessions.append(FakeSession())
        return sessions[-1]

    controller = PlayerController(runner, FakeMpv(), poll_ms=50, make_session=make_session)
    try:
        title = {"id": "t1", "duration_s": 600}
        controller.play(None, title, "p1", start_over=False, max_rung=None)  # type: ignore[arg-type]
        qtbot.waitUntil(lambda: controller.playing, timeout=3000)
        assert configs[0].initial_estimate_bps is None  # nothing measured yet: a blind start
        sessions[0].estimate_bps = 12_500_000.0
        controller.play(None, title, "p1", start_over=False, max_rung=None)  # type: ignore[arg-type]
        qtbot.waitUntil(lambda: len(configs) == 2, timeout=3000)
        assert configs[1].initial_estimate_bps == 12_500_000.0
        assert controller.last_estimate_bps == 12_500_000.0
    finally:
        controller.stop()
        runner.close()
        aio.stop()


def test_the_estimate_outlives_the_app(qtbot: Any, tmp_path: Path) -> None:
    """Saved (on the engine loop) when a session stops; a new controller — the next launch —
    starts its first session from it."""
    store = EstimateStore(tmp_path / "throughput.json")
    configs: list[Any] = []

    def make_session(cp: Any, title_id: str, profile_id: str, mpv: Any, config: Any) -> Any:
        configs.append(config)
        session = FakeSession()
        session.estimate_bps = 31_000_000.0
        return session

    for _launch in range(2):
        aio = AsyncLoop()
        aio.start()
        runner = Runner(aio)
        controller = PlayerController(runner, FakeMpv(), poll_ms=50, make_session=make_session,
                                      estimates=store)
        try:
            controller.play(None, {"id": "t1", "duration_s": 600}, "p1",  # type: ignore[arg-type]
                            start_over=False, max_rung=None)
            qtbot.waitUntil(lambda c=controller: c.playing, timeout=3000)
        finally:
            controller.stop()
            runner.close()
            aio.stop()  # joins the executor: the save is on disk
    assert configs[0].initial_estimate_bps is None  # the first launch starts blind
    assert configs[1].initial_estimate_bps == 31_000_000.0
    assert store.load() == 31_000_000.0
