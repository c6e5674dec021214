"""The stats overlay tells the truth: the rendition it labels "On screen" is the one in the
frame mpv shows, grabbed from the decoder (``screenshot-raw``), while a higher one is fetched.

Real control plane, real libmpv, the real ``PlayerController`` and ``PlaybackSession``. The
catalog's renditions have distinct frame sizes (tests/bench/engine_media.py), so the grabbed
frame's height names the rendition on screen.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from abr.interface import Decision
from player.api import ControlPlaneClient
from player.mpv_seam import create_mpv
from player.session import PlaybackSession, SessionConfig
from tests.bench.engine_media import LADDER, make_media_catalog
from tests.conftest import StartControlPlane
from tests.helpers.policies import FixedPolicy
from ui.aio import AsyncLoop, Runner
from ui.playback import PlayerController

HEIGHT = {name: height for name, _w, height, _bps in LADDER}
pytestmark = [pytest.mark.mpv, pytest.mark.slow]


class LowThenTop(FixedPolicy):
    """Segments 0–1 at the lowest rung, every later one at the top rung."""

    def choose(self, segment_index: int, buffer_s: float, now_s: float,
               segment_bits: Sequence[int] | None = None) -> Decision:
        return Decision(0 if segment_index < 2 else len(LADDER) - 1, "test")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stats-media")
    make_media_catalog(root)
    return root


@pytest.fixture()
def controller(qtbot: Any, start_controlplane: StartControlPlane,
               catalog: Path) -> Iterator[PlayerController]:
    ready = start_controlplane(catalog_args=("--catalog-dir", str(catalog))).ready
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    mpv = create_mpv(vo="null", ao="null")

    async def sign_in() -> tuple[ControlPlaneClient, str]:
        cp = ControlPlaneClient(ready.base_url)
        await cp.register_device(f"stats-{time.time_ns()}@edgeplay.test", "edgeplay-pw",
                                 "pytest", create_account=True)
        return cp, (await cp.profiles())[0]["id"]

    cp, profile = aio.submit(sign_in()).result(30)

    def make_session(cp: Any, title_id: str, profile_id: str, mpv: Any,
                     config: SessionConfig) -> PlaybackSession:
        return PlaybackSession(cp, title_id, profile_id, mpv, config=config,
                               policy=LowThenTop())

    ctl = PlayerController(runner, mpv, poll_ms=50, make_session=make_session)
    try:
        ctl.play(cp, {"id": "long", "duration_s": 48}, profile, start_over=True, max_rung=None)
        yield ctl
    finally:
        stopping = ctl.stop()
        if stopping is not None:
            stopping.result(15)
        aio.submit(cp.aclose()).result(10)
        runner.close()
        aio.stop()
        mpv.terminate()


def frame_height(ctl: PlayerController) -> int:
    frame = ctl.mpv.command("screenshot-raw", "video")
    return int(frame["h"])


def next_state(qtbot: Any, ctl: PlayerController, ok: Any) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def check(state: dict[str, Any]) -> bool:
        if ok(state):
            seen.append(state)
            return True
        return False
    with qtbot.waitSignal(ctl.state, timeout=20000, check_params_cb=check):
        pass
    return seen[-1]


def test_on_screen_is_the_frame_shown_while_a_higher_rung_is_fetched(
        qtbot: Any, controller: PlayerController) -> None:
    ctl = controller
    qtbot.waitUntil(lambda: ctl.playing, timeout=30000)
    ctl.toggle_pause()
    state = next_state(qtbot, ctl, lambda s: s["fetching_rung"] == len(LADDER) - 1
                       and s["position_s"] < 4.0)
    assert state["shown_rendition"] == "240p"  # the first segment, fetched at the lowest rung
    assert frame_height(ctl) == HEIGHT["240p"]
    assert state["fetching_rendition"] == "1080p"  # not what the overlay calls on screen

    ctl.seek_to(14.0)  # segment 3: fetched at the top rung
    state = next_state(qtbot, ctl, lambda s: s["position_s"] >= 13.0)
    qtbot.waitUntil(lambda: frame_height(ctl) == HEIGHT[state["shown_rendition"]],
                    timeout=10000)
    assert state["shown_rendition"] == "1080p"
