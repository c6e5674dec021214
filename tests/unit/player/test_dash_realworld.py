"""Static MPDs shaped as real packagers and services write them, one feature each: templates,
timelines, BaseURLs, durations and the video ladder (audio, text, protection, profiles and XML
forms are in test_dash_realworld_tracks.py; the MPD pieces in dash_mpds.py).

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
from player.dash import load_mpd, mpd_to_multivariant
from player.errors import ManifestError
from tests.unit.player.dash_mpds import (
    URL,
    audio,
    ladder,
    mpd,
    names,
    segments,
    video,
)

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
