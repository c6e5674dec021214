"""DASH: a static MPD mapped into the engine's one presentation model (:mod:`player.manifest`).

The MPD is read with ``mpegdash`` (its typed node classes over ``xml.dom.minidom``), never with
its ``MPEGDASHParser.parse``, which would open a URL or a file for text without ``<MPD``. What
maps to what:

- each video Representation (of one codec family; WebM and trick-mode sets, and elements with
  an ``EssentialProperty`` not understood, left out: :mod:`player.dash_props`) → a
  :class:`~player.presentation.Variant` (rendition id = the Representation id), its segments
  (:mod:`player.dash_index`) → a :class:`~player.presentation.MediaPlaylist` in
  :attr:`Multivariant.media`, so nothing more is fetched except a ``SegmentBase``'s ``sidx``
  (:func:`load_mpd`);
- each audio AdaptationSet → an :class:`~player.presentation.AudioRendition` (language, channels
  from ``AudioChannelConfiguration``; its highest-bandwidth Representation); WebVTT text
  AdaptationSets → :class:`~player.presentation.SubtitleRendition` (TTML/``stpp`` and WebVTT in MP4
  are ignored with a log line);
- several BaseURLs (at the MPD or Period level) → one pathway each (the edge pool fails over
  between them), named by ``serviceLocation`` or the host;
- several Periods → one timeline, when every Period has the same video ladder and audio
  renditions and the media time runs on (:mod:`player.dash_model`); otherwise refused, naming
  the Period;
- ContentProtection → :attr:`Multivariant.protection` (scheme, ``default_KID``, and the
  ClearKey licence URL of a ``dashif:laurl``/``clearkey:Laurl`` child, which the session asks
  for keys it was not given): :func:`load_mpd` refuses an encrypted MPD unless its caller
  decrypts (``allow_protected``), and even then one with DRM systems only (no ``default_KID``,
  no ClearKey), naming them.

Refused with a :class:`~player.errors.ManifestError` that says why: ``type="dynamic"`` (live),
a DTD or entity declaration (entity bombs: an MPD never needs one), remote (``xlink``)
elements, WebM only, audio only in codecs that cannot be decoded, malformed XML or attributes,
an MPD over :data:`MAX_MPD_BYTES` and a Representation over the segment-count limit.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from player.bounded import InputTooLarge
from player.dash_fetch import FetchRange, index_fetcher
from player.dash_index import (
    IndexRequest,
    InitRef,
    Levels,
    RepIndex,
    SegmentRef,
    base_index,
    list_index,
    period_bounds,
    template_index,
    with_sidx,
)
from player.dash_laurl import licence_urls, with_licence_url
from player.dash_model import (
    MpdPlan,
    Track,
    build_multivariant,
    codecs_of,
    join_url,
    kind_of,
    mime_of,
    one_codec,
    protection_of,
)
from player.dash_pathways import Pathways
from player.dash_props import (
    check_protection,
    is_secondary_video,
    is_trick_mode,
    prepare,
    roles,
    undecodable_audio,
    unknown_essential,
)
from player.errors import ManifestError
from player.fmp4 import MediaFormatError
from player.presentation import ContentProtection, Multivariant
from player.sidx import parse_sidx
from player.sniff import describe_body

log = logging.getLogger("player.dash")

DASH_CONTENT_TYPE = "application/dash+xml"
MAX_MPD_BYTES = 2 * 1024 * 1024
"""Largest MPD parsed (bytes; default 2 MiB): parsed, an MPD takes about 35 times its size in
memory (docs/engine.md, *DASH*)."""
DEFAULT_MAX_SEGMENTS = 30_000
"""Most segments one representation may expand to (count), as for an HLS media playlist."""

_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


_MPD_ELEMENT = re.compile(rb"<([A-Za-z_][\w.-]*:)?MPD[\s>/]")


def looks_like_mpd(body: bytes | str, content_type: str | None = None) -> bool:
    """DASH by content: the ``application/dash+xml`` type, or an XML body whose first 2 KB
    open an ``MPD`` element (``<MPD``, ``<mpd:MPD``)."""
    if content_type and content_type.split(";")[0].strip().lower() == DASH_CONTENT_TYPE:
        return True
    head = body[:2048] if isinstance(body, bytes) else body[:2048].encode("utf-8", "replace")
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head.startswith(b"<") or head[:14].lower().startswith((b"<!doctype html", b"<html")):
        return False
    return _MPD_ELEMENT.search(head) is not None


def _read(text: str | bytes, url: str = "") -> tuple[Any, tuple[str, ...]]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    # a BOM, then blank lines before the XML declaration (some servers' templates): tolerated
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if len(data) > MAX_MPD_BYTES:
        raise InputTooLarge(f"The MPD is {len(data)} bytes, over the {MAX_MPD_BYTES} limit.")
    if _DTD.search(data):
        if not looks_like_mpd(data):
            raise ManifestError(f"The DASH manifest is not an MPD: the server sent "
                                f"{describe_body(data)}.")
        raise ManifestError("The MPD declares a DTD or entities (<!DOCTYPE/<!ENTITY), which an "
                            "MPD never needs: refused (entity expansion).")
    try:
        root = minidom.parseString(data)
    except ExpatError as exc:
        if not looks_like_mpd(data):  # served as DASH, but what is it?
            raise ManifestError(f"The DASH manifest is not an MPD: the server sent "
                                f"{describe_body(data)}.") from None
        raise ManifestError(f"The MPD is not well-formed XML ({exc}).") from None
    try:
        # imported here: HLS plays without it (an install that lacks it says so, below)
        from mpegdash.nodes import MPEGDASH
        from mpegdash.utils import parse_child_nodes
    except ImportError:
        root.unlink()
        raise ManifestError("DASH needs the mpegdash package, which is not installed.") from None
    try:
        prepare(root)
        laurls = licence_urls(root, url)
        nodes = parse_child_nodes(root, "MPD", MPEGDASH)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ManifestError(f"The MPD has a malformed attribute ({str(exc)[:120]}).") from None
    finally:
        root.unlink()
    if not nodes:
        raise ManifestError("The document is XML but not a DASH MPD (no MPD element).")
    return nodes[0], laurls


def _index(period: object, adaptation: object, rep: object, kind: str, period_s: float | None,
           limit: int, where: str) -> RepIndex:
    rep_id = str(getattr(rep, "id", "") or "")
    bandwidth = getattr(rep, "bandwidth", None) or 0
    levels = (period, adaptation, rep)
    templates = Levels([(getattr(n, "segment_templates", None) or [None])[0] for n in levels])
    lists = Levels([(getattr(n, "segment_lists", None) or [None])[0] for n in levels])
    bases = Levels([(getattr(n, "segment_bases", None) or [None])[0] for n in levels])
    innermost = {name: max((i for i, n in enumerate(
        getattr(x, attr, None) for x in levels) if n), default=-1)
        for name, attr in (("template", "segment_templates"), ("list", "segment_lists"),
                           ("base", "segment_bases"))}
    chosen = max(innermost, key=lambda k: innermost[k])
    if innermost[chosen] < 0:
        if kind == "text":  # a whole WebVTT file
            return RepIndex(None, (SegmentRef("", None, period_s or 0.0),), 0.0)
        raise ManifestError(f"{where} has no SegmentTemplate, SegmentList or SegmentBase.")
    if chosen == "template":
        return template_index(templates, rep_id, bandwidth, period_s, limit, where)
    if chosen == "list":
        return list_index(lists, period_s, limit, where)
    return base_index(bases, where)


def parse_mpd(text: str | bytes, url: str, *,
              max_segments: int = DEFAULT_MAX_SEGMENTS) -> MpdPlan:
    """Read and check the MPD fetched from ``url`` (relative BaseURLs resolve against it)."""
    mpd, laurls = _read(text, url)
    if (mpd.type or "static") != "static":
        raise ManifestError(f'Live DASH is not supported: the MPD is type="{mpd.type}" '
                            "(only video on demand plays).")
    if not mpd.periods:
        raise ManifestError("The MPD has no Period.")
    pathways = Pathways(mpd, url)
    protection: list[ContentProtection] = []
    periods = []
    for n, (period, (start, duration)) in enumerate(zip(mpd.periods, period_bounds(mpd),
                                                        strict=True)):
        name = f"Period {n + 1}" + (f" (id {period.id!r})" if period.id else "")
        tracks = _period_tracks(mpd, period, name, duration, pathways, max_segments)
        for track in tracks:
            protection += protection_of([track.adaptation, track.rep])
        periods.append((start, tuple(tracks)))
    return MpdPlan(url, pathways.names, tuple(periods),
                   with_licence_url(tuple(dict.fromkeys(protection)), laurls))


def _period_tracks(mpd: Any, period: object, name: str, duration: float | None,
                   pathways: Pathways, limit: int) -> list[Track]:
    tracks: list[Track] = []
    names: dict[str, list[str]] = {"audio": [], "text": []}
    webm: list[str] = []
    unknown: list[str] = []
    undecodable: list[str] = []
    video_ids: set[str] = set()
    for a, adaptation in enumerate(getattr(period, "adaptation_sets", None) or []):
        reps = list(adaptation.representations or [])
        where = f"{name} AdaptationSet {adaptation.id if adaptation.id is not None else a + 1}"
        if not reps:
            continue
        kind = kind_of(adaptation, reps)
        if kind not in ("video", "audio", "text"):
            log.info("%s: %s adaptation set ignored", where, kind)
            continue
        if kind == "text":
            mime = mime_of(adaptation, reps[0])
            if mime != "text/vtt":
                log.info("%s: subtitles as %s (%s) are not supported: ignored", where,
                         mime or "?", codecs_of(adaptation, reps[0]) or "no codecs")
                continue
        if any("webm" in mime_of(adaptation, rep) for rep in reps):
            log.info("%s: WebM is not supported: ignored", where)
            webm.append(where)
            continue
        if is_trick_mode(adaptation):
            log.info("%s: a trick-mode adaptation set: ignored", where)
            continue
        if (scheme := unknown_essential(adaptation)) is not None:
            log.info("%s: EssentialProperty %s is not understood: ignored", where, scheme)
            unknown.append(f"{where} (EssentialProperty {scheme})")
            continue
        for rep in [r for r in reps if unknown_essential(r) is not None]:
            scheme = unknown_essential(rep)
            log.info("%s Representation %s: EssentialProperty %s is not understood: ignored",
                     where, rep.id, scheme)
            unknown.append(f"{where} Representation {rep.id} (EssentialProperty {scheme})")
            reps.remove(rep)
        if not reps:
            continue
        if kind == "audio" and (codec := undecodable_audio(adaptation, reps)) is not None:
            log.info("%s: audio in %s, which this player cannot decode: ignored", where, codec)
            undecodable.append(f"{where} ({codec})")
            continue
        if kind in ("audio", "text"):  # one rendition per set: its best representation
            if len(reps) > 1:
                log.info("%s: %d representations, the highest bandwidth is used", where,
                         len(reps))
            reps = [max(reps, key=lambda r: r.bandwidth or 0)]
        for rep in reps:
            rwhere = f"{where} Representation {rep.id}"
            if not rep.id:
                raise ManifestError(f"{where}: a Representation has no id.")
            key = str(rep.id)
            if kind == "video":  # ids are unique in a Period, says the standard; not always
                if key in video_ids:
                    log.info("%s: a second Representation with id %r, named %r", rwhere, key,
                             f"{key}#{len(video_ids) + 1}")
                    key = f"{key}#{len(video_ids) + 1}"
                video_ids.add(key)
            if kind != "video":
                taken = names[kind]
                base = adaptation.label or adaptation.lang or f"{kind} {len(taken) + 1}"
                key = base if base not in taken else f"{base} {len(taken) + 1}"
                taken.append(key)
            chain = [(mpd, True), (period, True), (adaptation, False), (rep, False)]
            tracks.append(Track(key, kind, rep, adaptation,
                                 _index(period, adaptation, rep, kind, duration, limit, rwhere),
                                 pathways.bases(chain, rwhere)))
    video_sets = list({id(t.adaptation): t.adaptation for t in tracks
                       if t.kind == "video"}.values())
    secondary = [a for a in video_sets if is_secondary_video(a, video_sets)]
    for adaptation in secondary:
        log.info("%s: a video AdaptationSet with Role %s beside the main video: ignored", name,
                 ", ".join(sorted(roles(adaptation))))
    tracks = [t for t in tracks if not any(t.adaptation is a for a in secondary)]
    # one codec family now, so no index of a representation never played is fetched
    chosen = {id(t) for t in one_codec([t for t in tracks if t.kind == "video"])}
    tracks = [t for t in tracks if t.kind != "video" or id(t) in chosen]
    _check_bandwidths(tracks, name)
    if webm and not any(t.kind in ("video", "audio") for t in tracks):
        raise ManifestError(f"{webm[0]}: WebM DASH is not supported (only fragmented MP4, CMAF, "
                            "and MPEG-TS play), and the MPD offers nothing else.")
    if undecodable and not any(t.kind == "audio" for t in tracks):
        raise ManifestError(f"{name}: the only audio is in a codec this player cannot decode: "
                            f"{', '.join(undecodable)}.")
    if unknown and not any(t.kind in ("video", "audio") for t in tracks):
        raise ManifestError(f"{name}: nothing plays: {unknown[0]} is not understood, so that "
                            "element is ignored (DASH rule), and the MPD offers nothing else.")
    return tracks


def _check_bandwidths(tracks: list[Track], name: str) -> None:
    """A Representation without ``bandwidth`` (or 0) plays when nothing has to be chosen by it:
    the only video rung, an audio or text one; in a ladder of several it is refused."""
    videos = [t for t in tracks if t.kind == "video"]
    for track in tracks:
        if not getattr(track.rep, "bandwidth", None) and track.kind != "text":
            where = f"{name} Representation {getattr(track.rep, 'id', track.key)}"
            if len(videos) > 1 and track.kind == "video":
                raise ManifestError(f"{where} has no bandwidth, which is needed to choose "
                                    f"among {len(videos)} video representations.")
            log.info("%s has no bandwidth: it is the only choice, so it plays", where)


def mpd_to_multivariant(text: str | bytes, url: str, *,
                        max_segments: int = DEFAULT_MAX_SEGMENTS) -> Multivariant:
    """:func:`parse_mpd` then :func:`build_multivariant`, for an MPD that needs no index
    fetched (no SegmentBase)."""
    plan = parse_mpd(text, url, max_segments=max_segments)
    if plan.index_requests:
        raise ManifestError("The MPD uses SegmentBase: its index must be fetched (load_mpd).")
    return build_multivariant(plan)


OFF_LOOP_BYTES = 64 * 1024
"""An MPD larger than this is parsed on a worker thread (bytes): a 2 MiB one takes seconds, and
the event loop keeps serving mpv meanwhile."""


async def load_mpd(text: str | bytes, url: str, fetch_range: FetchRange, *,
                   max_segments: int = DEFAULT_MAX_SEGMENTS,
                   allow_protected: bool = False) -> Multivariant:
    """The model of the MPD fetched from ``url``: each SegmentBase's ``sidx`` is fetched with
    ``fetch_range`` (all at once; each from one pathway after another until one answers). An
    encrypted MPD is refused unless ``allow_protected`` (the CENC hook)."""
    if len(text) > OFF_LOOP_BYTES:
        plan = await asyncio.to_thread(parse_mpd, text, url, max_segments=max_segments)
    else:
        plan = parse_mpd(text, url, max_segments=max_segments)
    check_protection(plan.protection, allow_protected)
    pending: dict[tuple[int, int], asyncio.Task[RepIndex]] = {}
    try:
        async with asyncio.TaskGroup() as group:
            for n, (_, tracks) in enumerate(plan.periods):
                for t, track in enumerate(tracks):
                    if track.index.index is not None:
                        where = f"Period {n + 1} Representation {getattr(track.rep, 'id', '?')}"
                        pending[n, t] = group.create_task(
                            _read_index(track, fetch_range, max_segments, where))
    except BaseExceptionGroup as group_error:
        first = group_error.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    periods = tuple((start, tuple(replace(track, index=pending[n, t].result())
                                  if (n, t) in pending else track
                                  for t, track in enumerate(tracks)))
                    for n, (start, tracks) in enumerate(plan.periods))
    return build_multivariant(replace(plan, periods=periods))


async def _read_index(track: Track, fetch_range: FetchRange, limit: int,
                      where: str) -> RepIndex:
    request: IndexRequest | None = track.index.index
    assert request is not None
    failures = []
    for base in dict.fromkeys(track.bases):
        index_url = join_url(base, request.ref, where)
        try:
            data = await fetch_range(index_url, request.byterange)
        except ManifestError as exc:
            failures.append(exc.message)
            continue
        try:
            sidx = parse_sidx(data, request.byterange[0])
        except MediaFormatError as exc:
            raise ManifestError(f"{where}: the segment index at {index_url} is unreadable: "
                                f"{exc.message}") from None
        return with_sidx(track.index, sidx, limit, where)
    raise ManifestError(f"{where}: the segment index (SegmentBase indexRange) could not be "
                        f"fetched: {'; '.join(failures)}")


__all__ = ["DASH_CONTENT_TYPE", "InitRef", "MpdPlan", "build_multivariant", "index_fetcher",
           "load_mpd", "looks_like_mpd", "mpd_to_multivariant", "parse_mpd"]
