"""The bridge with the real libmpv (vo=null, ao=null) on small generated MPEG-TS renditions."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from player.bridge import LoopbackBridge
from player.buffer import SegmentAborted
from player.http_loopback import HttpLimits
from player.mpv_seam import MpvError, RealMpv, Waiter, create_mpv, wait_for_first_frame
from player.segments import SegmentSourceError, SegmentStream, StaticSegments
from tests.helpers.loop_thread import LoopThread

pytestmark = pytest.mark.mpv

SEGMENT_S = 2.0
SEGMENTS = 6
RENDITIONS = {"180p": "320x180", "360p": "640x360"}
FRAME_S = 1 / 25


def make_renditions(root: Path, *, segments: int = SEGMENTS) -> dict[str, list[bytes]]:
    """Encode the renditions in parallel: same clock, closed 2 s GOPs, one segment per GOP."""
    ffmpeg = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
    duration = segments * SEGMENT_S
    jobs = {}
    for name, size in RENDITIONS.items():
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        jobs[name] = subprocess.Popen([
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={duration}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration}",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
            "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*2)",
            "-flags", "+cgop", "-c:a", "aac", "-b:a", "64k",
            "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(out / "s%d.ts"), str(out / "index.m3u8"),
        ])
    for name, job in jobs.items():
        assert job.wait(60) == 0, f"ffmpeg failed for {name}"
    return {name: [(root / name / f"s{k}.ts").read_bytes() for k in range(segments)]
            for name in RENDITIONS}


@pytest.fixture(scope="session")
def renditions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    return make_renditions(tmp_path_factory.mktemp("bridge-media"))


@contextmanager
def bridged(source: StaticSegments, **kwargs: Any) -> Iterator[LoopbackBridge]:
    with LoopThread("bridge-loop") as loop:
        bridge = LoopbackBridge(source, **kwargs)
        loop.run(bridge.start())
        try:
            yield bridge
        finally:
            loop.run(bridge.close())


@contextmanager
def real_mpv(**options: Any) -> Iterator[RealMpv]:
    player = create_mpv(**options)
    try:
        yield player
    finally:
        player.terminate()


def fast_mpv() -> Any:
    """Decode as fast as the CPU allows (no real-time clock)."""
    return real_mpv(untimed="yes", ao_null_untimed="yes")


def durations(n: int = SEGMENTS) -> list[float]:
    return [SEGMENT_S] * n


def until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def mpv_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("player.mpv") and r.levelno >= logging.ERROR]


def test_plays_the_bridge_playlist_to_the_end(renditions: dict[str, list[bytes]],
                                              caplog: pytest.LogCaptureFixture) -> None:
    source = StaticSegments(renditions["180p"], durations())
    positions: list[float] = []

    def on_position(_name: str, value: float | None) -> None:
        if value is not None:
            positions.append(value)

    with bridged(source) as bridge, fast_mpv() as player:
        player.observe("time-pos", on_position)
        end = Waiter.for_event(player, "end-file")
        wait_for_first_frame(player, bridge.url, 10.0)
        assert end.wait(20.0).reason == "eof"
    assert source.served == list(range(SEGMENTS))
    assert max(source.requests) == SEGMENTS - 1
    assert max(positions) >= (SEGMENTS - 1) * SEGMENT_S  # the last segment was played
    assert bridge.error is None and mpv_errors(caplog) == []


def test_switching_renditions_mid_stream(renditions: dict[str, list[bytes]],
                                         caplog: pytest.LogCaptureFixture) -> None:
    mixed = renditions["180p"][:3] + renditions["360p"][3:]
    source = StaticSegments(mixed, durations())
    sizes: list[tuple[int, int]] = []
    switched_at: list[float] = []

    def on_params(_name: str, value: Any) -> None:
        if value and (not sizes or sizes[-1] != (value["w"], value["h"])):
            sizes.append((value["w"], value["h"]))
            switched_at.append(player.get("time-pos") or 0.0)

    with bridged(source) as bridge, fast_mpv() as player:
        player.observe("video-params", on_params)
        end = Waiter.for_event(player, "end-file")
        wait_for_first_frame(player, bridge.url, 10.0)
        assert end.wait(20.0).reason == "eof"
    assert sizes == [(320, 180), (640, 360)]
    assert abs(switched_at[1] - 3 * SEGMENT_S) <= 0.5
    assert source.served == list(range(SEGMENTS))
    assert bridge.error is None and mpv_errors(caplog) == []


def test_exact_seek_lands_on_the_frame_and_asks_for_its_segment(
        renditions: dict[str, list[bytes]]) -> None:
    source = StaticSegments(renditions["360p"], durations())
    target_s = 9.5  # segment 4, beyond mpv's read-ahead from the start
    with bridged(source) as bridge, real_mpv() as player:
        player.set("pause", True)
        wait_for_first_frame(player, bridge.url, 10.0)
        before = len(source.requests)
        restarted = Waiter.for_event(player, "playback-restart")
        player.seek(target_s, exact=True)
        restarted.wait(10.0)
        position = player.get("time-pos")
    assert position == pytest.approx(target_s, abs=2 * FRAME_S)
    # read ahead in order from the start, then straight to the segment of the target
    wanted = int(target_s // SEGMENT_S)
    assert wanted not in source.requests[:before] and wanted in source.requests[before:]
    assert source.requests[:before] == list(range(before))


def test_slow_segment_makes_mpv_wait_not_fail(renditions: dict[str, list[bytes]],
                                              caplog: pytest.LogCaptureFixture) -> None:
    source = StaticSegments(renditions["180p"], durations(), delay_s={2: 1.0})
    stalled: list[list[int]] = []  # what was served when mpv stopped to wait

    def on_stall(_name: str, value: bool | None) -> None:
        if value:
            stalled.append(list(source.served))

    with bridged(source) as bridge, fast_mpv() as player:
        player.observe("paused-for-cache", on_stall)
        end = Waiter.for_event(player, "end-file")
        wait_for_first_frame(player, bridge.url, 10.0)
        assert end.wait(20.0).reason == "eof"
    assert source.served == list(range(SEGMENTS))  # nothing skipped
    assert [0, 1] in stalled, stalled  # mpv waited for the slow segment, then went on
    assert mpv_errors(caplog) == []


def test_source_error_ends_playback_with_a_clear_error(
        renditions: dict[str, list[bytes]]) -> None:
    source = StaticSegments(renditions["180p"], durations(), fail_at={3})
    errors: list[BaseException] = []
    with real_mpv(speed=4) as player:

        def stop(exc: BaseException) -> None:  # what the engine does: stop mpv, report exc
            errors.append(exc)
            player.command("stop")

        with bridged(source, on_error=stop) as bridge:
            end = Waiter.for_event(player, "end-file")
            wait_for_first_frame(player, bridge.url, 10.0)
            event = end.wait(15.0)
    assert event.reason == "stop"
    assert isinstance(bridge.error, SegmentSourceError) and errors == [bridge.error]
    assert "segment 3" in str(bridge.error)


def test_source_error_alone_never_hangs_mpv(renditions: dict[str, list[bytes]]) -> None:
    """Without the engine's stop, ffmpeg skips the failed positions (503 at once) to the end."""
    source = StaticSegments(renditions["180p"], durations(), fail_at={3})
    with bridged(source) as bridge, fast_mpv() as player:
        end = Waiter.for_event(player, "end-file")
        wait_for_first_frame(player, bridge.url, 10.0)
        assert end.wait(15.0).reason == "eof"
    assert source.requests[:4] == [0, 1, 2, 3] and source.served == [0, 1, 2]


def test_source_error_on_the_first_segment_fails_loading(
        renditions: dict[str, list[bytes]]) -> None:
    source = StaticSegments(renditions["180p"], durations(), fail_at={0})
    with bridged(source) as bridge, real_mpv() as player:
        with pytest.raises(MpvError, match="error"):
            wait_for_first_frame(player, bridge.url, 10.0)
        assert isinstance(bridge.error, SegmentSourceError)
        assert source.requests == [0]  # no segment-by-segment retries as separate files


def test_read_ahead_stays_within_a_few_segments_of_the_playhead(
        renditions: dict[str, list[bytes]]) -> None:
    ahead: list[int] = []

    class Measuring(StaticSegments):
        def on_request(self, index: int) -> None:
            super().on_request(index)
            position = player.get("time-pos") or 0.0
            ahead.append(index - int(position // SEGMENT_S))

    source = Measuring(renditions["180p"], durations())
    with real_mpv(speed=4) as player, bridged(source) as bridge:
        end = Waiter.for_event(player, "end-file")
        wait_for_first_frame(player, bridge.url, 10.0)
        assert end.wait(20.0).reason == "eof"
    assert len(ahead) == SEGMENTS
    # measured: 3 positions past the playhead's segment with cache-secs=2 (mpv default: all)
    assert max(ahead) <= 4, ahead


def test_resumes_after_the_bridge_closed_an_idle_connection(
        renditions: dict[str, list[bytes]], caplog: pytest.LogCaptureFixture) -> None:
    """A long pause outlives the keep-alive timeout: ffmpeg reconnects, nothing is skipped."""
    source = StaticSegments(renditions["180p"], durations())
    with bridged(source, limits=HttpLimits(idle_timeout_s=0.3)) as bridge, \
            real_mpv(speed=4) as player:
        player.set("pause", True)
        end = Waiter.for_event(player, "end-file")
        wait_for_first_frame(player, bridge.url, 10.0)
        until(lambda: bridge.idle_closed > 0, 10.0, "the bridge to close an idle connection")
        player.set("pause", False)
        assert end.wait(20.0).reason == "eof"
    assert source.served == list(range(SEGMENTS))
    assert mpv_errors(caplog) == []


class StreamingSegments(StaticSegments):
    """:class:`StaticSegments` that can also stream: ``chunk_bytes`` at a time, ``chunk_delay_s``
    apart; ``abort_at`` maps positions to a byte offset after which the *first* stream of that
    position fails (mpv's request is cut mid-body); later requests get the whole segment."""

    def __init__(self, segments: list[bytes], durations_s: list[float], *,
                 chunk_bytes: int = 188 * 64, chunk_delay_s: float = 0.0,
                 abort_at: dict[int, int] | None = None) -> None:
        super().__init__(segments, durations_s)
        self._data = segments
        self.chunk_bytes = chunk_bytes
        self.chunk_delay_s = chunk_delay_s
        self.abort_at = dict(abort_at or {})
        self.streams: list[int] = []
        self.sent: dict[int, list[tuple[float, int]]] = {}
        """Per position: (monotonic time, bytes so far) after each chunk handed over."""

    async def stream(self, index: int) -> SegmentStream:
        self.streams.append(index)
        data = self._data[index]
        abort = self.abort_at.pop(index, None)
        sent = self.sent.setdefault(index, [])

        async def chunks() -> AsyncIterator[bytes]:
            for pos in range(0, len(data), self.chunk_bytes):
                if abort is not None and pos >= abort:
                    raise SegmentAborted(f"segment {index}: corrupt after byte {pos}")
                if pos and self.chunk_delay_s:
                    await asyncio.sleep(self.chunk_delay_s)
                chunk = data[pos:pos + self.chunk_bytes]
                sent.append((time.monotonic(), pos + len(chunk)))
                if pos + len(chunk) == len(data):
                    self.served.append(index)
                yield chunk

        return SegmentStream(len(data), chunks())


def test_streamed_segments_play_and_the_first_frame_comes_before_the_last_byte(
        renditions: dict[str, list[bytes]], caplog: pytest.LogCaptureFixture) -> None:
    # ~20 ms per 12 KB chunk: the first segment trickles in over ~0.5 s (a slow edge).
    source = StreamingSegments(renditions["360p"], durations(), chunk_delay_s=0.02)
    with bridged(source) as bridge, fast_mpv() as player:
        end = Waiter.for_event(player, "end-file")
        started = time.monotonic()
        first_frame = started + wait_for_first_frame(player, bridge.url, 10.0)
        assert end.wait(30.0).reason == "eof"
    assert source.served == list(range(SEGMENTS))
    first = source.sent[0]
    assert first[-1][1] == len(renditions["360p"][0])
    assert first_frame < first[-1][0], "the first frame waited for the whole segment"
    sent_by_then = max(n for t, n in first if t <= first_frame)
    print(f"first frame after {1000 * (first_frame - started):.0f} ms with {sent_by_then} of "
          f"{len(renditions['360p'][0])} bytes sent; last byte at "
          f"{1000 * (first[-1][0] - started):.0f} ms")
    assert bridge.error is None and mpv_errors(caplog) == []


def test_a_stream_cut_mid_body_makes_ffmpeg_skip_the_rest_of_the_segment(
        renditions: dict[str, list[bytes]], caplog: pytest.LogCaptureFixture) -> None:
    """What ffmpeg's HLS demuxer does when the bridge drops a segment mid-body: it reports the
    short read, does NOT ask for the segment again, and goes on with the next one (the rest of
    the cut segment is lost, with decoder errors). Hence the engine cuts a stream only when
    it must (the rendition changed), and otherwise goes on with valid bytes."""
    source = StreamingSegments(renditions["180p"], durations(), abort_at={2: 188 * 300})
    with bridged(source) as bridge, fast_mpv() as player:
        end = Waiter.for_event(player, "end-file")
        wait_for_first_frame(player, bridge.url, 10.0)
        assert end.wait(20.0).reason == "eof"
    assert source.streams == list(range(SEGMENTS))  # segment 2 was not asked for again
    assert source.served == [0, 1, 3, 4, 5]
    assert any("Stream ends prematurely" in e for e in mpv_errors(caplog))
    assert bridge.error is None
