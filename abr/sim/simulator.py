"""Play one movie over one trace with one policy, deterministically.

Accounting rules (docs/abr.md repeats them):

* Time starts at 0 at the start of the trace. Segments are fetched one at a time, back to back.
* Before each request, if the buffer plus one segment would exceed ``max_buffer_s`` the client
  idles (while playing) until it fits.
* A request waits the trace's latency (time to first byte), then its bits flow at the trace's
  bandwidth. Each downloaded segment adds ``segment_duration_s`` to the buffer.
* Playback starts once ``startup_buffer_s`` of media is buffered (default: one segment). The time
  until then is the startup delay, reported apart and not counted as rebuffering.
* After startup the buffer drains in real time; when it is empty playback stalls, and that stall
  is charged to the segment being fetched. Once a segment arrives playback resumes at once.
* Every ``progress_interval_s`` of a download the policy gets ``on_progress`` and
  ``should_abandon``. If it names a lower rung, the bytes so far are discarded (but reported as
  a sample) and that rung is fetched from scratch. The segment's stall covers both requests.
* The movie is played once; the session ends when the last segment has arrived.
"""

from __future__ import annotations

from dataclasses import dataclass

from abr.interface import AbrPolicy
from abr.sim.movie import Movie
from abr.sim.qoe import SegmentRecord, SessionQoe, summarize
from abr.sim.trace import Trace


@dataclass(frozen=True)
class SimConfig:
    max_buffer_s: float = 60.0
    """Most media the client holds, seconds. Default 60 (Pensieve)."""
    startup_buffer_s: float | None = None
    """Media needed before playback starts, seconds. Default None: one segment."""
    progress_interval_s: float = 0.5
    """How often a download in flight is reported to the policy, seconds. Default 0.5."""
    max_abandons_per_segment: int = 3
    """Abandonments allowed for one segment before the simulator ignores the policy. Default 3."""


@dataclass(frozen=True)
class SessionResult:
    policy: str
    trace: str
    movie: str
    records: tuple[SegmentRecord, ...]
    qoe: SessionQoe


def simulate(
    policy: AbrPolicy, trace: Trace, movie: Movie, config: SimConfig | None = None
) -> SessionResult:
    config = config or SimConfig()
    seg_s = movie.segment_duration_s
    startup_s = seg_s if config.startup_buffer_s is None else config.startup_buffer_s
    policy.start(
        list(movie.bitrates_bps),
        seg_s,
        movie.segment_count,
        max_buffer_s=config.max_buffer_s,
        segment_sizes_bits=movie.segment_bits,
    )
    now_s = 0.0
    buffer_s = 0.0
    playing = False
    startup_delay_s = 0.0
    records: list[SegmentRecord] = []
    top = len(movie.bitrates_bps) - 1
    for k in range(movie.segment_count):
        if playing and buffer_s + seg_s > config.max_buffer_s:
            idle_s = buffer_s + seg_s - config.max_buffer_s
            now_s += idle_s
            buffer_s -= idle_s
        rung = max(0, min(top, policy.choose(k, buffer_s, now_s).rung))
        spent_s = 0.0  # time spent on this segment so far, all requests
        abandons = 0
        while True:
            bits = movie.segment_bits[k][rung]
            total_bytes = bits // 8
            start_s = now_s + spent_s
            seconds, ttfb_s = trace.download_s(start_s, bits)
            new_rung = None
            if abandons < config.max_abandons_per_segment and rung > 0:
                elapsed_s = config.progress_interval_s
                while elapsed_s < seconds:
                    got = int(trace.bits_by(start_s, ttfb_s, elapsed_s) // 8)
                    t_s = start_s + elapsed_s
                    left_s = _buffer_after(buffer_s, spent_s + elapsed_s, playing)
                    policy.on_progress(rung, got, total_bytes, elapsed_s, t_s)
                    new_rung = policy.should_abandon(rung, got, total_bytes, elapsed_s, left_s, t_s)
                    if new_rung is not None and 0 <= new_rung < rung:
                        policy.on_download_complete(rung, got, elapsed_s, ttfb_s, t_s)
                        spent_s += elapsed_s
                        break
                    new_rung = None
                    elapsed_s += config.progress_interval_s
            if new_rung is None:
                spent_s += seconds
                policy.on_download_complete(rung, total_bytes, seconds, ttfb_s, now_s + spent_s)
                break
            rung = new_rung
            abandons += 1
        stall_s = max(spent_s - buffer_s, 0.0) if playing else 0.0
        buffer_s = _buffer_after(buffer_s, spent_s, playing) + seg_s
        now_s += spent_s
        if not playing and buffer_s >= startup_s - 1e-9:
            playing = True
            startup_delay_s = now_s
        records.append(SegmentRecord(rung, movie.bitrates_bps[rung], stall_s, spent_s, abandons))
    if not playing:  # the whole movie fits under the startup threshold
        startup_delay_s = now_s
    return SessionResult(
        policy=policy.name,
        trace=trace.name,
        movie=movie.name,
        records=tuple(records),
        qoe=summarize(records, seg_s, startup_delay_s),
    )


def _buffer_after(buffer_s: float, elapsed_s: float, playing: bool) -> float:
    return max(buffer_s - elapsed_s, 0.0) if playing else buffer_s
