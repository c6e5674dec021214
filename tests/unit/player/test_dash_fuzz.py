"""The MPD reader under seeded random mutation: whatever the bytes, a model or a
:class:`ManifestError` (the clear manifest message), never another exception."""

from __future__ import annotations

import math
import resource

from player.dash import mpd_to_multivariant
from player.errors import ManifestError
from tests.helpers.fuzz import Mutator, run
from tests.unit.player.test_dash import AUDIO, NUMBER, URL, _period, mpd, video_set

TIMELINE = ('<SegmentTemplate timescale="10" initialization="i-$RepresentationID$.mp4" '
            'media="$RepresentationID$-$Time$.m4s"><SegmentTimeline><S t="0" d="20" r="1"/>'
            '<S d="15"/><S d="10" r="-1"/></SegmentTimeline></SegmentTemplate>')
LIST = ('<Representation id="v" bandwidth="800000"><BaseURL>v.mp4</BaseURL>'
        '<SegmentList timescale="1000" duration="4000"><Initialization range="0-99"/>'
        '<SegmentURL mediaRange="100-1099"/><SegmentURL mediaRange="1100-1999"/>'
        "</SegmentList></Representation>")
SEEDS = (
    mpd(f"<Period>{video_set(NUMBER)}{AUDIO.format(lang='en', ch=2, role='')}</Period>",
        head="<BaseURL>http://a.test/</BaseURL><BaseURL>http://b.test/</BaseURL>"),
    mpd(f"<Period>{video_set(TIMELINE)}</Period>", duration="PT8.5S"),
    mpd(f"<Period>{video_set('', LIST)}</Period>"),
    mpd(_period("a", "PT0S", 0) + _period("b", "PT4S", 4000)),
)


def read(text: str) -> None:
    try:
        mv = mpd_to_multivariant(text, URL, max_segments=2000)
    except ManifestError as exc:
        assert exc.message and "Traceback" not in exc.message
        return
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__}: {exc}") from None
    for playlist in mv.media.values():
        assert playlist.segments
        for segment in playlist.segments:
            assert math.isfinite(segment.duration_s) and segment.duration_s >= 0


def test_odd_digits_in_a_byte_range_are_the_manifest_error() -> None:
    """Found by the fuzzer: ``mediaRange="100²-200"`` raised a raw ValueError."""
    for bad in ("100\u00b2-1099", "\u0661-9", "1-\u00b2"):
        text = SEEDS[2].replace("100-1099", bad)
        try:
            mpd_to_multivariant(text, URL)
        except ManifestError as exc:
            assert "byte range" in exc.message
        else:
            raise AssertionError(bad)


def test_the_seeds_are_read() -> None:
    for seed in SEEDS:
        assert mpd_to_multivariant(seed, URL).media


def test_fuzzing_the_mpd_reader_finds_nothing() -> None:
    """A bounded run in the suite (3 s, seeded)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats = run(read, Mutator(seed=23), SEEDS, seconds=3.0, max_executions=5_000)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert stats.findings == []
    assert stats.executions > 100
    assert grown_kib < 100 * 1024, f"peak RSS grew by {grown_kib} KiB"
