"""The playlist parser under seeded random mutation: whatever the bytes, a parsed playlist or a
:class:`ManifestError` (the clear manifest message), never another exception."""

from __future__ import annotations

import math
import resource

import pytest

from player.errors import ManifestError
from player.manifest import parse_media_playlist, parse_multivariant
from tests.helpers.fuzz import Mutator, run
from tests.unit.player.test_manifest import BASE, edgeplay_multivariant

MEDIA = ("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n"
         "#EXT-X-PLAYLIST-TYPE:VOD\n"
         '#EXT-X-KEY:METHOD=AES-128,URI="key",IV=0x00000000000000000000000000000001\n'
         "#EXTINF:4.000000,\nseg/0.ts\n#EXT-X-BYTERANGE:1000@0\n#EXTINF:3.5,\nseg/1.ts\n"
         "#EXT-X-DISCONTINUITY\n#EXTINF:2,\nseg/2.ts\n#EXT-X-ENDLIST\n")
SEEDS = (MEDIA, edgeplay_multivariant())


def parse_both(text: str) -> None:
    for parse in (parse_media_playlist, parse_multivariant):
        try:
            parsed = parse(text, BASE)
        except ManifestError as exc:
            assert exc.message and "Traceback" not in exc.message
            continue
        except Exception as exc:
            raise AssertionError(f"{parse.__name__}: {type(exc).__name__}: {exc}") from None
        for segment in getattr(parsed, "segments", ()):
            assert math.isfinite(segment.duration_s) and segment.duration_s >= 0


@pytest.mark.parametrize("line", ["#EXTINF:nan,", "#EXTINF:inf,", "#EXTINF:-inf,",
                                  "#EXTINF:1e400,"])
def test_a_malformed_number_in_a_playlist_is_the_manifest_error(line: str) -> None:
    """LOW: ``#EXTINF:nan`` showed a raw ValueError."""
    text = MEDIA.replace("#EXTINF:3.5,", line)
    with pytest.raises(ManifestError) as caught:
        parse_media_playlist(text, BASE)
    assert "EXTINF" in caught.value.message and "line" in caught.value.message


def test_odd_digits_and_frame_rates_are_manifest_errors() -> None:
    for bad in ("BANDWIDTH=²", "FRAME-RATE=nan", "RESOLUTION=1x" + "9" * 5000):
        text = edgeplay_multivariant().replace("BANDWIDTH=3000000", bad, 1)
        with pytest.raises(ManifestError):
            parse_multivariant(text, BASE)


def test_fuzzing_the_playlist_parser_finds_nothing() -> None:
    """A bounded run in the suite (3 s, seeded); ``tests/bench/fuzz.py`` runs it for minutes."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats = run(parse_both, Mutator(seed=17), SEEDS, seconds=3.0, max_executions=20_000)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert stats.findings == []
    assert stats.executions > 100
    assert grown_kib < 100 * 1024, f"peak RSS grew by {grown_kib} KiB"
