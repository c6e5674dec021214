"""Small hand-written MPD pieces for the real-world DASH tests."""

from __future__ import annotations

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


async def no_fetch(url: str, byterange: tuple[int, int]) -> bytes:
    raise AssertionError("no index to fetch")
