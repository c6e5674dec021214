"""ffmpeg single-file byte-range HLS and hostile playlists, through the real engine and libmpv.

Servers: the stdlib ``http.server`` (ignores Range), one that honours Range, one that answers a
wrong Content-Range, and playlists that never end, arrive too slowly or list too many segments.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from player.bounded import InputTooLarge
from player.errors import NoEdgeError
from player.failover import FetchConfig
from player.mpv_seam import create_mpv
from player.session import PlaybackSession, SessionConfig
from tests.integration.hls_servers import (
    GAP_INDEX,
    SINGLE_DURATION_S,
    SINGLE_SEGMENT_S,
    make_single_file,
    serve,
)

pytestmark = [pytest.mark.mpv, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SEGMENTS = round(SINGLE_DURATION_S / SINGLE_SEGMENT_S)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hls-ranges")
    make_single_file(root)
    huge = ["#EXTM3U", "#EXT-X-TARGETDURATION:2"]
    for _ in range(FetchConfig().max_playlist_segments + 1):
        huge += ["#EXTINF:2.0,", "sf/all.ts"]
    (root / "huge.m3u8").write_text("\n".join([*huge, "#EXT-X-ENDLIST", ""]))
    return root


def _byteranges(media: Path) -> list[tuple[int, int]]:
    ranges = []
    for line in (media / "sf" / "index.m3u8").read_text().splitlines():
        if line.startswith("#EXT-X-BYTERANGE:"):
            length, _, offset = line.partition(":")[2].partition("@")
            ranges.append((int(offset), int(length)))
    return ranges


def _play(url: str, config: SessionConfig | None = None) -> PlaybackSession:
    async def main() -> PlaybackSession:
        mpv = create_mpv(vo="null", ao="null", untimed="yes", ao_null_untimed="yes")
        session = PlaybackSession.from_url(url, mpv, config=config or SessionConfig())
        try:
            await session.play()
            async with asyncio.timeout(60):
                assert await session.wait_ended() == "eof"
        finally:
            await session.stop()
            mpv.terminate()
        return session
    return asyncio.run(main())


def _assert_played_once_through(session: PlaybackSession, media: Path) -> None:
    assert session.error is None
    assert session.duration_s == pytest.approx(SINGLE_DURATION_S)
    assert session.scheduler is not None
    assert sorted(k for k, _, _ in session.scheduler.fetched) == list(range(SEGMENTS))
    # mpv played the file once: not the whole file per segment (6 × 12 s), not looping.
    assert (SEGMENTS - 1) * SINGLE_SEGMENT_S <= session.position_s <= SINGLE_DURATION_S + 0.5
    events = [e["type"] for e in session.telemetry.events]
    assert events[-1] == "session_end" and session.telemetry.events[-1]["reason"] == "eof"


def test_a_server_ignoring_range_sends_the_whole_file_once(media: Path) -> None:
    with serve(media, "ignore") as (base, log):
        session = _play(f"{base}/sf/index.m3u8")
    _assert_played_once_through(session, media)
    whole = log.of("/sf/all.ts")
    assert len(whole) == 1, whole  # one request for the file, answered 200 with all of it
    assert whole[0][2] == 200 and whole[0][1] is not None  # it had asked for the first range


def test_a_server_honouring_range_serves_each_segment_as_a_206(media: Path) -> None:
    with serve(media, "honour") as (base, log):
        session = _play(f"{base}/sf/index.m3u8")
    _assert_played_once_through(session, media)
    asked = {r for _, r, _ in log.of("/sf/all.ts")}
    assert {s for _, _, s in log.of("/sf/all.ts")} == {206}
    assert asked == {f"bytes={o}-{o + n - 1}" for o, n in _byteranges(media)}


def test_a_wrong_content_range_fails_the_edge_over(media: Path) -> None:
    """Two pathways: the default one answers every Range with the wrong bytes; the other is
    right. The wrong one is left (cause bad_range) and the stream plays to its end."""
    with serve(media, "wrong") as (wrong, wrong_log), serve(media, "honour") as (good, good_log):
        master = media / "two-pathways.m3u8"
        master.write_text("\n".join([
            "#EXTM3U",
            '#EXT-X-STREAM-INF:BANDWIDTH=800000,PATHWAY-ID="wrong"', f"{wrong}/sf/index.m3u8",
            '#EXT-X-STREAM-INF:BANDWIDTH=800000,PATHWAY-ID="good"', f"{good}/sf/index.m3u8",
            ""]))
        session = _play(f"{good}/two-pathways.m3u8")
    _assert_played_once_through(session, media)
    failovers = [e for e in session.telemetry.events if e["type"] == "failover"]
    assert failovers and {e["cause"] for e in failovers} == {"bad_range"}
    assert {(e["edge_from"], e["edge_to"]) for e in failovers} == {("wrong", "good")}
    assert wrong_log.of("/sf/all.ts") and good_log.of("/sf/all.ts")


def test_a_wrong_content_range_on_the_only_edge_is_an_error(media: Path) -> None:
    with serve(media, "wrong") as (base, _), pytest.raises(NoEdgeError) as caught:
        _play(f"{base}/sf/index.m3u8")
    assert "bad_range" in str(caught.value.failures) and "Content-Range" in caught.value.message


def _cli(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui.cli", "play", url, "--headless", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_the_cli_plays_single_file_hls_from_a_plain_server_to_its_end(media: Path) -> None:
    with serve(media, "ignore") as (base, log):
        result = _cli(f"{base}/sf/index.m3u8")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert report["played_s"] == pytest.approx(SINGLE_DURATION_S, abs=SINGLE_SEGMENT_S)
    assert len(log.of("/sf/all.ts")) == 1


@pytest.mark.parametrize(("path", "code", "words"), [
    ("/endless.m3u8", "manifest", "over the 8.0 MiB limit"),
    ("/huge.m3u8", "manifest", f"over the {FetchConfig().max_playlist_segments} limit"),
], ids=["endless", "huge"])
def test_the_cli_cuts_off_an_endless_or_huge_playlist_with_a_clear_error(
        media: Path, path: str, code: str, words: str) -> None:
    with serve(media, "ignore") as (base, _):
        result = _cli(f"{base}{path}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("edgeplay:")]
    assert len(errors) == 1 and words in errors[0], result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is False and report["error_code"] == code


def test_an_endless_media_playlist_behind_a_multivariant_one_is_cut_off(media: Path) -> None:
    """The media playlist comes through the fetcher (not the start-up fetch): same limit, and
    the error names the playlist, not the edges."""
    (media / "to-endless.m3u8").write_text(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nendless.m3u8\n")
    with serve(media, "ignore") as (base, _), pytest.raises(InputTooLarge, match="limit"):
        _play(f"{base}/to-endless.m3u8")


def test_a_playlist_dripped_too_slowly_is_cut_off_at_the_deadline(media: Path) -> None:
    config = SessionConfig(fetch=FetchConfig(playlist_deadline_s=0.5))
    with serve(media, "ignore") as (base, _), \
            pytest.raises(InputTooLarge, match=r"did not arrive within 0\.5 s"):
        _play(f"{base}/drip.m3u8", config)


def test_a_gap_segment_is_never_requested_and_the_timeline_stays_right(media: Path) -> None:
    """libmpv (ffmpeg's demuxer) does not know EXT-X-GAP: alone it requests the segment and
    skips it on the error. The engine never requests it and hands mpv an empty segment, which
    it skips the same way; the next segment's timestamps keep the position on the timeline."""
    with serve(media, "honour") as (base, log):
        session = _play(f"{base}/sf/gap.m3u8")
    _assert_played_once_through(session, media)
    offset, length = _byteranges(media)[GAP_INDEX]
    asked = [r for _, r, _ in log.of("/sf/all.ts")]
    assert f"bytes={offset}-{offset + length - 1}" not in asked
    assert len(asked) == SEGMENTS - 1
