"""DASH MPDs mapped into the presentation model: small MPD strings, one feature each."""

from __future__ import annotations

import asyncio
import logging
import struct
import threading
from typing import Any

import httpx
import pytest

from player import dash
from player.bounded import InputTooLarge
from player.dash import load_mpd, looks_like_mpd, mpd_to_multivariant, parse_mpd
from player.dash_index import check_template, fill_template, iso_duration_s
from player.edgepool import edges_of
from player.errors import ManifestError
from player.failover import AUDIO_PREFIX, PathwayPlaylists
from player.fmp4 import MediaFormatError
from player.sidx import parse_sidx

URL = "http://origin.test/title/manifest.mpd"


def mpd(body: str, *, duration: str = "PT8S", kind: str = "static", head: str = "") -> str:
    return (f'<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="{kind}" '
            f'xmlns:cenc="urn:mpeg:cenc:2013" mediaPresentationDuration="{duration}">{head}'
            f"{body}</MPD>")


def video_set(template: str, reps: str = "") -> str:
    reps = reps or ('<Representation id="lo" bandwidth="500000" width="320" height="180"/>'
                    '<Representation id="hi" bandwidth="1500000" width="640" height="360"/>')
    return (f'<AdaptationSet contentType="video" mimeType="video/mp4" codecs="avc1.64001e" '
            f'frameRate="25/1">{template}{reps}</AdaptationSet>')


NUMBER = ('<SegmentTemplate timescale="1000" duration="3000" startNumber="7" '
          'initialization="$RepresentationID$/init.mp4" '
          'media="$RepresentationID$/$Bandwidth$/seg-$Number%05d$.m4s"/>')


def playlist(mv, rendition: str = "lo", pathway: str | None = None):  # type: ignore[no-untyped-def]
    variant = mv.pathway(pathway or mv.default_pathway).variant(rendition)
    return mv.media[variant.uri]


def test_number_template_with_a_width_and_the_period_end() -> None:
    mv = mpd_to_multivariant(mpd(f"<Period>{video_set(NUMBER)}</Period>"), URL)
    assert mv.pathway_ids == (".",)
    low, high = mv.pathway(".").variants
    assert (low.rendition_id, low.bandwidth_bps, low.resolution) == ("lo", 500000, (320, 180))
    assert high.rendition_id == "hi" and low.frame_rate == 25.0 and low.codecs == "avc1.64001e"
    segments = playlist(mv).segments
    assert [s.uri for s in segments] == [
        f"http://origin.test/title/lo/500000/seg-{n:05d}.m4s" for n in (7, 8, 9)]
    assert [s.duration_s for s in segments] == [3.0, 3.0, 2.0]  # the last ends with the period
    assert [s.start_s for s in segments] == [0.0, 3.0, 6.0]
    assert segments[0].init is not None
    assert segments[0].init.uri == "http://origin.test/title/lo/init.mp4"
    assert playlist(mv).container == "fmp4" and playlist(mv).endlist


def test_timeline_with_time_repeats_and_a_repeat_to_the_period_end() -> None:
    template = ('<SegmentTemplate timescale="10" initialization="init-$RepresentationID$.mp4" '
                'media="$RepresentationID$-$Time$.m4s"><SegmentTimeline>'
                '<S t="0" d="20" r="1"/><S d="15"/><S d="10" r="-1"/>'
                "</SegmentTimeline></SegmentTemplate>")
    mv = mpd_to_multivariant(mpd(f"<Period>{video_set(template)}</Period>", duration="PT8.5S"),
                             URL)
    segments = playlist(mv, "hi").segments
    assert [s.uri.rsplit("/", 1)[1] for s in segments] == [
        "hi-0.m4s", "hi-20.m4s", "hi-40.m4s", "hi-55.m4s", "hi-65.m4s", "hi-75.m4s"]
    assert [s.duration_s for s in segments] == [2.0, 2.0, 1.5, 1.0, 1.0, 1.0]


def test_segment_list_with_media_ranges_in_one_file() -> None:
    rep = ('<Representation id="v" bandwidth="800000"><BaseURL>media/v.mp4</BaseURL>'
           '<SegmentList timescale="1000" duration="4000"><Initialization range="0-99"/>'
           '<SegmentURL mediaRange="100-1099"/><SegmentURL mediaRange="1100-1999"/>'
           "</SegmentList></Representation>")
    mv = mpd_to_multivariant(mpd(f"<Period>{video_set('', rep)}</Period>"), URL)
    segments = playlist(mv, "v").segments
    assert [(s.uri, s.byterange, s.duration_s) for s in segments] == [
        ("http://origin.test/title/media/v.mp4", (100, 1000), 4.0),
        ("http://origin.test/title/media/v.mp4", (1100, 900), 4.0)]
    assert segments[0].init is not None and segments[0].init.byterange == (0, 100)


def _sidx(version: int, sizes: list[int], durations: list[int], timescale: int = 1000,
          first_offset: int = 0, hierarchical: bool = False) -> bytes:
    body = struct.pack(">B3xII", version, 1, timescale)
    body += (struct.pack(">II", 0, first_offset) if version == 0
             else struct.pack(">QQ", 0, first_offset))
    body += struct.pack(">HH", 0, len(sizes))
    for size, duration in zip(sizes, durations, strict=True):
        body += struct.pack(">III", size | (1 << 31 if hierarchical else 0), duration, 0x90000000)
    return struct.pack(">I4s", 8 + len(body), b"sidx") + body


@pytest.mark.parametrize("version", [0, 1])
def test_sidx_offsets_are_absolute_after_the_box(version: int) -> None:
    data = _sidx(version, [500, 700], [2000, 1500], first_offset=10)
    index = parse_sidx(data, 300)
    assert index.timescale == 1000
    start = 300 + len(data) + 10
    assert [(s.offset, s.size, s.duration) for s in index.subsegments] == [
        (start, 500, 2000), (start + 500, 700, 1500)]


def test_sidx_refuses_a_hierarchical_index_and_garbage() -> None:
    with pytest.raises(MediaFormatError, match="hierarchical"):
        parse_sidx(_sidx(0, [5], [5], hierarchical=True), 0)
    with pytest.raises(MediaFormatError, match="no sidx"):
        parse_sidx(struct.pack(">I4s", 8, b"free"), 0)
    with pytest.raises(MediaFormatError, match="2 references but is cut short"):
        data = _sidx(0, [5, 6], [5, 6])[:-12]
        parse_sidx(struct.pack(">I", len(data)) + data[4:], 0)
    with pytest.raises(MediaFormatError):
        parse_sidx(b"\x00\x00", 0)


def test_segment_base_reads_the_sidx_from_the_index_range() -> None:
    index = _sidx(0, [4000, 3000], [2000, 1000])
    rep = (f'<Representation id="v" bandwidth="800000"><BaseURL>v.mp4</BaseURL>'
           f'<SegmentBase indexRange="900-{900 + len(index) - 1}" timescale="1000">'
           f'<Initialization range="0-899"/></SegmentBase></Representation>')
    text = mpd(f"<Period>{video_set('', rep)}</Period>", duration="PT3S")
    asked: list[tuple[str, tuple[int, int]]] = []

    async def fetch(url: str, byterange: tuple[int, int]) -> bytes:
        asked.append((url, byterange))
        return index
    assert parse_mpd(text, URL).index_requests == [
        ("http://origin.test/title/v.mp4", (900, len(index)))]
    with pytest.raises(ManifestError, match="load_mpd"):
        mpd_to_multivariant(text, URL)
    mv = asyncio.run(load_mpd(text, URL, fetch))
    assert asked == [("http://origin.test/title/v.mp4", (900, len(index)))]
    segments = playlist(mv, "v").segments
    first = 900 + len(index)
    assert [(s.byterange, s.duration_s) for s in segments] == [
        ((first, 4000), 2.0), ((first + 4000, 3000), 1.0)]
    assert segments[0].init is not None and segments[0].init.byterange == (0, 900)


def test_segment_base_index_comes_from_the_next_base_url_when_one_fails() -> None:
    index = _sidx(0, [10], [1000])
    rep = (f'<Representation id="v" bandwidth="1"><SegmentBase indexRange="100-'
           f'{100 + len(index) - 1}"/></Representation>')
    text = mpd(f"<Period>{video_set('', rep)}</Period>", duration="PT1S",
               head="<BaseURL>http://a.test/</BaseURL><BaseURL>http://b.test/</BaseURL>")

    async def fetch(url: str, byterange: tuple[int, int]) -> bytes:
        if url.startswith("http://a.test"):
            raise ManifestError("HTTP 503")
        return index
    mv = asyncio.run(load_mpd(text, URL, fetch))
    seg = playlist(mv, "v", "b.test").segments[0]
    assert seg.uri == "http://b.test/" and seg.init is not None and seg.init.byterange == (0, 100)

    async def down(url: str, byterange: tuple[int, int]) -> bytes:
        raise ManifestError("HTTP 503")
    with pytest.raises(ManifestError, match="could not be fetched: HTTP 503; HTTP 503"):
        asyncio.run(load_mpd(text, URL, down))


def test_several_base_urls_are_pathways_of_the_edge_pool() -> None:
    head = ('<BaseURL serviceLocation="edge-a">http://127.0.0.1:9001/cdn/</BaseURL>'
            "<BaseURL>http://127.0.0.1:9002/cdn/</BaseURL>")
    mv = mpd_to_multivariant(mpd(f"<Period>{video_set(NUMBER)}</Period>", head=head), URL)
    assert mv.pathway_ids == ("edge-a", "127.0.0.1:9002") and mv.default_pathway == "edge-a"
    assert edges_of(mv) == {"edge-a": "http://127.0.0.1:9001",
                            "127.0.0.1:9002": "http://127.0.0.1:9002"}
    assert playlist(mv, "hi", "127.0.0.1:9002").segments[1].uri == \
        "http://127.0.0.1:9002/cdn/hi/1500000/seg-00008.m4s"

    async def fetch(pathway: str, uri: str) -> str:
        raise AssertionError("a DASH media playlist is never fetched")
    playlists = PathwayPlaylists(mv, fetch)
    got = asyncio.run(playlists.playlist("edge-a", "lo"))
    assert got.segments[0].uri == "http://127.0.0.1:9001/cdn/lo/500000/seg-00007.m4s"
    bad = mpd(f'<Period><BaseURL>a/</BaseURL><BaseURL>b/</BaseURL><BaseURL>c/</BaseURL>'
              f"{video_set(NUMBER)}</Period>", head=head)
    with pytest.raises(ManifestError, match="Period 1 lists 3 BaseURLs but the MPD lists 2"):
        mpd_to_multivariant(bad, URL)


AUDIO = ('<AdaptationSet contentType="audio" lang="{lang}" mimeType="audio/mp4">{role}'
         '<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_'
         'configuration:2011" value="{ch}"/>'
         '<SegmentTemplate timescale="1000" duration="4000" media="a-{lang}-$Number$.m4s" '
         'initialization="a-{lang}-init.mp4"/>'
         '<Representation id="a-{lang}-lo" bandwidth="64000"/>'
         '<Representation id="a-{lang}-hi" bandwidth="128000"/></AdaptationSet>')


def test_audio_and_text_adaptation_sets_are_renditions(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "player.dash")
    sets = (video_set(NUMBER)
            + AUDIO.format(lang="fr", ch=2, role="")
            + AUDIO.format(lang="en", ch=6, role='<Role schemeIdUri="urn:mpeg:dash:role:2011" '
                                                 'value="main"/>')
            + '<AdaptationSet contentType="text" lang="en" mimeType="text/vtt">'
              '<Representation id="sub-en" bandwidth="100"><BaseURL>en.vtt</BaseURL>'
              "</Representation></AdaptationSet>"
            + '<AdaptationSet contentType="text" lang="de" mimeType="application/mp4" '
              'codecs="stpp"><Representation id="sub-de" bandwidth="100">'
              "<BaseURL>de.mp4</BaseURL></Representation></AdaptationSet>")
    mv = mpd_to_multivariant(mpd(f"<Period>{sets}</Period>"), URL)
    english, french = mv.audio_renditions()
    assert (english.language, english.channels, english.default) == ("en", "6", True)
    assert (french.language, french.channels, french.default) == ("fr", "2", False)
    assert mv.media[english.uri].segments[0].uri == "http://origin.test/title/a-en-1.m4s"
    assert mv.media[english.uri].duration_s == 8.0
    (subs,) = mv.subtitles.values()
    assert [(s.language, s.name) for s in subs] == [("en", "en")]
    assert subs[0].uri is not None
    assert [s.uri for s in mv.media[subs[0].uri].segments] == ["http://origin.test/title/en.vtt"]
    assert any("stpp" in r.getMessage() and "ignored" in r.getMessage() for r in caplog.records)
    assert any("highest bandwidth" in r.getMessage() for r in caplog.records)

    async def fetch(pathway: str, uri: str) -> str:
        raise AssertionError("never fetched")
    audio = asyncio.run(PathwayPlaylists(mv, fetch).playlist(".", AUDIO_PREFIX + "fr"))
    assert audio.segments[1].uri == "http://origin.test/title/a-fr-2.m4s"


def _period(pid: str, start: str, pto: int, reps: str = "") -> str:
    template = (f'<SegmentTemplate timescale="1000" duration="2000" presentationTimeOffset='
                f'"{pto}" media="p{pid}/$RepresentationID$-$Number$.m4s" '
                f'initialization="p{pid}/$RepresentationID$-init.mp4"/>')
    return f'<Period id="{pid}" start="{start}">{video_set(template, reps)}</Period>'


def test_periods_that_line_up_make_one_timeline() -> None:
    mv = mpd_to_multivariant(mpd(_period("a", "PT0S", 0) + _period("b", "PT4S", 4000)), URL)
    segments = playlist(mv, "hi").segments
    assert [s.uri.rsplit("/", 2)[-2:] for s in segments] == [
        ["pa", "hi-1.m4s"], ["pa", "hi-2.m4s"], ["pb", "hi-1.m4s"], ["pb", "hi-2.m4s"]]
    assert [s.start_s for s in segments] == [0.0, 2.0, 4.0, 6.0]
    assert [s.sequence for s in segments] == [0, 1, 2, 3]
    assert segments[0].init is not None and segments[0].init.uri.endswith("pa/hi-init.mp4")
    # a fragment (never sent) keeps the engine's init cache, keyed by file name, apart
    assert segments[2].init is not None and segments[2].init.uri.endswith(
        "pb/hi-init.mp4#period2")


def test_the_timeline_starts_at_zero_whatever_the_first_period_start() -> None:
    mv = mpd_to_multivariant(mpd(_period("a", "PT10S", 10000), duration="PT14S"), URL)
    assert [s.start_s for s in playlist(mv).segments] == [0.0, 2.0]


def test_periods_whose_ids_differ_line_up_by_bandwidth_rank() -> None:
    renamed = ('<Representation id="p2-hi" bandwidth="1400000" width="640" height="360"/>'
               '<Representation id="p2-lo" bandwidth="450000" width="320" height="180"/>')
    mv = mpd_to_multivariant(mpd(_period("a", "PT0S", 0) + _period("b", "PT4S", 4000, renamed)),
                             URL)
    assert [s.uri.rsplit("/", 2)[-2:] for s in playlist(mv, "hi").segments] == [
        ["pa", "hi-1.m4s"], ["pa", "hi-2.m4s"], ["pb", "p2-hi-1.m4s"], ["pb", "p2-hi-2.m4s"]]
    other_sizes = renamed.replace('width="640" height="360"', 'width="1280" height="720"')
    with pytest.raises(ManifestError, match="Period 2 does not line up"):
        mpd_to_multivariant(mpd(_period("a", "PT0S", 0) + _period("b", "PT4S", 4000,
                                                                  other_sizes)), URL)


def test_periods_that_do_not_line_up_are_refused_by_name() -> None:
    other = '<Representation id="lo" bandwidth="500000"/>'
    with pytest.raises(ManifestError, match=r"Period 2 does not line up.*missing: \['hi'\]"):
        mpd_to_multivariant(mpd(_period("a", "PT0S", 0) + _period("b", "PT4S", 4000, other)),
                            URL)
    with pytest.raises(ManifestError, match="Period 2 restarts its media time"):
        mpd_to_multivariant(mpd(_period("a", "PT0S", 0) + _period("b", "PT4S", 0)), URL)


def test_live_and_encrypted_mpds_are_refused_with_a_reason() -> None:
    with pytest.raises(ManifestError, match=r'Live DASH is not supported.*type="dynamic"'):
        mpd_to_multivariant(mpd(f"<Period>{video_set(NUMBER)}</Period>", kind="dynamic"), URL)
    protected = video_set(
        NUMBER + '<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" '
                 'value="cenc" cenc:default_KID="10000000-1000-1000-1000-100000000001"/>')
    text = mpd(f"<Period>{protected}</Period>")
    plan = parse_mpd(text, URL)  # the hook: recorded on the model
    assert [(c.value, c.default_kid) for c in plan.protection] == [
        ("cenc", "10000000-1000-1000-1000-100000000001")]

    async def fetch(url: str, byterange: tuple[int, int]) -> bytes:
        raise AssertionError
    with pytest.raises(ManifestError, match=r"encrypted .*cenc, default_KID 1000.*not supported"):
        asyncio.run(load_mpd(text, URL, fetch))
    mv = asyncio.run(load_mpd(text, URL, fetch, allow_protected=True))
    assert mv.protection == plan.protection


@pytest.mark.parametrize(("text", "message"), [
    ('<?xml version="1.0"?><!DOCTYPE MPD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
     "<MPD>&b;</MPD>", "DTD or entities"),
    ("<MPD><Period>", "not well-formed XML"),
    ("<!DOCTYPE html><html><body>Not found</body>", "not an MPD: the server sent HTML"),
    ("<feed></feed>", "not a DASH MPD"),
    (mpd(f"<Period>{video_set(NUMBER.replace('3000', 'x'))}</Period>"), "malformed attribute"),
    (mpd(f"<Period>{video_set(NUMBER.replace('$Number%05d$', '$Nope$'))}</Period>"),
     r"\$Nope\$ is not supported"),
    (mpd(f"<Period>{video_set(NUMBER)}</Period>", duration="8 seconds"), "not a duration"),
    (mpd("<Period>" + video_set('<SegmentTemplate media="$Number$"/>') + "</Period>"),
     "needs a SegmentTimeline or a duration"),
    (mpd(f"<Period>{video_set('')}</Period>"), "has no SegmentTemplate, SegmentList"),
    (mpd("<Period>" + video_set(NUMBER).replace("video/mp4", "video/webm") + "</Period>"),
     "WebM DASH is not supported"),
    (mpd("<Period></Period>"), "no video or audio adaptation set"),
    (mpd(""), "no Period"),
])
def test_malformed_mpds_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        mpd_to_multivariant(text, URL)


def test_a_timeline_of_millions_of_segments_is_refused_before_it_is_expanded() -> None:
    """Counted, never built: a trillion segments would not fit in memory."""
    huge = ('<SegmentTemplate timescale="1" media="$Number$.m4s"><SegmentTimeline>'
            '<S t="0" d="1" r="1000000000000"/></SegmentTimeline></SegmentTemplate>')
    forever = ('<SegmentTemplate timescale="1000" media="$Number$.m4s"><SegmentTimeline>'
               '<S t="0" d="1" r="-1"/></SegmentTimeline></SegmentTemplate>')
    with pytest.raises(InputTooLarge, match="1000000000001 segments, over the 30000 limit"):
        mpd_to_multivariant(mpd(f"<Period>{video_set(huge)}</Period>"), URL)
    with pytest.raises(InputTooLarge, match="360000000000 segments, over the 30000 limit"):
        mpd_to_multivariant(mpd(f"<Period>{video_set(forever)}</Period>",
                                duration="PT100000H"), URL)
    with pytest.raises(InputTooLarge, match="1200000000 segments, over the 30000 limit"):
        mpd_to_multivariant(mpd(f"<Period>{video_set(NUMBER)}</Period>",
                                duration="PT1000000H"), URL)
    with pytest.raises(InputTooLarge, match="over the 2097152 limit"):
        mpd_to_multivariant(mpd("<!--" + "x" * dash.MAX_MPD_BYTES + "-->"), URL)


def test_templates_and_durations() -> None:
    assert fill_template("$RepresentationID$/$Number%03d$-$Time$-$Bandwidth%08d$$$.m4s",
                         "v1", 12345, 7, 90000) == "v1/007-90000-00012345$.m4s"
    for bad in ("$Number", "$RepresentationID%05d$", "$Foo$"):
        with pytest.raises(ManifestError):
            check_template(bad, "here")
    assert iso_duration_s("PT1H2M3.5S", "d") == 3723.5
    assert iso_duration_s("P1DT1S", "d") == 86401.0
    assert iso_duration_s(None, "d") is None
    for bad in ("PT", "P", "-PT1S", "1S", "PTxS"):
        with pytest.raises(ManifestError):
            iso_duration_s(bad, "d")


@pytest.mark.parametrize(("body", "content_type", "dash"), [
    (b'<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">', None, True),
    (b"<?xml version='1.0'?><!-- made by x --><mpd:MPD xmlns:mpd='x'>", None, True),
    (b"#EXTM3U\n#EXT-X-VERSION:3\n", None, False),
    (b"<?xml version='1.0'?><!-- a long comment first -->", "application/dash+xml", True),
    (b"<html>MPD</html>", "text/html", False),
    (b"\xef\xbb\xbf\n  <MPD\ttype='static'>", None, True),
    (b"<!DOCTYPE html><p>an <MPD type='static'> example</p>", None, False),
    (b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://h/x<MPD >.m3u8\n", None, False),
    (b"<MPDX/>", None, False),
])
def test_dash_is_told_by_content(body: bytes, content_type: str | None, dash: bool) -> None:
    assert looks_like_mpd(body, content_type) is dash


def test_index_fetcher_cuts_the_range_from_a_server_that_ignores_it() -> None:
    from player.dash import index_fetcher
    data = bytes(range(256)) * 4

    def handler(request: httpx.Request) -> httpx.Response:
        if "ignore" in str(request.url):
            return httpx.Response(200, content=data)
        if "gone" in str(request.url):
            return httpx.Response(404)
        first, last = (int(x) for x in request.headers["Range"][6:].split("-"))
        return httpx.Response(206, content=data[first:last + 1])

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            fetch = index_fetcher(http, max_bytes=100)
            assert await fetch("http://x/ignore", (10, 20)) == data[10:30]
            assert await fetch("http://x/honour", (10, 20)) == data[10:30]
            with pytest.raises(ManifestError, match="HTTP 404"):
                await fetch("http://x/gone", (0, 10))
            with pytest.raises(InputTooLarge, match="over the 100 limit"):
                await fetch("http://x/honour", (0, 101))
    asyncio.run(main())


def test_a_large_mpd_is_read_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = "".join(f'<SegmentURL media="s{n}.m4s"/>' for n in range(4000))
    rep = (f'<Representation id="v" bandwidth="1"><SegmentList timescale="1" duration="2">'
           f"{urls}</SegmentList></Representation>")
    text = mpd(f"<Period>{video_set('', rep)}</Period>", duration="PT8000S")
    assert len(text) > dash.OFF_LOOP_BYTES
    threads: list[threading.Thread] = []
    real = dash.parse_mpd

    def spy(*args: Any, **kwargs: Any) -> dash.MpdPlan:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)
    monkeypatch.setattr(dash, "parse_mpd", spy)

    async def main() -> int:
        mv = await load_mpd(text, URL, _never)
        return len(playlist(mv, "v").segments)
    assert asyncio.run(main()) == 4000
    assert len(threads) == 1 and threads[0] is not threading.main_thread()


async def _never(url: str, byterange: tuple[int, int]) -> bytes:
    raise AssertionError("no index to fetch")


def test_without_mpegdash_hls_still_imports_and_dash_says_what_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    monkeypatch.setitem(sys.modules, "mpegdash.nodes", None)  # as if not installed
    with pytest.raises(ManifestError, match="DASH needs the mpegdash package"):
        mpd_to_multivariant(mpd(f"<Period>{video_set(NUMBER)}</Period>"), URL)


def test_webm_trick_mode_and_other_codecs_are_left_out_of_the_ladder(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "player.dash")
    webm = video_set(NUMBER, '<Representation id="vp9" bandwidth="900000"/>').replace(
        "video/mp4", "video/webm")
    trick = video_set(NUMBER, '<Representation id="trick" bandwidth="90000"/>').replace(
        "<SegmentTemplate", '<EssentialProperty schemeIdUri="http://dashif.org/guidelines/'
                            'trickmode" value="1"/><SegmentTemplate', 1)
    hevc = video_set(NUMBER, '<Representation id="h265" bandwidth="700000"/>').replace(
        "avc1.64001e", "hvc1.1.6.L93.B0")
    mv = mpd_to_multivariant(mpd(f"<Period>{webm}{hevc}{video_set(NUMBER)}{trick}</Period>"),
                             URL)
    assert [v.rendition_id for v in mv.pathway(".").variants] == ["lo", "hi"]
    logged = " | ".join(r.getMessage() for r in caplog.records)
    assert "WebM is not supported: ignored" in logged
    assert "trick-mode adaptation set: ignored" in logged
    assert "video in avc is played; representations h265 (hevc) are ignored" in logged
    only_hevc = mpd_to_multivariant(mpd(f"<Period>{webm}{hevc}</Period>"), URL)
    assert [v.rendition_id for v in only_hevc.pathway(".").variants] == ["h265"]
