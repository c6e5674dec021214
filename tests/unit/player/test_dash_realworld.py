"""Static MPDs shaped as real packagers and services write them, one feature each.

Each MPD is hand-written and small, modelled on a public stream or vector named in its comment
(DASH-IF test vectors at dash.akamaized.net/dash264, Akamai, Bitmovin, Unified Streaming demo
MPDs, Shaka Packager and ffmpeg output).
"""

from __future__ import annotations

import asyncio
import logging
import struct

import pytest

from player.bounded import InputTooLarge
from player.dash import load_mpd, mpd_to_multivariant, parse_mpd
from player.errors import ManifestError

URL = "https://cdn.test/vod/title/manifest.mpd"
NS = 'xmlns="urn:mpeg:dash:schema:mpd:2011"'
CENC_NS = 'xmlns:cenc="urn:mpeg:cenc:2013"'
WIDEVINE = "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
PLAYREADY = "urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95"
CLEARKEY = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
KID = "10000000-1000-1000-1000-100000000001"


def mpd(body: str, *, duration: str = "PT10S", attrs: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<MPD {NS} {CENC_NS} type="static" '
            f'profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" '
            f'mediaPresentationDuration="{duration}" {attrs}>{body}</MPD>')


def video(template: str = "", reps: str = "", attrs: str = "", inner: str = "") -> str:
    reps = reps or ('<Representation id="v1" bandwidth="400000" width="640" height="360"/>'
                    '<Representation id="v2" bandwidth="1200000" width="1280" height="720"/>')
    template = template or ('<SegmentTemplate timescale="1000" duration="4000" '
                            'initialization="$RepresentationID$/init.mp4" '
                            'media="$RepresentationID$/$Number$.m4s"/>')
    return (f'<AdaptationSet mimeType="video/mp4" codecs="avc1.4d401f" {attrs}>{inner}'
            f"{template}{reps}</AdaptationSet>")


def audio(lang: str, *, inner: str = "", template: str = "", rep_id: str = "") -> str:
    template = template or ('<SegmentTemplate timescale="48000" duration="96000" '
                            'initialization="$RepresentationID$/init.mp4" '
                            'media="$RepresentationID$/$Number$.m4s"/>')
    return (f'<AdaptationSet mimeType="audio/mp4" codecs="mp4a.40.2" lang="{lang}">{inner}'
            f'{template}<Representation id="{rep_id or "a-" + lang}" bandwidth="128000" '
            'audioSamplingRate="48000"/></AdaptationSet>')


def ladder(mv):  # type: ignore[no-untyped-def]
    return mv.pathway(mv.default_pathway).variants


def segments(mv, rendition: str):  # type: ignore[no-untyped-def]
    return mv.media[mv.pathway(mv.default_pathway).variant(rendition).uri].segments


def names(mv, rendition: str) -> list[str]:
    return [s.uri.rsplit("/", 1)[1] for s in segments(mv, rendition)]


async def _no_fetch(url: str, byterange: tuple[int, int]) -> bytes:
    raise AssertionError("no index to fetch")


# 1. Template identifiers --------------------------------------------------------------------

def test_adaptation_set_template_with_id_bandwidth_widths_and_escape() -> None:
    # Unified Streaming (demo.unified-streaming.com tears-of-steel):
    # media="tears-of-steel-$RepresentationID$-$Time$.dash"; Bitmovin's encoder writes
    # $Bandwidth$ paths and %05d numbers; $$ as in the ISO/IEC 23009-1 examples.
    template = ('<SegmentTemplate timescale="1000" duration="4000" startNumber="1" '
                'initialization="$RepresentationID$_$Bandwidth$/init.mp4" '
                'media="$RepresentationID$_$Bandwidth$/seg_$Number%05d$_$$x.m4s"/>')
    mv = mpd_to_multivariant(mpd(f"<Period>{video(template)}</Period>"), URL)
    assert [v.bandwidth_bps for v in ladder(mv)] == [400000, 1200000]
    first = segments(mv, "v2")
    assert first[0].uri == "https://cdn.test/vod/title/v2_1200000/seg_00001_$x.m4s"
    assert first[0].init is not None
    assert first[0].init.uri == "https://cdn.test/vod/title/v2_1200000/init.mp4"
    timeline = ('<SegmentTemplate timescale="90000" media="$RepresentationID$/t$Time%010d$.m4s" '
                'initialization="$RepresentationID$/i.mp4"><SegmentTimeline>'
                '<S t="0" d="360000" r="1"/><S d="180000"/></SegmentTimeline></SegmentTemplate>')
    mv = mpd_to_multivariant(mpd(f"<Period>{video(timeline)}</Period>"), URL)
    assert names(mv, "v1") == ["t0000000000.m4s", "t0000360000.m4s", "t0000720000.m4s"]


# 2. startNumber, presentationTimeOffset, timescales ----------------------------------------

@pytest.mark.parametrize("start", [0, 1, 100])
def test_start_number_other_than_one(start: int) -> None:
    # GPAC's dashers write startNumber="0"; Akamai's AMS VOD starts numbers at 1 or higher.
    template = (f'<SegmentTemplate timescale="1000" duration="4000" startNumber="{start}" '
                'media="$RepresentationID$/$Number$.m4s" initialization="i.mp4"/>')
    mv = mpd_to_multivariant(mpd(f"<Period>{video(template)}</Period>"), URL)
    assert names(mv, "v1") == [f"{start + k}.m4s" for k in range(3)]
    assert [s.duration_s for s in segments(mv, "v1")] == [4.0, 4.0, 2.0]
    ended = template.replace("/>", f' endNumber="{start + 1}"/>')
    mv = mpd_to_multivariant(mpd(f"<Period>{video(ended)}</Period>"), URL)
    assert names(mv, "v1") == [f"{start + k}.m4s" for k in range(2)]
    backwards = template.replace("/>", f' endNumber="{start - 1}"/>')
    with pytest.raises(ManifestError, match="endNumber before startNumber"):
        mpd_to_multivariant(mpd(f"<Period>{video(backwards)}</Period>"), URL)


def test_time_template_with_a_presentation_time_offset() -> None:
    # Unified Streaming's VOD-from-live archives: the timeline starts at a large t, equal to
    # presentationTimeOffset on the template; the template's timescale times the S elements.
    template = ('<SegmentTemplate timescale="10000000" presentationTimeOffset="150000000000" '
                'media="$RepresentationID$/$Time$.m4s" initialization="i.mp4"><SegmentTimeline>'
                '<S t="150000000000" d="40000000" r="1"/><S d="20000000"/>'
                "</SegmentTimeline></SegmentTemplate>")
    mv = mpd_to_multivariant(mpd(f"<Period>{video(template)}</Period>"), URL)
    assert names(mv, "v1") == ["150000000000.m4s", "150040000000.m4s", "150080000000.m4s"]
    assert [s.duration_s for s in segments(mv, "v1")] == [4.0, 4.0, 2.0]
    assert [s.start_s for s in segments(mv, "v1")] == [0.0, 4.0, 8.0]


def test_representation_template_overrides_the_adaptation_set_timescale() -> None:
    # Shaka Packager writes the template per Representation when the timescales differ.
    outer = ('<SegmentTemplate timescale="1000" duration="4000" initialization="i.mp4" '
             'media="$RepresentationID$/$Number$.m4s"/>')
    reps = ('<Representation id="v1" bandwidth="400000"/>'
            '<Representation id="v2" bandwidth="900000"><SegmentTemplate timescale="90000" '
            'duration="180000"/></Representation>')
    mv = mpd_to_multivariant(mpd(f"<Period>{video(outer, reps)}</Period>"), URL)
    assert len(segments(mv, "v1")) == 3
    assert len(segments(mv, "v2")) == 5 and segments(mv, "v2")[0].duration_s == 2.0


# 3. SegmentTimeline r="-1" and gaps ---------------------------------------------------------

def test_repeat_to_the_period_end_in_a_static_mpd() -> None:
    # DASH-IF vector "timeline with r=-1" (dash.akamaized.net/dash264/TestCasesIOP41/…):
    # the last S repeats up to the Period's end.
    template = ('<SegmentTemplate timescale="1000" media="$RepresentationID$/$Time$.m4s" '
                'initialization="i.mp4"><SegmentTimeline><S t="0" d="3000" r="-1"/>'
                "</SegmentTimeline></SegmentTemplate>")
    mv = mpd_to_multivariant(mpd(f"<Period>{video(template)}</Period>"), URL)
    assert names(mv, "v1") == ["0.m4s", "3000.m4s", "6000.m4s", "9000.m4s"]
    assert sum(s.duration_s for s in segments(mv, "v1")) == pytest.approx(12.0)
    # r="-1" in the middle repeats up to the next S@t
    middle = template.replace('r="-1"/>', 'r="-1"/><S t="7000" d="1500" r="1"/>')
    mv = mpd_to_multivariant(mpd(f"<Period>{video(middle)}</Period>"), URL)
    assert names(mv, "v1") == ["0.m4s", "3000.m4s", "6000.m4s", "7000.m4s", "8500.m4s"]
    assert [s.duration_s for s in segments(mv, "v1")] == [3.0, 3.0, 1.0, 1.5, 1.5]


def test_repeat_to_the_end_of_a_huge_period_hits_the_segment_cap() -> None:
    template = ('<SegmentTemplate timescale="1000" media="$Time$.m4s"><SegmentTimeline>'
                '<S t="0" d="1" r="-1"/></SegmentTimeline></SegmentTemplate>')
    with pytest.raises(InputTooLarge, match="over the 30000 limit"):
        mpd_to_multivariant(mpd(f"<Period>{video(template)}</Period>", duration="P365D"), URL)
    number = '<SegmentTemplate timescale="1" duration="1" media="$Number$.m4s"/>'
    with pytest.raises(InputTooLarge, match="over the 500 limit"):
        mpd_to_multivariant(mpd(f"<Period>{video(number)}</Period>", duration="PT1H"), URL,
                            max_segments=500)


def test_timeline_with_a_gap_and_an_explicit_t_later() -> None:
    # Unified Streaming writes an explicit t after a discontinuity (a missing segment).
    template = ('<SegmentTemplate timescale="1000" media="$Time$.m4s"><SegmentTimeline>'
                '<S t="0" d="2000" r="1"/><S t="6000" d="2000"/><S d="2000"/>'
                "</SegmentTimeline></SegmentTemplate>")
    mv = mpd_to_multivariant(mpd(f"<Period>{video(template)}</Period>"), URL)
    assert names(mv, "v1") == ["0.m4s", "2000.m4s", "6000.m4s", "8000.m4s"]
    assert [s.start_s for s in segments(mv, "v1")] == [0.0, 2.0, 6.0, 8.0]


# 4. BaseURL at every level -----------------------------------------------------------------

def test_base_urls_at_every_level_combine() -> None:
    # Bitmovin's and Akamai's MPDs: MPD BaseURL to a CDN folder, relative ones below it.
    reps = ('<Representation id="v1" bandwidth="400000"><BaseURL>low/</BaseURL>'
            "</Representation>"
            '<Representation id="v2" bandwidth="900000"><BaseURL>https://other.test/x/</BaseURL>'
            "</Representation>")
    body = ("<BaseURL>https://media.test/root/</BaseURL><Period><BaseURL>p1/</BaseURL>"
            f'{video(reps=reps, inner="<BaseURL>video</BaseURL>")}</Period>')
    mv = mpd_to_multivariant(mpd(body), URL)
    # "video" has no trailing slash: by RFC 3986 it names a file, so low/ joins beside it
    assert segments(mv, "v1")[0].uri == "https://media.test/root/p1/low/v1/1.m4s"
    assert segments(mv, "v2")[0].uri == "https://other.test/x/v2/1.m4s"  # absolute wins
    slashed = ("<BaseURL>https://media.test/root/</BaseURL><Period><BaseURL>p1/</BaseURL>"
               f'{video(reps=reps, inner="<BaseURL>video/</BaseURL>")}</Period>')
    assert segments(mpd_to_multivariant(mpd(slashed), URL), "v1")[0].uri == \
        "https://media.test/root/p1/video/low/v1/1.m4s"


def test_relative_urls_resolve_against_the_mpd_url_after_a_redirect() -> None:
    # dash.akamaized.net short links redirect: the final URL is the base (the session passes
    # the URL the body came from).
    final = "https://edge7.cdn.test/a/b/stream.mpd?token=1"
    mv = mpd_to_multivariant(mpd(f"<Period>{video()}</Period>"), final)
    assert segments(mv, "v1")[0].uri == "https://edge7.cdn.test/a/b/v1/1.m4s"


def test_relative_mpd_base_url_and_a_template_initialization_element() -> None:
    # Akamai's AMS writes <BaseURL>dash/</BaseURL> relative to the MPD; some encoders give
    # the template's init as an Initialization child instead of @initialization.
    template = ('<SegmentTemplate timescale="1000" duration="4000" media="$RepresentationID$/'
                '$Number$.m4s"><Initialization sourceURL="$RepresentationID$/init.mp4"/>'
                "</SegmentTemplate>")
    mv = mpd_to_multivariant(mpd(f"<BaseURL>dash/</BaseURL><Period>{video(template)}</Period>"),
                             URL)
    first = segments(mv, "v2")[0]
    assert first.uri == "https://cdn.test/vod/title/dash/v2/1.m4s"
    assert first.init is not None
    assert first.init.uri == "https://cdn.test/vod/title/dash/v2/init.mp4"


def test_remote_elements_are_refused_unless_they_resolve_to_zero() -> None:
    # DASH-IF xlink vectors (dash264/TestCasesIOP33/xlink): remote Periods.
    xlink = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
    remote = ('<Period xlink:href="https://ads.test/period.xml" xlink:actuate="onLoad"/>'
              f"<Period>{video()}</Period>")
    with pytest.raises(ManifestError, match="Period is a remote element"):
        mpd_to_multivariant(mpd(remote, attrs=xlink), URL)
    gone = remote.replace("https://ads.test/period.xml", "urn:mpeg:dash:resolve-to-zero:2013")
    mv = mpd_to_multivariant(mpd(gone, attrs=xlink), URL)
    assert len(segments(mv, "v1")) == 3


# 5. Durations ------------------------------------------------------------------------------

@pytest.mark.parametrize(("duration", "seconds", "count", "last"), [
    ("PT1H2M3.5S", 3723.5, 931, 3.5),
    ("P0DT0H10M0S", 600.0, 150, 4.0),
    ("PT0.5S", 0.5, 1, 0.5),
    ("PT9S", 9.0, 3, 1.0),
])
def test_presentation_durations_and_a_short_last_segment(duration: str, seconds: float,
                                                         count: int, last: float) -> None:
    # Bitmovin writes PT1H2M3.5S-style durations, Wowza/Elemental P0DT0H10M0S.
    mv = mpd_to_multivariant(mpd(f"<Period>{video()}</Period>", duration=duration), URL)
    segs = segments(mv, "v1")
    assert len(segs) == count and segs[-1].duration_s == pytest.approx(last)
    assert sum(s.duration_s for s in segs) == pytest.approx(seconds)


def test_period_duration_wins_over_a_missing_presentation_duration() -> None:
    text = mpd(f'<Period duration="PT6S">{video()}</Period>').replace(
        'mediaPresentationDuration="PT10S"', "")
    mv = mpd_to_multivariant(text, URL)
    assert [s.duration_s for s in segments(mv, "v1")] == [4.0, 2.0]


# 6. Several video AdaptationSets -----------------------------------------------------------

def test_trick_mode_and_unknown_essential_properties_leave_sets_out(
        caplog: pytest.LogCaptureFixture) -> None:
    # DASH-IF IOP trick-mode vector (TestCases/trickmode); an unknown EssentialProperty must
    # make the element ignored (ISO/IEC 23009-1 §5.8.4.8).
    caplog.set_level(logging.INFO, "player.dash")
    trick = video(reps='<Representation id="trick" bandwidth="50000"/>', attrs='id="9"',
                  inner='<EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode"'
                        ' value="1"/>')
    unknown = video(reps='<Representation id="future" bandwidth="3000000"/>',
                    inner='<EssentialProperty schemeIdUri="urn:example:future" value="x"/>')
    rep_unknown = ('<Representation id="v1" bandwidth="400000"/>'
                   '<Representation id="hdr" bandwidth="2000000"><EssentialProperty '
                   'schemeIdUri="urn:example:hdr-only" value="1"/></Representation>')
    known = video(inner='<EssentialProperty schemeIdUri="urn:mpeg:mpegB:cicp:TransferCharacte'
                        'ristics" value="1"/>')
    # DASH-IF thumbnail tiles: an image AdaptationSet, not video
    thumbs = ('<AdaptationSet contentType="image" mimeType="image/jpeg"><SegmentTemplate '
              'media="thumb/$Number$.jpg" duration="10" timescale="1"/><Representation '
              'id="thumbs" bandwidth="10000" width="1024" height="576"><EssentialProperty '
              'schemeIdUri="http://dashif.org/thumbnail_tile" value="4x4"/></Representation>'
              "</AdaptationSet>")
    for sets, rungs in ((video() + trick + thumbs, ["v1", "v2"]), (video() + unknown, ["v1", "v2"]),
                        (video(reps=rep_unknown), ["v1"]), (known, ["v1", "v2"])):
        mv = mpd_to_multivariant(mpd(f"<Period>{sets}</Period>"), URL)
        assert [v.rendition_id for v in ladder(mv)] == rungs
    assert any("urn:example:future" in r.getMessage() for r in caplog.records)
    only_unknown = mpd(f"<Period>{unknown}</Period>")
    with pytest.raises(ManifestError, match="urn:example:future"):
        mpd_to_multivariant(only_unknown, URL)


def test_mixed_codecs_keep_h264() -> None:
    # Bitmovin's multi-codec demo: AVC and HEVC AdaptationSets side by side.
    hevc = video(reps='<Representation id="h1" bandwidth="2000000"/>').replace(
        "avc1.4d401f", "hvc1.1.6.L93.B0")
    hev1 = video(reps='<Representation id="h2" bandwidth="2500000"/>').replace(
        "avc1.4d401f", "hev1.1.6.L93.B0")
    mv = mpd_to_multivariant(mpd(f"<Period>{hevc}{video()}{hev1}</Period>"), URL)
    assert [v.rendition_id for v in ladder(mv)] == ["v1", "v2"]
    only_hevc = mpd_to_multivariant(mpd(f"<Period>{hevc}{hev1}</Period>"), URL)
    assert [v.rendition_id for v in ladder(only_hevc)] == ["h1", "h2"]



def test_an_alternate_or_sign_language_video_set_is_not_a_rung() -> None:
    # DASH-IF IOP "multiple video adaptation sets" / HbbTV sign-language streams: a second
    # video AdaptationSet with Role alternate or sign beside the main one.
    main = video(inner='<Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>')
    sign = video(reps='<Representation id="signer" bandwidth="700000"/>',
                 inner='<Role schemeIdUri="urn:mpeg:dash:role:2011" value="sign"/>')
    angle = video(reps='<Representation id="angle2" bandwidth="900000"/>',
                  inner='<Role schemeIdUri="urn:mpeg:dash:role:2011" value="alternate"/>')
    mv = mpd_to_multivariant(mpd(f"<Period>{angle}{main}{sign}</Period>"), URL)
    assert [v.rendition_id for v in ladder(mv)] == ["v1", "v2"]
    unroled = mpd_to_multivariant(mpd(f"<Period>{video()}{angle}</Period>"), URL)
    assert [v.rendition_id for v in ladder(unroled)] == ["v1", "v2"]
    alone = mpd_to_multivariant(mpd(f"<Period>{angle}</Period>"), URL)
    assert [v.rendition_id for v in ladder(alone)] == ["angle2"]


def test_only_the_played_codec_s_indexes_are_fetched() -> None:
    # dash.js sample "hevc-arte" (DVB-DASH, arte): an avc1 and an hev1 AdaptationSet of
    # SegmentBase files; the HEVC indexes are never needed, and one that fails must not matter.
    def rep(rep_id: str, codecs: str) -> str:
        return (f'<Representation id="{rep_id}" width="384" height="216" bandwidth="2{rep_id}00"'
                f' codecs="{codecs}"><BaseURL>videos/{rep_id}.mp4</BaseURL><SegmentBase '
                'indexRange="863-2102"><Initialization range="0-862"/></SegmentBase>'
                "</Representation>")
    sets = (f'<AdaptationSet mimeType="video/mp4">{rep("1", "avc1.640014")}</AdaptationSet>'
            f'<AdaptationSet mimeType="video/mp4">{rep("7", "hev1.2.4.L63.B0")}'
            "</AdaptationSet>")
    asked = []

    async def fetch(url: str, byterange: tuple[int, int]) -> bytes:
        asked.append(url)
        if "/7.mp4" in url:
            raise ManifestError("HTTP 404")
        return struct.pack(">I4sB3xIIIIHHIII", 44, b"sidx", 0, 1, 1000, 0, 0, 0, 1,
                           1000, 10000, 0x90000000)
    mv = asyncio.run(load_mpd(mpd(f"<Period>{sets}</Period>"), URL, fetch))
    assert asked == ["https://cdn.test/vod/title/videos/1.mp4"]
    assert [v.rendition_id for v in ladder(mv)] == ["1"]


def test_repeated_representation_ids_and_missing_bandwidths() -> None:
    # dash-mpd-rs fixtures "multiple_supplementals" (the same Representation id in two video
    # sets) and "st-sl" (bandwidth="0" on the only Representation), as small generators write.
    twice = video(reps='<Representation id="v1" bandwidth="800000"/>')
    mv = mpd_to_multivariant(mpd(f"<Period>{video()}{twice}</Period>"), URL)
    ids = [v.rendition_id for v in ladder(mv)]
    assert len(ids) == len(set(ids)) == 3 and ids[0] == "v1"
    assert len({v.uri for v in ladder(mv)}) == 3
    only = video(reps='<Representation id="only" bandwidth="0"/>')
    mv = mpd_to_multivariant(mpd(f"<Period>{only}</Period>"), URL)
    assert [(v.rendition_id, v.bandwidth_bps) for v in ladder(mv)] == [("only", 0)]
    several = video(reps='<Representation id="a"/><Representation id="b" bandwidth="9"/>')
    with pytest.raises(ManifestError, match=r"Representation a has no bandwidth.*among 2"):
        mpd_to_multivariant(mpd(f"<Period>{several}</Period>"), URL)


def test_sets_without_a_mime_type_are_told_by_their_codecs() -> None:
    # Hand-edited and older encoder MPDs leave mimeType/contentType out; the codecs say enough.
    bare = video().replace('mimeType="video/mp4" ', "")
    sound = audio("en").replace('mimeType="audio/mp4" ', "")
    assert "mimeType" not in bare + sound
    mv = mpd_to_multivariant(mpd(f"<Period>{bare}{sound}</Period>"), URL)
    assert [v.rendition_id for v in ladder(mv)] == ["v1", "v2"]
    assert [a.language for a in mv.audio_renditions()] == ["en"]

# 7. Audio ----------------------------------------------------------------------------------

def test_audio_languages_main_role_channels_and_own_segment_duration() -> None:
    # DASH-IF multi-language vector (dash264/TestCasesIOP33/multipleAudio): Role main on one
    # language, AudioChannelConfiguration per set; audio segments 2 s against video 4 s.
    channels = ('<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:'
                'audio_channel_configuration:2011" value="{n}"/>')
    main = '<Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>'
    alt = '<Role schemeIdUri="urn:mpeg:dash:role:2011" value="alternate"/>'
    sets = (video() + audio("en", inner=alt + channels.format(n=2))
            + audio("de", inner=main + channels.format(n=6)))
    mv = mpd_to_multivariant(mpd(f"<Period>{sets}</Period>"), URL)
    german, english = mv.audio_renditions()
    assert (german.language, german.default, german.channels) == ("de", True, "6")
    assert (english.language, english.default, english.channels) == ("en", False, "2")
    audio_segments = mv.media[german.uri].segments
    assert len(audio_segments) == 5 and audio_segments[0].duration_s == 2.0
    assert audio_segments[0].uri == "https://cdn.test/vod/title/a-de/1.m4s"
    assert len(segments(mv, "v1")) == 3


def test_audio_in_a_codec_that_cannot_be_decoded_is_left_out() -> None:
    # Dolby's AC-4 and Fraunhofer's MPEG-H demo MPDs offer AC-4 / mhm1 beside AAC; this
    # machine's libavcodec decodes neither.
    ac4 = audio("en", rep_id="ac4").replace("mp4a.40.2", "ac-4.02.01.00")
    mpegh = audio("de", rep_id="mpegh").replace("mp4a.40.2", "mhm1.0x0D")
    mv = mpd_to_multivariant(mpd(f"<Period>{video()}{ac4}{audio('fr')}{mpegh}</Period>"), URL)
    assert [(a.language, a.default) for a in mv.audio_renditions()] == [("fr", True)]
    with pytest.raises(ManifestError, match=r"cannot decode.*ac-4\.02\.01\.00"):
        mpd_to_multivariant(mpd(f"<Period>{video()}{ac4}</Period>"), URL)


def test_a_later_period_s_one_audio_continues_though_its_language_differs() -> None:
    # DASH-IF ad-insertion test case 1 / AWS MediaTailor: the inserted Period's one audio set
    # says lang="und" (or nothing) where the content's says "eng".
    def period(pid: str, start: int, lang: str) -> str:
        template = (f'<SegmentTemplate timescale="1000" duration="2000" presentationTimeOffset='
                    f'"{start * 1000}" media="p{pid}/$RepresentationID$-$Number$.m4s"/>')
        return (f'<Period id="{pid}" start="PT{start}S">{video(template)}'
                f'{audio(lang, template=template, rep_id="a")}</Period>')
    mv = mpd_to_multivariant(mpd(period("1", 0, "eng") + period("2", 4, "und"),
                                 duration="PT8S"), URL)
    (rendition,) = mv.audio_renditions()
    assert rendition.language == "eng"
    assert [s.uri.rsplit("/", 2)[-2:] for s in mv.media[rendition.uri].segments] == [
        ["p1", "a-1.m4s"], ["p1", "a-2.m4s"], ["p2", "a-1.m4s"], ["p2", "a-2.m4s"]]
    two = period("2", 4, "und").replace("</Period>", audio("fr") + "</Period>")
    with pytest.raises(ManifestError, match="Period 2 does not line up"):
        mpd_to_multivariant(mpd(period("1", 0, "eng") + two, duration="PT8S"), URL)


UNIFIED_TOS = """<?xml version="1.0" encoding="utf-8"?>
<!-- Created with Unified Streaming Platform (version=1.11.0) -->
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="urn:mpeg:dash:schema:mpd:2011 DASH-MPD.xsd" type="static"
  mediaPresentationDuration="PT12.5S" maxSegmentDuration="PT4S" minBufferTime="PT10S"
  profiles="urn:mpeg:dash:profile:isoff-live:2011,urn:com:dashif:dash264">
  <ProgramInformation moreInformationURL="http://x"><Title>Tears</Title></ProgramInformation>
  <Location>https://cdn.test/a.mpd</Location>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="https://time.test/?iso"/>
  <Period id="1" start="PT0S">
    <EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="90000">
      <Event presentationTime="900000" duration="90000" id="1">
        <Signal xmlns="http://www.scte.org/schemas/35/2016"/></Event>
    </EventStream>
    <AdaptationSet id="1" group="1" contentType="audio" lang="en" segmentAlignment="true"
      audioSamplingRate="48000" mimeType="audio/mp4" codecs="mp4a.40.2" startWithSAP="1">
      <AudioChannelConfiguration
        schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <Label>English</Label>
      <SegmentTemplate timescale="48000" initialization="t-$RepresentationID$.dash"
        media="t-$RepresentationID$-$Time$.dash">
        <SegmentTimeline><S t="0" d="192512"/><S d="191488" r="1"/><S d="24000"/>
        </SegmentTimeline>
      </SegmentTemplate>
      <Representation id="audio_eng=128000" bandwidth="128000"/>
    </AdaptationSet>
    <AdaptationSet id="2" group="2" contentType="video" par="16:9" minBandwidth="100000"
      maxBandwidth="4482000" maxWidth="1920" maxHeight="1080" segmentAlignment="true"
      sar="1:1" frameRate="24" mimeType="video/mp4" startWithSAP="1">
      <InbandEventStream schemeIdUri="urn:mpeg:dash:event:2012" value="1"/>
      <SupplementalProperty schemeIdUri="urn:mpeg:dash:adaptation-set-switching:2016"
        value="3"/>
      <Accessibility schemeIdUri="urn:scte:dash:cc:cea-608:2015" value="CC1=eng"/>
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <SegmentTemplate timescale="12288" initialization="t-$RepresentationID$.dash"
        media="t-$RepresentationID$-$Time$.dash">
        <SegmentTimeline><S t="0" d="49152" r="2"/><S d="6144"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="video_eng=401000" bandwidth="401000" width="224" height="100"
        codecs="avc1.42C00D" scanType="progressive"/>
      <Representation id="video_eng=1000000" bandwidth="1000000" width="784" height="350"
        codecs="avc1.4D401F" scanType="progressive"/>
    </AdaptationSet>
  </Period>
</MPD>"""

def test_unified_streaming_mpd_with_events_labels_and_descriptors() -> None:
    # demo.unified-streaming.com tears-of-steel.ism/.mpd (trimmed): ProgramInformation,
    # Location, UTCTiming, an EventStream, Label elements, Accessibility, SupplementalProperty,
    # InbandEventStream; audio segments of 192512/191488 at 48 kHz against 4 s video.
    text = UNIFIED_TOS
    mv = mpd_to_multivariant(text, "https://demo.test/tos.ism/.mpd")
    assert [(v.rendition_id, v.resolution, v.frame_rate) for v in ladder(mv)] == [
        ("video_eng=401000", (224, 100), 24.0), ("video_eng=1000000", (784, 350), 24.0)]
    assert names(mv, "video_eng=401000")[1] == "t-video_eng=401000-49152.dash"
    assert len(segments(mv, "video_eng=401000")) == 4
    (english,) = mv.audio_renditions()
    assert (english.name, english.language, english.default) == ("English", "en", True)
    durations = [s.duration_s for s in mv.media[english.uri].segments]
    assert durations == pytest.approx([192512 / 48000, 191488 / 48000, 191488 / 48000, 0.5])


# 8. Text -----------------------------------------------------------------------------------

def test_vtt_sidecar_read_and_mp4_text_ignored(caplog: pytest.LogCaptureFixture) -> None:
    # Unified Streaming's tears-of-steel: a single-file WebVTT sidecar and stpp in MP4; Shaka
    # Packager writes wvtt in MP4 (codecs="wvtt").
    caplog.set_level(logging.INFO, "player.dash")
    vtt = ('<AdaptationSet mimeType="text/vtt" lang="en"><Role schemeIdUri="urn:mpeg:dash:'
           'role:2011" value="subtitle"/><Representation id="sub-en" bandwidth="256">'
           "<BaseURL>subs/en.vtt</BaseURL></Representation></AdaptationSet>")
    stpp = ('<AdaptationSet mimeType="application/mp4" codecs="stpp" lang="fr">'
            '<SegmentTemplate timescale="1000" duration="4000" media="fr/$Number$.m4s"/>'
            '<Representation id="sub-fr" bandwidth="2000"/></AdaptationSet>')
    wvtt = stpp.replace("stpp", "wvtt").replace('"fr', '"es').replace("fr/", "es/")
    ttml = ('<AdaptationSet mimeType="application/ttml+xml" lang="de"><Representation '
            'id="sub-de" bandwidth="256"><BaseURL>subs/de.ttml</BaseURL></Representation>'
            "</AdaptationSet>")
    mv = mpd_to_multivariant(mpd(f"<Period>{video()}{vtt}{stpp}{wvtt}{ttml}</Period>"), URL)
    (subs,) = mv.subtitles.values()
    assert [s.language for s in subs] == ["en"]
    assert subs[0].uri is not None
    assert [s.uri for s in mv.media[subs[0].uri].segments] == [
        "https://cdn.test/vod/title/subs/en.vtt"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "stpp" in logged and "wvtt" in logged and "ttml" in logged and "ignored" in logged


# 9. ContentProtection ----------------------------------------------------------------------

def _protected(descriptors: str) -> str:
    return mpd(f"<Period>{video(inner=descriptors)}</Period>")


def test_widevine_and_playready_only_is_refused_by_name() -> None:
    # Axinom / Bitmovin DRM demos: Widevine and PlayReady, no ClearKey.
    text = _protected(f'<ContentProtection schemeIdUri="{WIDEVINE}"/>'
                      f'<ContentProtection schemeIdUri="{PLAYREADY}" value="MSPR 2.0"/>')
    for allow in (False, True):
        with pytest.raises(ManifestError, match=r"PlayReady.*Widevine|Widevine.*PlayReady"):
            asyncio.run(load_mpd(text, URL, _no_fetch, allow_protected=allow))


def test_cenc_default_kid_with_clearkey_is_read() -> None:
    # DASH-IF ClearKey vector (dash264/TestCasesIOP41/CENC/clearkey) as Shaka Packager writes it.
    text = _protected('<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" '
                      f'value="cenc" cenc:default_KID="{KID}"/>'
                      f'<ContentProtection schemeIdUri="{CLEARKEY}" value="ClearKey1.0"/>'
                      f'<ContentProtection schemeIdUri="{WIDEVINE}"/>')
    with pytest.raises(ManifestError, match=f"encrypted.*default_KID {KID}"):
        asyncio.run(load_mpd(text, URL, _no_fetch))
    mv = asyncio.run(load_mpd(text, URL, _no_fetch, allow_protected=True))
    assert KID in [c.default_kid for c in mv.protection]
    assert CLEARKEY in [c.scheme_id_uri for c in mv.protection]


def test_default_kid_under_another_prefix_is_read() -> None:
    # Tools serialising with ElementTree write the CENC namespace as ns0/ns1.
    text = _protected('<ContentProtection xmlns:ns0="urn:mpeg:cenc:2013" '
                      'schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" '
                      f'ns0:default_KID="{KID}"/>')
    mv = asyncio.run(load_mpd(text, URL, _no_fetch, allow_protected=True))
    assert [c.default_kid for c in mv.protection] == [KID]


# 10. Live refused, on-demand profile read -------------------------------------------------

def test_dynamic_mpd_is_refused() -> None:
    # Akamai's live test stream (akamaibroadcasteruseast…/cmaf/live): type="dynamic".
    text = mpd(f"<Period>{video()}</Period>").replace('type="static"', 'type="dynamic" '
                                                      'availabilityStartTime="2020-01-01T00:00Z"')
    with pytest.raises(ManifestError, match="Live DASH is not supported"):
        mpd_to_multivariant(text, URL)


def test_on_demand_profile_with_segment_base_index_range() -> None:
    # Shaka Packager / MP4Box isoff-on-demand output: one file per Representation, sidx at
    # indexRange; the init range is given.
    sidx = struct.pack(">I4sB3xIIIIHH", 12 + 20 + 24, b"sidx", 0, 1, 1000, 0, 0, 0, 2)
    sidx += struct.pack(">III", 5000, 4000, 0x90000000) + struct.pack(">III", 3000, 2500,
                                                                      0x90000000)
    rep = ('<Representation id="v1" bandwidth="400000"><BaseURL>v1.mp4</BaseURL>'
           f'<SegmentBase indexRange="800-{800 + len(sidx) - 1}"><Initialization range="0-799"/>'
           "</SegmentBase></Representation>")
    text = mpd(f'<Period><AdaptationSet mimeType="video/mp4" codecs="avc1.4d401f">{rep}'
               "</AdaptationSet></Period>", duration="PT6.5S").replace(
        "isoff-live:2011", "isoff-on-demand:2011")
    asked = []

    async def fetch(url: str, byterange: tuple[int, int]) -> bytes:
        asked.append((url, byterange))
        return sidx
    mv = asyncio.run(load_mpd(text, URL, fetch))
    assert asked == [("https://cdn.test/vod/title/v1.mp4", (800, len(sidx)))]
    segs = segments(mv, "v1")
    assert [s.byterange for s in segs] == [(800 + len(sidx), 5000),
                                          (800 + len(sidx) + 5000, 3000)]
    assert [s.duration_s for s in segs] == [4.0, 2.5]
    assert segs[0].init is not None and segs[0].init.byterange == (0, 800)


# 11. XML forms ------------------------------------------------------------------------------

def test_prefixed_namespace_bom_declaration_and_comments() -> None:
    # Some encoders (Harmonic, older Elemental) write the MPD namespace with a prefix; Windows
    # tools add a BOM; most packagers add a generator comment after the declaration.
    plain = mpd(f"<!-- Generated by a packager --><Period>{video()}</Period>")
    prefixed = (plain.replace("<", "<mpd:").replace("<mpd:/", "</mpd:")
                .replace("<mpd:?", "<?").replace("<mpd:!--", "<!--")
                .replace(NS, 'xmlns:mpd="urn:mpeg:dash:schema:mpd:2011"'))
    assert "<mpd:MPD " in prefixed and "</mpd:Period>" in prefixed
    for text in (plain, "\ufeff" + plain, plain.encode("utf-8-sig"), prefixed,
                 prefixed.encode("utf-8-sig"), "\n\r\n  " + plain,
                 b"\xef\xbb\xbf\n" + plain.encode()):
        mv = mpd_to_multivariant(text, URL)
        assert [v.rendition_id for v in ladder(mv)] == ["v1", "v2"]
        assert names(mv, "v2") == ["1.m4s", "2.m4s", "3.m4s"]
    assert parse_mpd(prefixed, URL).pathways == (".",)
