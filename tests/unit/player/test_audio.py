"""Separate audio renditions: which mpv track is which, silence as an error, bridge playlists."""

from __future__ import annotations

from typing import Any

import pytest

from player.audio import AudioRoutes, AudioTrack, audio_played, expects_audio, external_aid
from player.bridge import media_playlist
from player.errors import PlayerError
from player.manifest import parse_multivariant
from player.webvtt import merge_segments

MASTER = """#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,CHANNELS="2",URI="en/a.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="French",LANGUAGE="fr",URI="fr/a.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO="aud",CODECS="avc1.64001f,mp4a.40.2"
v/index.m3u8
"""


def routes() -> AudioRoutes:
    mv = parse_multivariant(MASTER, "http://h/master.m3u8")
    return AudioRoutes([AudioTrack(None, r) for r in mv.audio_renditions()])  # type: ignore[arg-type]


def tracks(selected: int) -> list[dict[str, Any]]:
    return [{"id": 1, "type": "video", "selected": True}] + [
        {"id": i + 1, "type": "audio", "selected": i == selected,
         "external-filename": f"http://127.0.0.1:9/tok/audio/{i}/media.m3u8"} for i in range(2)]


def test_the_played_rendition_is_read_from_mpvs_track_list() -> None:
    audio = routes()
    assert audio.urls("http://127.0.0.1:9/tok/media.m3u8") == [
        "http://127.0.0.1:9/tok/audio/0/media.m3u8", "http://127.0.0.1:9/tok/audio/1/media.m3u8"]
    assert audio_played(tracks(1), audio) == {"language": "fr", "rendition": "French",
                                              "channels": None}
    assert audio_played(tracks(0), audio)["channels"] == "2"
    assert external_aid(tracks(0), 1) == 2
    with pytest.raises(PlayerError):
        external_aid(tracks(0)[:1], 1)


def test_a_stream_with_audio_but_no_audio_track_in_mpv_is_an_error() -> None:
    mv = parse_multivariant(MASTER, "http://h/master.m3u8")
    assert expects_audio(mv, separate=False)  # mp4a in CODECS
    with pytest.raises(PlayerError) as caught:
        audio_played([{"id": 1, "type": "video"}], None)
    assert caught.value.code == "audio_unplayable"
    silent = parse_multivariant(MASTER.replace(",mp4a.40.2", ""), "http://h/master.m3u8")
    assert not expects_audio(silent, separate=False)
    assert expects_audio(silent, separate=True)
    assert audio_played([{"id": 1, "type": "audio", "lang": "de"}], None) == {
        "language": "de", "rendition": "muxed"}


def test_fmp4_and_packed_audio_playlists_for_mpv() -> None:
    fmp4 = media_playlist([2.0, 1.5], "fmp4")
    assert '#EXT-X-MAP:URI="init.mp4"' in fmp4
    assert fmp4.index("#EXT-X-MAP") < fmp4.index("#EXTINF")
    assert "seg/0.m4s" in fmp4 and "seg/1.m4s" in fmp4 and "#EXT-X-VERSION:7" in fmp4
    packed = media_playlist([2.0], "packed")
    assert "seg/0.aac" in packed and "EXT-X-MAP" not in packed
    assert "seg/0.ts" in media_playlist([2.0])


def test_segmented_webvtt_merges_into_one_document() -> None:
    merged = merge_segments(["WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n",
                             "WEBVTT\nX-TIMESTAMP-MAP=LOCAL:00:00.000,MPEGTS:0\n\n"
                             "00:03.000 --> 00:04.000\nThere\n", "WEBVTT\n"])
    assert merged == ("WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n\n"
                      "00:03.000 --> 00:04.000\nThere\n")
