"""Multivariant and media playlists: real-looking, plain HLS, and malformed."""

from __future__ import annotations

import pytest

from player.errors import ManifestError
from player.manifest import parse_media_playlist, parse_multivariant
from player.presentation import DEFAULT_PATHWAY, Multivariant

BASE = "http://cp.test/v1/playback/S1/master.m3u8"
EDGES = {"edge-2": "http://127.0.0.1:9002", "edge-1": "http://127.0.0.1:9001"}


def edgeplay_multivariant() -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS",
             '#EXT-X-CONTENT-STEERING:SERVER-URI="/v1/steering/S1",PATHWAY-ID="edge-2"']
    for name in EDGES:
        for lang, label in (("en", "English"), ("fr", "Français")):
            lines.append(f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs-{name}",NAME="{label}",'
                         f'LANGUAGE="{lang}",DEFAULT=NO,AUTOSELECT=YES,'
                         f'URI="/v1/playback/S1/subs/{name}/{lang}.m3u8"')
    for name, url in EDGES.items():
        for rid, bw, res in (("720p", 3000000, "1280x720"), ("360p", 1000000, "640x360")):
            lines.append(f"#EXT-X-STREAM-INF:BANDWIDTH={bw},AVERAGE-BANDWIDTH={bw * 9 // 10},"
                         f'RESOLUTION={res},CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=25.000,'
                         f'PATHWAY-ID="{name}",SUBTITLES="subs-{name}"')
            lines.append(f"{url}/v1/media/123-abc/title0/{rid}/index.m3u8")
    return "\n".join(lines) + "\n"


def test_edgeplay_multivariant() -> None:
    mv = parse_multivariant(edgeplay_multivariant(), BASE)
    assert mv.pathway_ids == ("edge-2", "edge-1")
    assert mv.steering_uri == "http://cp.test/v1/steering/S1" and mv.default_pathway == "edge-2"
    low, high = mv.pathway("edge-1").variants
    assert (low.rendition_id, high.rendition_id) == ("360p", "720p")
    assert low.bandwidth_bps == 1000000 and low.average_bandwidth_bps == 900000
    assert low.resolution == (640, 360) and low.codecs == "avc1.64001e,mp4a.40.2"
    assert low.frame_rate == 25.0 and low.subtitles_group == "subs-edge-1"
    assert low.uri == "http://127.0.0.1:9001/v1/media/123-abc/title0/360p/index.m3u8"
    subs = mv.subtitles["subs-edge-2"]
    assert [(s.language, s.name) for s in subs] == [("en", "English"), ("fr", "Français")]
    assert subs[0].uri == "http://cp.test/v1/playback/S1/subs/edge-2/en.m3u8"


def test_plain_hls_is_one_pathway_with_relative_uris() -> None:
    text = ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow/prog_index.m3u8\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=2000000\nhigh/prog_index.m3u8\n"
            '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="low/iframe.m3u8"\n')
    mv = parse_multivariant(text, "https://cdn.example/movie/master.m3u8")
    assert mv.pathway_ids == (DEFAULT_PATHWAY,) and mv.steering_uri is None
    assert mv.default_pathway == DEFAULT_PATHWAY
    variants = mv.pathway(DEFAULT_PATHWAY).variants
    assert [v.rendition_id for v in variants] == ["low", "high"]
    assert variants[1].uri == "https://cdn.example/movie/high/prog_index.m3u8"
    assert variants[1].resolution is None and variants[1].average_bandwidth_bps is None


def test_rendition_ids_fall_back_when_names_collide() -> None:
    text = ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhls/a.m3u8\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=2\nhls/b.m3u8\n")
    assert [v.rendition_id for v in parse_multivariant(text, BASE).pathways[0].variants] == \
        ["a", "b"]
    text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nindex.m3u8?x=1\n" \
           "#EXT-X-STREAM-INF:BANDWIDTH=2\nindex.m3u8?x=2\n"
    assert [v.rendition_id for v in parse_multivariant(text, BASE).pathways[0].variants] == \
        ["v0", "v1"]


def test_single_wraps_a_media_playlist_url() -> None:
    mv = Multivariant.single("https://cdn.example/live/stream.m3u8")
    assert mv.pathways[0].variants[0].uri == "https://cdn.example/live/stream.m3u8"


@pytest.mark.parametrize(("text", "message"), [
    ("", "not an M3U8"),
    ("<html>nope</html>", "not an M3U8"),
    ("#EXTM3U\n#EXT-X-VERSION:6\n", "no variants"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=5\na.m3u8\n",
     "line 2: EXT-X-STREAM-INF has no BANDWIDTH"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=x5\na.m3u8\n", "BANDWIDTH must be a whole number"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5\n#EXT-X-STREAM-INF:BANDWIDTH=6\nb.m3u8\n",
     "line 2: EXT-X-STREAM-INF has no URI"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5\n", "has no URI"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5,RESOLUTION=big\na.m3u8\n", "not WxH"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5,CODECS=\"x\nb\n", "attributes"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\ns.ts\n",
     "media playlist, not a multivariant"),
    ("#EXTM3U\n#EXT-X-CONTENT-STEERING:PATHWAY-ID=\"a\"\n#EXT-X-STREAM-INF:BANDWIDTH=5\na.m3u8",
     "no SERVER-URI"),
])
def test_malformed_multivariant(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_multivariant(text, BASE)


MEDIA = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-KEY:METHOD=AES-128,URI="http://cp.test/v1/licenses/streaming/title0"
#EXTINF:4.000,
seg_00000.ts
#EXTINF:4.000,
seg_00001.ts
#EXTINF:2.5,
seg_00002.ts
#EXT-X-ENDLIST
"""
MEDIA_URI = "http://127.0.0.1:9001/v1/media/tok/title0/360p/index.m3u8"


def test_edgeplay_media_playlist() -> None:
    pl = parse_media_playlist(MEDIA, MEDIA_URI)
    assert pl.target_duration_s == 4.0 and pl.media_sequence == 7 and pl.endlist
    assert pl.playlist_type == "VOD" and pl.duration_s == 10.5
    assert [s.sequence for s in pl.segments] == [7, 8, 9]
    assert [s.start_s for s in pl.segments] == [0.0, 4.0, 8.0]
    assert pl.segments[1].uri == "http://127.0.0.1:9001/v1/media/tok/title0/360p/seg_00001.ts"
    key = pl.key
    assert key is not None and key.method == "AES-128" and key.iv is None
    assert key.uri == "http://cp.test/v1/licenses/streaming/title0"
    assert key.iv_for(9) == (9).to_bytes(16, "big")
    assert pl.segment_at(5.0).sequence == 8 and pl.segment_at(99).sequence == 9


def test_clear_playlist_with_iv_byteranges_and_discontinuity() -> None:
    text = ("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\nall.ts\n#EXT-X-BYTERANGE:100@0\n"
            '#EXT-X-KEY:METHOD=AES-128,URI="k.bin",IV=0x0000000000000000000000000000002A\n'
            "#EXT-X-DISCONTINUITY\n#EXTINF:6,\n#EXT-X-BYTERANGE:50\nall.ts\n"
            "#EXT-X-KEY:METHOD=NONE\n#EXTINF:1,\nlast.ts\n#EXT-X-ENDLIST\n")
    pl = parse_media_playlist(text, "https://cdn.example/a/index.m3u8")
    first, second, third = pl.segments
    assert first.key is None and first.byterange is None
    assert second.byterange == (100, 50) and second.discontinuity
    assert second.key is not None and second.key.iv == (42).to_bytes(16, "big")
    assert second.key.uri == "https://cdn.example/a/k.bin" and third.key is None


CLEARKEY = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
WIDEVINE = "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"


def _cenc_media(*keys: str) -> str:
    return ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n"
            + "".join(f"#EXT-X-KEY:{k}\n" for k in keys) + "#EXTINF:4,\ns1.m4s\n#EXT-X-ENDLIST\n")


def test_sample_aes_keys_map_to_cenc_with_the_clearkey_licence_url() -> None:
    pl = parse_media_playlist(_cenc_media(
        f'METHOD=SAMPLE-AES,URI="https://drm.example/wv",KEYFORMAT="{WIDEVINE}"',
        f'METHOD=SAMPLE-AES,URI="/licence?t=1",KEYFORMAT="{CLEARKEY}",KEYFORMATVERSIONS="1"',
    ), MEDIA_URI)
    key = pl.segments[0].key
    assert key is not None and key.cenc and key.method == "SAMPLE-AES"
    assert key.keyformat == CLEARKEY and key.uri == "http://127.0.0.1:9001/licence?t=1"
    assert pl.container == "fmp4"
    # Widevine alone: still CENC (the keys must come from elsewhere, e.g. --key)
    only_wv = parse_media_playlist(_cenc_media(
        f'METHOD=SAMPLE-AES-CTR,URI="https://drm.example/wv",KEYFORMAT="{WIDEVINE}"'), MEDIA_URI)
    assert only_wv.key is not None and only_wv.key.cenc and only_wv.key.uri == ""
    # Shaka Packager's identity line carries the KID in a data: URI: not a key
    shaka = parse_media_playlist(_cenc_media(
        'METHOD=SAMPLE-AES,URI="data:text/plain;base64,ASNFZ4mrze8BI0VniavN7w==",'
        'IV=0x68c0f198a3dd530beb0fe25905396df2,KEYFORMAT="identity"'), MEDIA_URI)
    assert shaka.key is not None and shaka.key.cenc and shaka.key.uri == ""
    aes = parse_media_playlist(MEDIA, MEDIA_URI).key
    assert aes is not None and not aes.cenc and aes.keyformat == "identity"


@pytest.mark.parametrize(("text", "message"), [
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\ns.ts\n#EXT-X-ENDLIST\n", "has no EXTINF"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:four,\ns.ts\n#EXT-X-ENDLIST\n", "not a number"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=AES-256,URI=\"k\"\n#EXTINF:4,\n"
     "s.ts\n#EXT-X-ENDLIST\n", "METHOD=AES-256 is not supported"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=AES-128\n", "needs a URI"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=12\n",
     "128-bit hex"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\ns.ts\n", "Live playlists are not supported"),
    ("#EXTM3U\n#EXTINF:4,\ns.ts\n#EXT-X-ENDLIST\n", "no EXT-X-TARGETDURATION"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-ENDLIST\n", "no segments"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n#EXT-X-ENDLIST\n", "no segment URI"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", "multivariant playlist, not a media"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:BYTERANGE=\"1@0\"\n", "EXT-X-MAP needs a URI"),
    ("not a playlist", "not an M3U8"),
])
def test_malformed_media_playlist(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_media_playlist(text, MEDIA_URI)


FMP4 = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="all.mp4",BYTERANGE="1354@0"
#EXTINF:2.0,
#EXT-X-BYTERANGE:27370@1354
all.mp4
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="other/init.mp4"
#EXTINF:2.0,
other/s1.m4s
#EXT-X-ENDLIST
"""


def test_fragmented_mp4_init_sections_with_byte_ranges() -> None:
    playlist = parse_media_playlist(FMP4, "http://h/v/index.m3u8")
    first, second = playlist.segments
    assert playlist.container == "fmp4"
    assert first.init is not None and first.init.uri == "http://h/v/all.mp4"
    assert first.init.byterange == (0, 1354)
    assert first.byterange == (1354, 27370)
    assert second.init is not None and second.init.uri == "http://h/v/other/init.mp4"
    assert second.init.byterange is None and second.discontinuity


def test_packed_audio_segments_are_recognised_by_extension() -> None:
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\ns0.aac\n#EXT-X-ENDLIST\n"
    assert parse_media_playlist(text, "http://h/a.m3u8").container == "packed"
    assert parse_media_playlist(text.replace(".aac", ".ts"), "http://h/a.m3u8").container == "ts"


def test_audio_renditions_are_parsed_per_group() -> None:
    text = """#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="en/index.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="French",LANGUAGE="fr",URI="fr/index.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="muxed",NAME="Main",LANGUAGE="en"
#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO="aud"
v/index.m3u8
"""
    mv = parse_multivariant(text, "http://h/master.m3u8")
    english, french = mv.audio_renditions()
    assert (english.language, english.default, english.autoselect, english.channels) == (
        "en", True, True, "2")
    assert english.uri == "http://h/en/index.m3u8"
    assert (french.language, french.default) == ("fr", False)
    assert mv.audio["muxed"][0].uri is None
