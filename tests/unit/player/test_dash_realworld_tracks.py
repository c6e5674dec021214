"""Static MPDs shaped as real packagers and services write them: audio, text, protection,
profiles and XML forms (the ladder and addressing are in test_dash_realworld.py).

Each MPD is hand-written and small, modelled on a public stream or vector named in its comment.
"""

from __future__ import annotations

import asyncio
import logging
import struct

import pytest

from player.dash import load_mpd, mpd_to_multivariant, parse_mpd
from player.errors import ManifestError
from tests.unit.player.dash_mpds import (
    CLEARKEY,
    KID,
    NS,
    PLAYREADY,
    URL,
    WIDEVINE,
    audio,
    ladder,
    mpd,
    names,
    no_fetch,
    segments,
    video,
)

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
            asyncio.run(load_mpd(text, URL, no_fetch, allow_protected=allow))


def test_cenc_default_kid_with_clearkey_is_read() -> None:
    # DASH-IF ClearKey vector (dash264/TestCasesIOP41/CENC/clearkey) as Shaka Packager writes it.
    text = _protected('<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" '
                      f'value="cenc" cenc:default_KID="{KID}"/>'
                      f'<ContentProtection schemeIdUri="{CLEARKEY}" value="ClearKey1.0"/>'
                      f'<ContentProtection schemeIdUri="{WIDEVINE}"/>')
    with pytest.raises(ManifestError, match=f"encrypted.*default_KID {KID}"):
        asyncio.run(load_mpd(text, URL, no_fetch))
    mv = asyncio.run(load_mpd(text, URL, no_fetch, allow_protected=True))
    assert KID in [c.default_kid for c in mv.protection]
    assert CLEARKEY in [c.scheme_id_uri for c in mv.protection]


def test_default_kid_under_another_prefix_is_read() -> None:
    # Tools serialising with ElementTree write the CENC namespace as ns0/ns1.
    text = _protected('<ContentProtection xmlns:ns0="urn:mpeg:cenc:2013" '
                      'schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" '
                      f'ns0:default_KID="{KID}"/>')
    mv = asyncio.run(load_mpd(text, URL, no_fetch, allow_protected=True))
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
