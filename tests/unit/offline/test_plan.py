"""The layout of a download's parts: audio choice, init segments, the journal's durations."""

from __future__ import annotations

import pytest

from offline.atrest import AtRest
from offline.errors import OfflineError
from offline.plan import Layout, choose_audio, track_of
from player.manifest import parse_media_playlist
from player.presentation import AudioRendition


def _audio(name: str, language: str | None, default: bool = False) -> AudioRendition:
    return AudioRendition("aud", language, name, f"http://o/{name}.m3u8", default, True, "2")


def test_every_language_once_by_default_and_the_chosen_ones_in_order() -> None:
    offered = [_audio("en-a", "en"), _audio("en-b", "en", default=True), _audio("fr", "fr")]
    assert [r.name for r in choose_audio(offered, None)] == ["en-b", "fr"]  # the DEFAULT one
    assert [r.name for r in choose_audio(offered, ["FR", "en", "fr"])] == ["fr", "en-b"]


@pytest.mark.parametrize("asked", [["de"], ["en", "de"], [" "]])
def test_a_language_not_offered_is_refused_with_what_is(asked: list[str]) -> None:
    with pytest.raises(OfflineError) as caught:
        choose_audio([_audio("en", "en"), _audio("fr", "fr")], asked)
    assert caught.value.code == "bad_audio" and "(it offers: en, fr)" in caught.value.message


FMP4 = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:5
#EXT-X-MAP:URI="init.mp4",BYTERANGE="800@0"
#EXTINF:2,
s0.m4s
#EXTINF:2,
s1.m4s
#EXT-X-MAP:URI="init2.mp4"
#EXTINF:1.5,
s2.m4s
#EXT-X-ENDLIST
"""


def test_media_parts_first_then_each_init_segment_where_it_changes() -> None:
    playlist = parse_media_playlist(FMP4, "http://o/v/index.m3u8")
    video, after = track_of("video", "v", playlist, 0)
    audio, end = track_of("audio", "audio:en", playlist, after, _audio("en", "en", True))
    assert [m.part for m in video.media] == [0, 1, 2] and video.inits == ((3, 0), (4, 2))
    assert [m.init for m in video.media] == [3, 3, 4]
    assert (video.container, video.ext, video.encrypted, video.sealed) == (
        "fmp4", ".m4s", False, True)
    assert video.media_sequence == 5
    assert [m.part for m in audio.media] == [5, 6, 7] and audio.inits == ((8, 0), (9, 2))
    assert end == 10 and audio.language == "en" and audio.default
    layout = Layout((video, audio), separate_audio=True)
    # the journal: the video's durations; audio and init parts add no time
    assert layout.durations() == [2.0, 2.0, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert layout.find(4) == (video, None) and layout.find(6)[1] == audio.media[1]
    assert all(layout.sealed(p) for p in range(10))
    again = Layout.of({"layout": layout.to_json()}, "v", [])
    assert again == layout and again.audio == (audio,)


def test_aes128_segments_are_kept_as_served_and_old_downloads_are_one_ts_track() -> None:
    text = ('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=AES-128,URI="k",'
            'IV=0x000102030405060708090a0b0c0d0e0f\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n'
            '#EXT-X-ENDLIST\n')
    track, _ = track_of("video", "r", parse_media_playlist(text, "http://o/r/i.m3u8"), 0)
    assert track.encrypted and not track.sealed and track.iv == bytes(range(16)).hex()
    assert not Layout((track,)).sealed(1)
    legacy = Layout.of({"encrypted": True, "media_sequence": 3}, "r", [4.0, 4.0, 2.0])
    assert [m.part for m in legacy.video.media] == [0, 1, 2]
    assert legacy.video.media_sequence == 3 and not legacy.sealed(2) and not legacy.audio


def test_the_at_rest_seal_is_per_download_and_part_and_keeps_offsets() -> None:
    data = bytes(range(256)) * 40
    seal = AtRest(bytes(16), "dl_a")
    sealed = seal.apply(data, 0, 7)
    assert sealed != data and seal.apply(sealed, 0, 7) == data
    assert seal.apply(data[1000:], 1000, 7) == sealed[1000:]  # a resumed part goes on
    assert seal.apply(data, 0, 8) != sealed and AtRest(bytes(16), "dl_b").apply(
        data, 0, 7) != sealed
