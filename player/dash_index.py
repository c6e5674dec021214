"""DASH segment addressing (ISO/IEC 23009-1 §5.3.9) expanded to lists of segments.

A representation's segments come from one of: ``SegmentTemplate`` with ``$Number$`` and a
``duration``, or with a ``SegmentTimeline`` (``$Number$`` or ``$Time$``; ``S@r`` repeats, ``-1``
up to the next ``S@t`` or the period's end); ``SegmentList`` (``SegmentURL`` media and
``mediaRange``); ``SegmentBase`` with ``indexRange`` (the ``sidx`` box is fetched and read by
:mod:`player.sidx`). Attributes inherit from the Period and AdaptationSet levels, the innermost
winning. Template identifiers: ``$RepresentationID$``, ``$Number$``, ``$Bandwidth$``,
``$Time$`` (the last three with a width such as ``%05d``) and ``$$``.

Every expansion counts its segments first and refuses more than ``max_segments``
(:class:`~player.bounded.InputTooLarge`), so a timeline that would expand to millions of segments
never reaches memory. Segment references stay relative to the representation's BaseURL, which
differs per pathway (:mod:`player.dash` resolves them).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from player.bounded import InputTooLarge
from player.errors import ManifestError
from player.sidx import SegmentIndex

log = logging.getLogger("player.dash")


@dataclass(frozen=True)
class SegmentRef:
    ref: str
    """Relative to the representation's base URL; ``""``: the base URL itself."""
    byterange: tuple[int, int] | None
    """(offset, length) in bytes, or None for the whole resource."""
    duration_s: float


@dataclass(frozen=True)
class InitRef:
    ref: str
    byterange: tuple[int, int] | None


@dataclass(frozen=True)
class IndexRequest:
    """A ``SegmentBase@indexRange`` to fetch before the segments are known."""

    ref: str
    byterange: tuple[int, int]


@dataclass(frozen=True)
class RepIndex:
    """One representation's segments in one period."""

    init: InitRef | None
    segments: tuple[SegmentRef, ...]
    """Empty while :attr:`index` is pending."""
    pto_s: float
    """``presentationTimeOffset`` in seconds: the media time at the period's start."""
    index: IndexRequest | None = None


_DURATION = re.compile(r"(-)?P(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})D)?"
                       r"(?:T(?:(\d{1,8})H)?(?:(\d{1,8})M)?(?:(\d{1,10}(?:\.\d{1,12})?)S)?)?",
                       re.ASCII)


def iso_duration_s(text: str | None, where: str) -> float | None:
    """An ``xs:duration`` (``PT1H2M3.5S``) in seconds; None for None."""
    if text is None:
        return None
    match = _DURATION.fullmatch(text.strip())
    if match is None or match[1] or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ManifestError(f"{where}: {text[:40]!r} is not a duration such as PT8.5S.")
    y, mo, d, h, mi, s = (float(g) if g else 0.0 for g in match.groups()[1:])
    return ((y * 365 + mo * 30 + d) * 24 + h) * 3600 + mi * 60 + s


def period_bounds(mpd: Any) -> list[tuple[float, float | None]]:
    """(start, duration) of each Period in seconds."""
    total = iso_duration_s(mpd.media_presentation_duration, "MPD@mediaPresentationDuration")
    periods = mpd.periods or []
    starts: list[float] = []
    for n, period in enumerate(periods):
        start = iso_duration_s(period.start, f"Period {n + 1} start")
        if start is None:
            previous = starts[-1] if starts else 0.0
            duration = iso_duration_s(periods[n - 1].duration, f"Period {n} duration") \
                if n else 0.0
            if n and duration is None:
                raise ManifestError(f"Period {n + 1} has no start and Period {n} no duration.")
            start = previous + (duration or 0.0)
        starts.append(start)
    out = []
    for n, (period, start) in enumerate(zip(periods, starts, strict=True)):
        duration = iso_duration_s(period.duration, f"Period {n + 1} duration")
        if duration is None:
            end = starts[n + 1] if n + 1 < len(starts) else total
            duration = end - start if end is not None else None
        if duration is not None and duration <= 0:
            raise ManifestError(f"Period {n + 1} has no positive duration.")
        out.append((start, duration))
    return out


def parse_range(text: str, where: str) -> tuple[int, int]:
    """``"a-b"`` (inclusive) as (offset, length)."""
    first, dash, last = text.strip().partition("-")
    if not (dash and first.isascii() and first.isdigit() and last.isascii() and last.isdigit()
            and len(first) < 16 and len(last) < 16 and int(last) >= int(first)):
        raise ManifestError(f"{where}: byte range {text[:40]!r} is not FIRST-LAST.")
    return int(first), int(last) - int(first) + 1


_IDENTIFIER = re.compile(r"(RepresentationID|Number|Bandwidth|Time)(?:%0(\d{1,2})d)?")


def check_template(template: str, where: str) -> None:
    """Refuse a template with an unknown identifier or an odd ``$``."""
    parts = template.split("$")
    if len(parts) % 2 == 0:
        raise ManifestError(f"{where}: template {template[:80]!r} has an unmatched '$'.")
    for name in parts[1::2]:
        match = _IDENTIFIER.fullmatch(name)
        if name and (match is None or (match[1] == "RepresentationID" and match[2])):
            raise ManifestError(f"{where}: template identifier ${name[:30]}$ is not supported.")


def fill_template(template: str, rep_id: str, bandwidth: int, number: int, time: int) -> str:
    """``template`` with its identifiers replaced (checked by :func:`check_template`)."""
    values = {"RepresentationID": rep_id, "Number": number, "Bandwidth": bandwidth, "Time": time}
    parts = template.split("$")
    for i in range(1, len(parts), 2):
        match = _IDENTIFIER.fullmatch(parts[i])
        if match is None:
            parts[i] = "$"
            continue
        value = values[match[1]]
        parts[i] = f"{value:0{int(match[2])}d}" if match[2] else str(value)
    return "".join(parts)


class Levels:
    """The segment-addressing element of one kind at the Period, AdaptationSet and
    Representation levels (outermost first): attributes inherit, the innermost wins."""

    def __init__(self, nodes: Sequence[Any]) -> None:
        self.nodes = [n for n in nodes if n is not None]

    def attr(self, name: str) -> Any:
        for node in reversed(self.nodes):
            value = getattr(node, name, None)
            if value is not None:
                return value
        return None


def _check_count(count: int, limit: int, where: str) -> None:
    if count > limit:
        raise InputTooLarge(f"{where} expands to {count} segments, over the {limit} limit.")


def _timeline(levels: Levels, period_end: int | None, limit: int,
              where: str) -> list[tuple[int, int]]:
    """(start, duration) in timescale units of every S, with repeats."""
    timelines = levels.attr("segment_timelines")
    spans: list[tuple[int, int, int]] = []  # (start, duration, count)
    now = 0
    entries = timelines[0].Ss or [] if timelines else []
    total = 0
    for n, s in enumerate(entries):
        if s.d is None or s.d <= 0:
            raise ManifestError(f"{where}: SegmentTimeline S #{n + 1} needs a duration d > 0.")
        start = s.t if s.t is not None else now
        repeat = s.r or 0
        if repeat < 0:
            following = entries[n + 1].t if n + 1 < len(entries) else None
            end = following if following is not None else period_end
            if end is None:
                raise ManifestError(f"{where}: S@r=-1 with no end (no next S@t and no period "
                                    "duration).")
            repeat = max(0, math.ceil((end - start) / s.d) - 1)
        total += repeat + 1
        _check_count(total, limit, where)
        spans.append((start, s.d, repeat + 1))
        now = start + s.d * (repeat + 1)
    out = [(start + k * d, d) for start, d, count in spans for k in range(count)]
    # An explicit S@t that leaves a gap (or overlaps) moves the next segment: the one before
    # it is stretched (or cut) to meet it, so the model's contiguous start times stay on the
    # media timeline.
    for k in range(len(out) - 1):
        (start, d), following = out[k], out[k + 1][0]
        if following <= start:
            raise ManifestError(f"{where}: SegmentTimeline S@t={following} does not come after "
                                f"the segment at {start}.")
        if following != start + d:
            log.info("%s: SegmentTimeline %s of %d at t=%d: the segment before it is made to "
                     "meet it", where, "gap" if following > start + d else "overlap",
                     abs(following - start - d), start + d)
            out[k] = (start, following - start)
    return out


def template_index(levels: Levels, rep_id: str, bandwidth: int, period_s: float | None,
                   limit: int, where: str) -> RepIndex:
    """A SegmentTemplate's segments (``$Number$`` with a duration, or a SegmentTimeline)."""
    timescale = levels.attr("timescale") or 1
    if timescale <= 0:
        raise ManifestError(f"{where}: timescale must be positive.")
    pto = levels.attr("presentation_time_offset") or 0
    media = levels.attr("media")
    if not media:
        raise ManifestError(f"{where}: SegmentTemplate has no media template.")
    check_template(media, where)
    init = levels.attr("initialization")
    init_ref = None
    if init:
        check_template(init, where)
        init_ref = InitRef(fill_template(init, rep_id, bandwidth, 0, 0), None)
    elif (child := _init_of(levels, where)) is not None:  # an Initialization element
        check_template(child.ref, where)
        init_ref = InitRef(fill_template(child.ref, rep_id, bandwidth, 0, 0), child.byterange)
    number = levels.attr("start_number")
    number = 1 if number is None else number
    end_number = levels.attr("end_number")
    period_end = pto + round(period_s * timescale) if period_s is not None else None
    segments: list[SegmentRef] = []
    if levels.attr("segment_timelines"):
        for k, (start, d) in enumerate(_timeline(levels, period_end, limit, where)):
            segments.append(SegmentRef(fill_template(media, rep_id, bandwidth, number + k, start),
                                       None, d / timescale))
    else:
        duration = levels.attr("duration")
        if not duration or duration <= 0:
            raise ManifestError(f"{where}: SegmentTemplate needs a SegmentTimeline or a "
                                "duration > 0.")
        if period_s is None:
            raise ManifestError(f"{where}: the period has no duration, so the number of "
                                "$Number$ segments is unknown.")
        count = max(1, math.ceil(period_s * timescale / duration - 1e-9))
        if end_number is not None:
            count = min(count, end_number - number + 1)
        _check_count(count, limit, where)
        for k in range(count):
            length = min(duration / timescale, period_s - k * duration / timescale)
            segments.append(SegmentRef(
                fill_template(media, rep_id, bandwidth, number + k, pto + k * duration),
                None, length if length > 0 else duration / timescale))
    if not segments:
        raise ManifestError(f"{where}: the SegmentTemplate gives no segment (an empty "
                            "SegmentTimeline, or endNumber before startNumber).")
    return RepIndex(init_ref, tuple(segments), pto / timescale)


def _init_of(levels: Levels, where: str) -> InitRef | None:
    inits = levels.attr("initializations")
    if not inits:
        return None
    node = inits[0]
    return InitRef(node.source_url or "",
                   parse_range(node.range, where) if node.range else None)


def list_index(levels: Levels, period_s: float | None, limit: int, where: str) -> RepIndex:
    """A SegmentList's segments."""
    timescale = levels.attr("timescale") or 1
    if timescale <= 0:
        raise ManifestError(f"{where}: timescale must be positive.")
    pto = levels.attr("presentation_time_offset") or 0
    urls = levels.attr("segment_urls") or []
    _check_count(len(urls), limit, where)
    if not urls:
        raise ManifestError(f"{where}: the SegmentList has no SegmentURL.")
    if levels.attr("segment_timelines"):
        period_end = pto + round(period_s * timescale) if period_s is not None else None
        durations = [d / timescale for _, d in _timeline(levels, period_end, limit, where)]
    else:
        duration = levels.attr("duration")
        if not duration or duration <= 0:
            raise ManifestError(f"{where}: a SegmentList with several segments needs a "
                                "duration or a SegmentTimeline.")
        durations = [duration / timescale] * len(urls)
        if period_s is not None:  # the last one ends with the period
            durations[-1] = max(period_s - duration / timescale * (len(urls) - 1),
                                0.001)
    if len(durations) < len(urls):
        raise ManifestError(f"{where}: the SegmentList has {len(urls)} SegmentURLs but its "
                            f"timeline only {len(durations)} segments.")
    segments = tuple(SegmentRef(u.media or "",
                                parse_range(u.media_range, where) if u.media_range else None,
                                d) for u, d in zip(urls, durations, strict=False))
    return RepIndex(_init_of(levels, where), segments, pto / timescale)


def base_index(levels: Levels, where: str) -> RepIndex:
    """A SegmentBase: the init range now, the segments once the sidx is read."""
    index_range = levels.attr("index_range")
    if not index_range:
        raise ManifestError(f"{where}: SegmentBase has no indexRange (a single-segment "
                            "representation without an index is not supported).")
    first, length = parse_range(index_range, where)
    init = _init_of(levels, where)
    if init is None and first > 0:  # the bytes before the index: ftyp + moov
        init = InitRef("", (0, first))
    timescale = levels.attr("timescale") or 1
    pto = levels.attr("presentation_time_offset") or 0
    return RepIndex(init, (), pto / max(timescale, 1), IndexRequest("", (first, length)))


def with_sidx(index: RepIndex, sidx: SegmentIndex, limit: int, where: str) -> RepIndex:
    """``index`` (a SegmentBase's) with the segments its sidx lists."""
    _check_count(len(sidx.subsegments), limit, where)
    if not sidx.subsegments:
        raise ManifestError(f"{where}: the segment index lists no subsegment.")
    segments = tuple(SegmentRef(index.index.ref if index.index else "", (s.offset, s.size),
                                s.duration / sidx.timescale) for s in sidx.subsegments)
    return RepIndex(index.init, segments, index.pto_s, None)
