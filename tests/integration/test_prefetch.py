"""Prefetch against the real control plane, edges and libmpv (the bench's media catalog): what
was prefetched is not asked of any edge again, by the edges' own request logs; a prefetch for
another title is not used."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from player.api import ControlPlaneClient
from player.bundled import ReadyInfo
from player.mpv_seam import create_mpv
from player.prefetch import prefetch_start
from player.session import PlaybackSession, SessionConfig
from player.telemetry import TelemetryConfig
from tests.bench.engine_media import make_media_catalog
from tests.conftest import StartControlPlane

pytestmark = [pytest.mark.mpv, pytest.mark.slow]

_accounts = itertools.count()


@pytest.fixture(scope="module")
def fleet(start_module_controlplane: StartControlPlane,
          tmp_path_factory: pytest.TempPathFactory) -> ReadyInfo:
    root = tmp_path_factory.mktemp("prefetch-media")
    make_media_catalog(root)
    return start_module_controlplane(catalog_args=("--catalog-dir", str(root))).ready


def edge_log(ready: ReadyInfo) -> list[tuple[str, str, str]]:
    """(edge, path, range) of every media request the edges answered so far."""
    out = []
    with httpx.Client(base_url=ready.admin_url, headers=ready.admin_headers,
                      timeout=5.0) as admin:
        for name, _ in ready.edges:
            for entry in admin.get(f"/admin/edges/{name}/requests?limit=1000").json():
                if entry["path"].startswith("/v1/media/"):
                    out.append((name, entry["path"], entry.get("range") or ""))
    return out


def config() -> SessionConfig:
    return SessionConfig(start_over=True, progress_interval_s=None, post_telemetry=False,
                         telemetry=TelemetryConfig(flush_interval_s=60))


async def _signed_in(ready: ReadyInfo) -> tuple[ControlPlaneClient, str]:
    cp = ControlPlaneClient(ready.base_url)
    await cp.register_device(f"prefetch{next(_accounts)}-{time.time_ns()}@edgeplay.test",
                             "edgeplay-pw", "pytest", create_account=True)
    return cp, str((await cp.profiles())[0]["id"])


def _play(ready: ReadyInfo, prefetch_title: str, play_title: str
          ) -> tuple[Counter[tuple[str, str, str]], Counter[tuple[str, str, str]], Any]:
    async def main() -> tuple[list[Any], list[Any], list[Any], Any]:
        cp, profile = await _signed_in(ready)
        start = edge_log(ready)
        prefetched = await prefetch_start(cp, prefetch_title, profile, config=config())
        await asyncio.sleep(0.2)  # the edges log after answering
        mid = edge_log(ready)
        mpv = create_mpv(vo="null", ao="null")
        session = PlaybackSession(cp, play_title, profile, mpv, config=config(),
                                  playback=prefetched)
        try:
            await session.play()
            await asyncio.sleep(0.5)  # mpv reads on: its next segments are new requests
        finally:
            await session.stop()
            await cp.aclose()
            mpv.terminate()
        await asyncio.sleep(0.2)
        return start, mid, edge_log(ready), session

    start, mid, end, session = asyncio.run(main())
    prefetch = Counter(mid) - Counter(start)
    later = Counter(end) - Counter(mid)
    return prefetch, later, session


def test_what_was_prefetched_is_not_asked_of_the_edges_again(fleet: ReadyInfo) -> None:
    prefetch, later, session = _play(fleet, "short", "short")
    assert session.error is None and "prefetched" in session.startup_ms
    segments = [key for key in prefetch if key[1].endswith(".ts")]
    playlists = [key for key in prefetch if key[1].endswith(".m3u8")]
    assert len(segments) == 2 and playlists  # the first two segments and their playlist
    asked_again = {(path, range_) for _, path, range_ in later}
    assert not {(path, range_) for _, path, range_ in prefetch} & asked_again  # on no edge
    replayed = session._replay.replayed if session._replay else []
    assert len(replayed) == len(prefetch)


def test_a_prefetch_for_another_title_is_not_used(fleet: ReadyInfo) -> None:
    prefetch, later, session = _play(fleet, "long", "short")
    assert session.error is None and "prefetched" not in session.startup_ms
    assert all("/long/" in key[1] for key in prefetch)
    assert later and all("/short/" in key[1] for key in later)
