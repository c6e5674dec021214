"""The presentation model of a read MPD (:mod:`player.dash`): variants, renditions and their
media playlists per pathway, one timeline across Periods.

Each (pathway, representation) gets a synthetic URI (its base URL with a ``#dash-…`` fragment)
that names its :class:`~player.presentation.MediaPlaylist` in :attr:`Multivariant.media`; the
edge pool reads the pathway's host from it. Periods are concatenated when they line up (the
same video Representation ids, or ladders alike but for their ids, matched by bandwidth rank;
the same audio renditions in every Period; media time that runs on: ``presentationTimeOffset``
minus the Period start is the same everywhere); otherwise
:class:`~player.errors.ManifestError` names the Period. A subtitle language missing from a
Period is dropped.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from player.dash_index import RepIndex
from player.errors import ManifestError
from player.presentation import (
    AudioRendition,
    ContentProtection,
    InitSection,
    MediaPlaylist,
    Multivariant,
    Pathway,
    Segment,
    SubtitleRendition,
    Variant,
)

log = logging.getLogger("player.dash")

CONTINUITY_TOLERANCE_S = 0.1
"""How far a Period's media time may be from where the previous one ended (seconds)."""

def join_url(base: str, ref: str, where: str) -> str:
    """``urljoin``, a malformed URL as a :class:`ManifestError`."""
    try:
        joined = urljoin(base, ref.strip())
        urlsplit(joined).port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ManifestError(f"{where}: the URL {ref[:80]!r} is malformed ({exc}).") from None
    return joined



@dataclass(frozen=True)
class Track:
    """One representation as the model needs it, in one period."""

    key: str
    """What lines it up across periods: the Representation id (video), the rendition name."""
    kind: str
    """``video``, ``audio`` or ``text``."""
    rep: object
    adaptation: object
    index: RepIndex
    bases: tuple[str, ...]
    """Its base URL on each pathway."""


@dataclass(frozen=True)
class MpdPlan:
    """An MPD read and checked, its segments known except those behind a SegmentBase's
    :attr:`index_requests` (fetched by :func:`load_mpd`)."""

    url: str
    pathways: tuple[str, ...]
    periods: tuple[tuple[float, tuple[Track, ...]], ...]
    """(start in seconds, tracks) per Period."""
    protection: tuple[ContentProtection, ...]

    @property
    def index_requests(self) -> list[tuple[str, tuple[int, int]]]:
        """(URL on every pathway…, range): the first pathway's URL of each pending index."""
        out = []
        for _, tracks in self.periods:
            for track in tracks:
                if track.index.index is not None:
                    out.append((urljoin(track.bases[0], track.index.index.ref),
                                track.index.index.byterange))
        return out


def _segments(tracks: list[tuple[float, Track]], p: int, first_start_s: float) -> list[Segment]:
    """One track's segments on pathway ``p`` across the Periods; the timeline starts at 0 (the
    first Period's start)."""
    out: list[Segment] = []
    for n, (period_start, track) in enumerate(tracks):
        base = track.bases[p]
        init = track.index.init
        section = (InitSection(join_url(base, init.ref, "Initialization"), init.byterange)
                   if init is not None else None)
        if n and section is not None:
            # The engine caches init segments by file name (the same on every edge, whose paths
            # differ); a later Period's init is another file, maybe of the same name: a
            # fragment (never sent) tells them apart, so its own parameter sets are used.
            section = InitSection(f"{section.uri}#period{n + 1}", section.byterange)
        start = period_start - first_start_s
        for segment in track.index.segments:
            out.append(Segment(join_url(base, segment.ref, "segment"), segment.duration_s,
                               len(out), start, None, segment.byterange, False, section))
            start += segment.duration_s
    return out


def _playlist(segments: list[Segment]) -> MediaPlaylist:
    target = max((s.duration_s for s in segments), default=1.0)
    return MediaPlaylist(tuple(segments), float(math.ceil(target)), 0, True, "VOD")


def _synthetic(base: str, kind: str, key: str) -> str:
    return f"{base.partition('#')[0]}#dash-{kind}={key}"


def _by_rank(first: tuple[Track, ...], tracks: tuple[Track, ...]) -> tuple[Track, ...] | None:
    """``tracks`` with its video keyed as Period 1's of the same bandwidth rank, when the two
    ladders match but for their ids (as many representations, the same resolutions); None
    otherwise."""
    def ladder(of: tuple[Track, ...]) -> list[Track]:
        return sorted((t for t in of if t.kind == "video"),
                      key=lambda t: getattr(t.rep, "bandwidth", 0) or 0)

    def size(t: Track) -> tuple[object, object]:
        return getattr(t.rep, "width", None), getattr(t.rep, "height", None)
    old, new = ladder(first), ladder(tracks)
    if not new or len(old) != len(new) or any(size(a) != size(b)
                                              for a, b in zip(old, new, strict=True)):
        return None
    keys = {id(b): a.key for a, b in zip(old, new, strict=True)}
    return tuple(replace(t, key=keys[id(t)]) if id(t) in keys else t for t in tracks)


def _one_audio(first: tuple[Track, ...],
               tracks: tuple[Track, ...]) -> tuple[Track, ...] | None:
    """``tracks`` with its audio keyed as Period 1's when each Period has one audio rendition
    and their names differ (an inserted Period labels its audio ``und``, or not at all)."""
    old = [t for t in first if t.kind == "audio"]
    new = [t for t in tracks if t.kind == "audio"]
    if len(old) != 1 or len(new) != 1 or old[0].key == new[0].key:
        return None
    return tuple(replace(t, key=old[0].key) if t is new[0] else t for t in tracks)


def _line_up(plan: MpdPlan) -> dict[str, list[tuple[float, Track]]]:
    """Track key → its track in every Period, or the Period that does not line up."""
    first_start, first = plan.periods[0]
    keys = {(t.kind, t.key) for t in first if t.kind != "text"}
    text = {(t.kind, t.key) for t in first if t.kind == "text"}
    offsets = {(t.kind, t.key): t.index.pto_s - first_start for t in first}
    periods = [plan.periods[0]]
    for n, (start, tracks) in enumerate(plan.periods[1:], 2):
        these = {(t.kind, t.key) for t in tracks if t.kind != "text"}
        if these != keys and (renamed := _one_audio(first, tracks)) is not None:
            log.info("Period %d: its one audio rendition continues Period 1's (their names "
                     "differ)", n)
            tracks = renamed
            these = {(t.kind, t.key) for t in tracks if t.kind != "text"}
        if these != keys and (renamed := _by_rank(first, tracks)) is not None:
            log.info("Period %d: video representations matched to Period 1's by bandwidth "
                     "order (their ids differ)", n)
            tracks = renamed
            these = {(t.kind, t.key) for t in tracks if t.kind != "text"}
        periods.append((start, tracks))
        if these != keys:
            missing = sorted(k for _, k in keys - these)
            extra = sorted(k for _, k in these - keys)
            raise ManifestError(f"Period {n} does not line up with Period 1 (representations "
                                f"missing: {missing or 'none'}; new: {extra or 'none'}): "
                                "periods that change the ladder are not supported.")
        for track in tracks:
            offset = offsets.get((track.kind, track.key))
            if offset is not None and abs(track.index.pto_s - start - offset) > \
                    CONTINUITY_TOLERANCE_S:
                raise ManifestError(
                    f"Period {n} restarts its media time (presentationTimeOffset "
                    f"{track.index.pto_s:g} s at period start {start:g} s): periods must "
                    "continue one timeline.")
        text &= {(t.kind, t.key) for t in tracks if t.kind == "text"}
    out: dict[str, list[tuple[float, Track]]] = {}
    for start, tracks in periods:
        for track in tracks:
            if track.kind != "text" or (track.kind, track.key) in text:
                out.setdefault(f"{track.kind}:{track.key}", []).append((start, track))
    return out


def kind_of(adaptation: object, reps: list[object]) -> str:
    """``video``, ``audio``, ``text`` or what else an AdaptationSet holds."""
    content = (getattr(adaptation, "content_type", None) or "").lower()
    mime = (getattr(adaptation, "mime_type", None) or getattr(reps[0], "mime_type", None)
            or "").lower() if reps else ""
    codecs = (getattr(adaptation, "codecs", None) or getattr(reps[0], "codecs", None)
              or "").lower() if reps else ""
    if content in ("video", "audio", "text"):
        return content
    if mime.startswith(("video/", "audio/", "text/")):
        return mime.split("/")[0]
    if mime == "application/ttml+xml" or codecs.startswith(("stpp", "wvtt")):
        return "text"
    if not content and mime in ("", "application/mp4"):  # no type said: the codecs tell
        if codecs.startswith(("avc", "hvc", "hev", "av01", "vp09", "dvh")):
            return "video"
        if codecs.startswith(("mp4a", "ac-3", "ec-3", "opus", "flac", "ac-4", "mha", "mhm")):
            return "audio"
    return content or mime or "unknown"


def mime_of(adaptation: object, rep: object) -> str:
    """A Representation's mimeType (inherited from its AdaptationSet), lower case."""
    return (getattr(rep, "mime_type", None) or getattr(adaptation, "mime_type", None)
            or "").lower()


def protection_of(nodes: list[object]) -> list[ContentProtection]:
    """The ContentProtection descriptors of ``nodes`` (AdaptationSets, Representations)."""
    out = []
    for node in nodes:
        for cp in getattr(node, "content_protections", None) or []:
            out.append(ContentProtection(
                cp.scheme_id_uri or "", cp.value,
                cp.cenc_default_kid or cp.default_key_id or cp.ns2_key_id))
    return out


def codecs_of(adaptation: object, rep: object) -> str | None:
    """CODECS of a Representation (inherited from its AdaptationSet)."""
    return getattr(rep, "codecs", None) or getattr(adaptation, "codecs", None)


def _number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        num, _, den = text.partition("/")
        value = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def _channels(adaptation: object, rep: object) -> str | None:
    for node in (rep, adaptation):
        for config in getattr(node, "audio_channel_configurations", None) or []:
            if config.value and config.value.isdigit():
                return str(config.value)
    return None


_PREFERRED_CODECS = ("avc", "hevc")
"""Video codec families in the order the ladder prefers them (then the MPD's order)."""


def _family(track: Track) -> str:
    codec = (codecs_of(track.adaptation, track.rep) or "").lower().split(",")[0].split(".")[0]
    return {"avc1": "avc", "avc3": "avc", "hvc1": "hevc", "hev1": "hevc"}.get(codec, codec)


def one_codec(videos: list[Track]) -> list[Track]:
    """The video tracks of one codec family (a ladder mixes no codecs: the decoder is opened
    once): H.264 if offered, else HEVC, else the first listed; the others are logged."""
    families = list(dict.fromkeys(_family(t) for t in videos))
    if len(families) < 2:
        return videos
    chosen = next((f for f in _PREFERRED_CODECS if f in families), families[0])
    ignored = [str(getattr(t.rep, "id", t.key)) for t in videos if _family(t) != chosen]
    log.info("video in %s is played; representations %s (%s) are ignored", chosen or "?",
             ", ".join(ignored), ", ".join(f for f in families if f != chosen))
    return [t for t in videos if _family(t) == chosen]


def build_multivariant(plan: MpdPlan) -> Multivariant:
    """The presentation model of ``plan`` (every index already read)."""
    by_key = _line_up(plan)
    start_s = plan.periods[0][0]
    first_period = plan.periods[0][1]
    videos = one_codec([t for t in first_period if t.kind == "video"])
    audios = [t for t in first_period if t.kind == "audio"]
    texts = [t for t in first_period if t.kind == "text" and f"text:{t.key}" in by_key]
    ladder_kind = "video" if videos else "audio"
    ladder = videos or audios[:1]
    if not ladder:
        raise ManifestError("The MPD has no video or audio adaptation set.")
    separate = audios if videos else []
    media: dict[str, MediaPlaylist] = {}
    pathways = []
    audio: dict[str, tuple[AudioRendition, ...]] = {}
    subtitles: dict[str, tuple[SubtitleRendition, ...]] = {}
    for p, pathway in enumerate(plan.pathways):
        audio_group = f"audio/{pathway}" if separate else None
        text_group = f"subs/{pathway}" if texts else None
        variants = []
        for track in ladder:
            rep, adaptation = track.rep, track.adaptation
            uri = _synthetic(track.bases[p], "representation", track.key)
            media[uri] = _playlist(_segments(by_key[f"{ladder_kind}:{track.key}"], p, start_s))
            width, height = getattr(rep, "width", None), getattr(rep, "height", None)
            variants.append(Variant(
                track.key, pathway, int(getattr(rep, "bandwidth", 0) or 0),
                None, (width, height) if width and height else None,
                codecs_of(adaptation, rep),
                _number(getattr(rep, "frame_rate", None) or getattr(adaptation, "frame_rate",
                                                                    None)),
                uri, text_group, audio_group))
        pathways.append(Pathway(pathway, tuple(sorted(variants, key=lambda v: v.bandwidth_bps))))
        renditions = []
        mains = [t for t in separate if "main" in [
            r.value for r in getattr(t.adaptation, "roles", None) or []]]
        for track in separate:
            uri = _synthetic(track.bases[p], "audio", track.key)
            media[uri] = _playlist(_segments(by_key[f"audio:{track.key}"], p, start_s))
            renditions.append(AudioRendition(
                audio_group or "", getattr(track.adaptation, "lang", None), track.key, uri,
                track is (mains or separate)[0], True, _channels(track.adaptation, track.rep)))
        if audio_group:
            default = [r for r in renditions if r.default]
            audio[audio_group] = tuple(default + [r for r in renditions if not r.default])
        if text_group:
            subs = []
            for track in texts:
                uri = _synthetic(track.bases[p], "text", track.key)
                media[uri] = _playlist(_segments(by_key[f"text:{track.key}"], p, start_s))
                subs.append(SubtitleRendition(text_group, getattr(track.adaptation, "lang", None),
                                              track.key, uri, False, True))
            subtitles[text_group] = tuple(subs)
    return Multivariant(tuple(pathways), None, plan.pathways[0], subtitles, audio, media,
                        plan.protection)


