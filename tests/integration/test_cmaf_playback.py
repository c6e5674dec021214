"""The bundled pipeline's CMAF output on the whole play path: Shaka Packager's fMP4 video
renditions, separate English and Spanish audio renditions and segmented WebVTT, served by the
real control plane and edges, played by the engine and the real libmpv (vo/ao null).

The catalog is the pipeline's own (``build_catalog`` with the ``test`` profile's ladder and
settings) for one 48 s title, long enough for a fault with 8 s buffered and segments still to
fetch (the ``test`` catalog's longest title is 22 s).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import httpx
import pytest

from controlplane.pipeline.build import build_catalog
from controlplane.pipeline.ffmpeg import find_ffmpeg
from controlplane.pipeline.profiles import PROFILES
from controlplane.pipeline.titles import TitleSpec
from player.api import ControlPlaneClient
from player.bundled import ReadyInfo
from player.mpv_seam import create_mpv
from player.prefetch import prefetch_start
from player.session import PlaybackSession, SessionConfig
from tests.conftest import StartControlPlane
from tests.helpers.playing import fault_mid_stream, playing, until
from tests.integration.test_cli_reports import cli, one_report

pytestmark = [pytest.mark.mpv, pytest.mark.slow]


@pytest.fixture(scope="session")
def cmaf_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The content pipeline's own CMAF output (Shaka Packager: fMP4 video, separate en/es audio,
    segmented WebVTT) for one 48 s title ``long`` on the test ladder."""
    root = tmp_path_factory.mktemp("cmaf-media") / "catalog"
    test = PROFILES["test"]
    spec = TitleSpec("long", "Long Film", "CMAF test title.", 2024, ("Drama",), 48.0, "PG")
    profile = dataclasses.replace(test, name="e2e-cmaf", titles=(spec,))
    assert profile.container == "cmaf"
    build_catalog(find_ffmpeg(), profile, root, lambda _line: None)
    return root


@pytest.fixture(scope="module")
def cmaf_fleet(start_module_controlplane: StartControlPlane, cmaf_catalog: Path) -> ReadyInfo:
    return start_module_controlplane(catalog_args=("--catalog-dir", str(cmaf_catalog))).ready


FORMATS = pytest.mark.parametrize("stream_format", ["hls", "dash"])
"""The same CMAF segments described by the HLS multivariant playlist and by the DASH MPD."""
AUDIO = {"hls": ("English (en)", "Español (es)"), "dash": ("en (en)", "es (es)")}
"""The audio renditions as the report names them: HLS by EXT-X-MEDIA NAME; DASH by the
AdaptationSet's language (the packaged MPD has no Label)."""


@FORMATS
def test_the_cmaf_catalog_fails_over_on_an_edge_kill_without_a_rebuffer(
        cmaf_fleet: ReadyInfo, stream_format: str) -> None:
    try:
        session = fault_mid_stream(cmaf_fleet, {"kind": "kill"}, stream_format=stream_format)
    finally:
        _clear_faults(cmaf_fleet)
    report = session.report()
    assert report.format == stream_format and not report.format_fallback
    assert session.playback is not None and session.playback.format == stream_format
    assert report.audio_renditions == [AUDIO[stream_format][0]]
    assert session.scheduler is not None and session.scheduler.container == "fmp4"
    # CENC cbcs, its key from the ClearKey licence endpoint with the bearer token
    assert session.playback is not None and session.playback.drm == "clearkey"
    assert session.scheduler.fetcher._decryptor.cenc.cached(
        (bytes.fromhex(session.playback.raw["key_ids"][0]),)) is not None
    # the MPD names the control plane's licence endpoint as its ClearKey laurl
    licence = session.scheduler.fetcher._decryptor.licence_url
    assert licence == (session.playback.license_url if stream_format == "dash" else None)


def _clear_faults(ready: ReadyInfo) -> None:
    with httpx.Client(base_url=ready.admin_url, headers=ready.admin_headers) as client:
        for name, _ in ready.edges:
            client.delete(f"/admin/edges/{name}/faults").raise_for_status()


def _audio_fetches(ready: ReadyInfo) -> dict[str, int]:
    """Audio segments (``.m4s``) each language's rendition had fetched, over every edge."""
    counts: dict[str, int] = {}
    with httpx.Client(base_url=ready.admin_url, headers=ready.admin_headers) as client:
        for name, _ in ready.edges:
            entries = client.get(f"/admin/edges/{name}/requests?limit=1000").json()
            for entry in entries:
                parts = str(entry["path"]).split("/")
                if "audio" in parts and parts[-1].endswith(".m4s") and entry["status"] < 300:
                    language = parts[parts.index("audio") + 1]
                    counts[language] = counts.get(language, 0) + 1
    return counts


@FORMATS
def test_the_cmaf_catalog_switches_audio_language_mid_play(cmaf_fleet: ReadyInfo,
                                                           stream_format: str) -> None:
    """English plays first (DEFAULT); a switch to Spanish mid-play makes the engine fetch the
    Spanish rendition from there on, mpv play it, and the QoE report list both. Spanish
    subtitles come from the segmented WebVTT (HLS: its subtitle playlist; DASH: the MPD's
    text AdaptationSet)."""
    async def main() -> tuple[PlaybackSession, dict[str, int], dict[str, int]]:
        async with playing(cmaf_fleet, speed=4, start_over=True,
                           stream_format=stream_format) as session:
            assert session.manifest_format == stream_format
            assert session.audio_languages == ["en", "es"]
            assert session.subtitle_languages == ["en", "es"]
            await until(lambda: session.position_s >= 8.0, 20, "8 s played")
            before = _audio_fetches(cmaf_fleet)
            await session.set_audio("es")
            subtitles = await session.fetch_subtitles("es")
            assert subtitles.startswith("WEBVTT") and subtitles.count(" --> ") == 12
            assert "[00:00:28] Long Film: Espera. Algo se mueve." in subtitles
            await session.set_subtitles("es")
            assert await asyncio.wait_for(session.wait_ended(), 30) == "eof"
            return session, before, _audio_fetches(cmaf_fleet)

    session, before, after = asyncio.run(main())
    report = session.report()
    print(f"\n[e2e] audio switch: fetched before {before}, at the end {after}; "
          f"report {report.audio_renditions}")
    assert before.get("en", 0) >= 2
    # the rest of the 12 segments in Spanish (mpv may have probed one before the switch)
    assert after.get("es", 0) - before.get("es", 0) >= 6
    assert report.audio_renditions == list(AUDIO[stream_format])
    audio = [e for e in session.telemetry.events if e["type"] == "audio"]
    assert audio[-1]["language"] == "es"
    assert audio[-1]["rendition"] == AUDIO[stream_format][1].split(" (")[0]


def test_the_cli_plays_the_catalog_as_dash(cmaf_fleet: ReadyInfo, tmp_path: Path) -> None:
    """``edgeplay play TITLE --format dash``: the MPD of the same CMAF segments, CENC keys
    from the licence the MPD names; the report says DASH."""
    result = cli("play", "long", "--headless", "--json", "--duration", "3", "--format", "dash",
                 "--start-over", "--control-plane", cmaf_fleet.base_url,
                 "--data-dir", str(tmp_path))
    report = one_report(result, 0)
    assert report["format"] == "dash" and report["format_fallback"] is False
    assert report["ttff_ms"] is not None and report["played_s"] >= 2.0


@FORMATS
def test_a_prefetched_cenc_start_is_adopted(cmaf_fleet: ReadyInfo, stream_format: str) -> None:
    """The details page's prefetch of the CENC title (ClearKey licence, and the MPD when
    DASH) is adopted by Play: a prefetched start in the asked format, the first frame shown.
    The prefetch holds what the first frame needs of the default audio rendition too (its
    playlist, init segment and first segment), and Play uses every whole answer it holds."""
    stored: list[tuple[str, str]] = []

    async def main() -> PlaybackSession:
        async with ControlPlaneClient(cmaf_fleet.base_url) as cp:
            await cp.register_device(f"pre-{stream_format}-{time.time_ns()}@edgeplay.test",
                                     "edgeplay-pw", "pytest", create_account=True)
            profile = str((await cp.profiles())[0]["id"])
            config = SessionConfig(start_over=True, progress_interval_s=None,
                                   post_telemetry=False, stream_format=stream_format)
            prefetched = await prefetch_start(cp, "long", profile, config=config)
            stored.extend(prefetched.stored)
            assert prefetched.playback.format == stream_format
            mpv = create_mpv(vo="null", ao="null")
            session = PlaybackSession(cp, "long", profile, mpv, config=config,
                                      playback=prefetched)
            try:
                await session.play()
            finally:
                await session.stop()
                mpv.terminate()
            return session

    session = asyncio.run(main())
    assert "prefetched" in session.startup_ms and session.error is None
    assert session.manifest_format == stream_format
    assert session.report().ttff_ms is not None
    whole = {url for url, byte_range in stored if not byte_range}
    assert {u.rsplit("/", 1)[1] for u in whole if "/audio/en/" in u} >= {
        "init.mp4", "seg_00000.m4s"}
    assert session._replay is not None
    assert whole <= set(session._replay.replayed)
