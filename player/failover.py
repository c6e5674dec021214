"""Failover policy: why a fetch left an edge, how long to wait for one, and where the segment is
on another pathway.

**Timeout rule** (:func:`adaptive_timeout_s`). A response may take ``timeout_factor`` × what is
expected of it, but never less than a floor and never more than ``buffer_fraction`` of the media
buffered ahead (nor ``max_timeout_s``) unless the floor says so; then CPU load adds its
allowance (:class:`~player.loadlag.LoopLag`)::

    timeout = clamp(timeout_factor × expected_s, floor_s,
                    max(floor_s, min(max_timeout_s, buffer_fraction × buffer_s))) + load_s

For the stall timeout ``expected_s`` is the time one ``stall_chunk_bytes`` chunk takes at the
edge's measured throughput (no byte for that long, re-armed after every chunk with the buffer
left *then*) and ``floor_s`` is ``min_timeout_s``. For the TTFB timeout ``expected_s`` is what
the path shows (:meth:`~player.edgepool.EdgePool.expected_ttfb_s`: the edge's TTFB percentile,
at least its RTT; an unmeasured edge gets the best of the others) and the floor is the largest
of ``min_timeout_s``, ``path_floor_factor`` × expected (an edge answering as slowly as it always
does is not failed over, however low the buffer: another edge on the same path would be no
faster), ``unmeasured_timeout_s`` for an edge that never answered yet (a healthy-but-slow
server must be playable from its first request), and ``last_resort_timeout_s`` once every edge
has failed (the retries after reloading steering or the manifest). So a full buffer tolerates
a slow answer, a draining one fails over fast, a slow path or a loaded CPU stretches the wait,
and a hung edge that used to answer fast is still left after about ``min_timeout_s``.

**Causes** (:class:`Cause`): each says whether it trips the edge's circuit at once (``hard``) and
whether the bytes already received are kept and resumed on the next edge with
``Range: bytes=N-`` (``resumable``). See docs/engine.md for the decision table.

**Pathways** (:class:`PathwayPlaylists`): the same rendition on another pathway has the same path
after the edge's base URL but another host and possibly another signed token, so segment URIs
come from that pathway's own media playlist, fetched when first needed and cached until the
multivariant playlist is reloaded (fresh tokens after ``403 url_expired``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from player.errors import ManifestError
from player.manifest import MediaPlaylist, Multivariant, Segment, parse_media_playlist

log = logging.getLogger("edge")


@dataclass(frozen=True)
class FetchConfig:
    timeout_factor: float = 4.0
    """Multiple of the expected time (TTFB, or one chunk's transfer) allowed (factor).
    Default 4.0."""
    min_timeout_s: float = 0.3
    """Shortest TTFB or stall timeout (seconds): below it loopback jitter would fail over
    healthy edges. Default 0.3."""
    buffer_fraction: float = 0.25
    """Longest TTFB or stall timeout as a share of the media buffered ahead (0..1). Default 0.25."""
    max_timeout_s: float = 5.0
    """Longest TTFB or stall timeout, whatever the buffer (seconds). Default 5.0."""
    default_ttfb_s: float = 0.1
    """Expected TTFB when nothing is known of the path (seconds). Default 0.1."""
    path_floor_factor: float = 2.0
    """The TTFB timeout is at least this × the edge's expected TTFB, whatever the buffer
    (factor). Default 2.0."""
    unmeasured_timeout_s: float = 1.0
    """Least TTFB timeout for an edge that has not answered yet (seconds): a server 0.4 s
    to its first byte plays, a hung one is left within this. Default 1.0."""
    last_resort_timeout_s: float = 2.5
    """Least TTFB timeout once every edge has failed (the rounds after reloading steering,
    the manifest, or a second round of the timeline's playlist) (seconds). Default 2.5."""
    stall_chunk_bytes: int = 64 * 1024
    """The chunk whose transfer time is the expected gap between bytes (bytes). Default 65536."""
    default_throughput_bps: float = 5e6
    """Throughput assumed for an edge never measured, for the stall rule (bits/s). Default 5e6."""
    slow_check_after_s: float = 1.0
    """Body time after which a download slower than the lowest rendition's bitrate leaves its
    edge for a healthy one (Cause ``slow``, resumed with a Range) (seconds). Default 1.0."""
    progress_interval_s: float = 0.05
    """Least time between two ABR progress reports of one download (seconds). Default 0.05."""
    max_playlist_bytes: int = 8 * 1024 * 1024
    """Longest playlist, steering manifest or key body read (bytes): a server streaming one that
    never ends is cut off here with a clear error. Default 8388608 (8 MiB)."""
    playlist_deadline_s: float = 30.0
    """Longest time from a playlist's request to its last byte (seconds): one dripped forever is
    cut off. Default 30.0."""
    max_playlist_segments: int = 30_000
    """Most segments in one media playlist (count; about 0.7 KB of memory each once parsed):
    34 h of 4 s segments. Default 30000."""
    max_whole_file_bytes: int = 8 * 1024 * 1024 * 1024
    """Largest whole-file body kept when a server ignores the Range of a byte-range playlist
    (bytes, in an unnamed temporary file, not in memory). Default 8589934592 (8 GiB)."""
    whole_files_kept: int = 8
    """Whole-file bodies kept at once (count; the least recently used one not being downloaded
    is dropped first). They are on disk, not in memory; enough for a ladder's renditions and its
    audio, so that a rendition switch does not download a file again. Default 8."""


def adaptive_timeout_s(expected_s: float, buffer_s: float, config: FetchConfig, *,
                       floor_s: float | None = None, load_s: float = 0.0) -> float:
    """The timeout rule of the module docstring (``floor_s`` None: ``min_timeout_s``; it is
    never above ``max_timeout_s``)."""
    c = config
    floor = min(c.max_timeout_s, max(c.min_timeout_s, floor_s or 0.0))
    ceiling = max(floor, min(c.max_timeout_s, c.buffer_fraction * max(buffer_s, 0.0)))
    return min(max(c.timeout_factor * expected_s, floor), ceiling) + max(load_s, 0.0)


def ttfb_floor_s(expected_s: float | None, measured: bool, last_resort: bool,
                 config: FetchConfig) -> float:
    """The TTFB timeout's floor (module docstring)."""
    c = config
    floor = max(c.min_timeout_s, c.path_floor_factor * (expected_s or 0.0))
    if not measured:
        floor = max(floor, c.unmeasured_timeout_s)
    if last_resort:
        floor = max(floor, c.last_resort_timeout_s)
    return floor


class Cause(enum.Enum):
    """Why a fetch attempt left an edge: (value, hard, resumable)."""

    REFUSED = ("refused", True, False)
    """Connection refused or reset before an answer (the edge is down)."""
    TTFB_TIMEOUT = ("ttfb_timeout", True, False)
    """No response headers within the TTFB timeout (hung or overloaded)."""
    STALL = ("stall", True, True)
    """The body stopped for longer than the stall timeout."""
    HTTP_5XX = ("http_5xx", False, False)
    """The edge answered 5xx."""
    HTTP_4XX = ("http_4xx", False, False)
    """Another 4xx (404, a 403 other than url_expired, 416): the edge lacks the segment."""
    URL_EXPIRED = ("url_expired", False, False)
    """403 url_expired again after refreshing the URLs."""
    SLOW = ("slow", False, True)
    """The body comes slower than the lowest rendition plays while another edge is healthy
    (checked once ``slow_check_after_s`` of the body has passed)."""
    TRUNCATED = ("truncated", False, True)
    """The body ended short of Content-Length (connection closed mid-body)."""
    CORRUPT = ("corrupt", True, False)
    """The bytes do not decrypt, or are not MPEG-TS."""
    BAD_RANGE = ("bad_range", True, False)
    """A Range request answered with the wrong bytes (a 206 whose Content-Range is not the
    range asked, or another 2xx than 200/206): the edge cannot serve byte ranges."""
    PLAYLIST = ("playlist", False, False)
    """The pathway's media playlist could not be read or lacks the segment."""

    def __init__(self, label: str, hard: bool, resumable: bool) -> None:
        self.label = label
        self.hard = hard
        self.resumable = resumable


@dataclass(frozen=True)
class FailoverEvent:
    """One decision to leave an edge (or to refresh its URLs), for logs and telemetry."""

    index: int
    """Segment position."""
    rendition_id: str
    cause: str
    """A :class:`Cause` label, or ``"url_refresh"`` (same edge, fresh URLs)."""
    detail: str
    from_edge: str
    to_edge: str | None
    """None: no edge left (the fetch failed)."""
    detection_s: float
    """From the request's start (or its last byte, for stalls, truncation and corruption) to
    the decision (seconds)."""
    measured_from: str
    """``"request"`` or ``"last_byte"``."""
    resume_from_byte: int
    """Bytes kept for a Range request on ``to_edge`` (0: starting over)."""
    at_s: float
    """Clock time of the decision."""

    def as_dict(self) -> dict[str, object]:
        return {"type": "failover", "index": self.index, "rendition": self.rendition_id,
                "cause": self.cause, "detail": self.detail, "from": self.from_edge,
                "to": self.to_edge, "detection_s": self.detection_s,
                "measured_from": self.measured_from, "resume_from_byte": self.resume_from_byte,
                "at_s": self.at_s}


FetchText = Callable[[str, str], Awaitable[str]]
"""``fetch_text(pathway_id, url)``: a playlist from that pathway's edge (raises on failure)."""


AUDIO_PREFIX = "audio:"
"""Rendition ids of separate audio renditions: ``audio:`` + the EXT-X-MEDIA NAME."""


class PathwayPlaylists:
    """Media playlists per (pathway, rendition), fetched lazily; the rendition ladder."""

    def __init__(self, multivariant: Multivariant, fetch_text: FetchText) -> None:
        self._fetch = fetch_text
        self._cache: dict[tuple[str, str], MediaPlaylist] = {}
        self.generation = 0
        """Bumped by every :meth:`reset` (a reloaded multivariant playlist)."""
        self._refresh_lock = asyncio.Lock()
        self.multivariant = multivariant
        self.reset(multivariant)

    def reset(self, multivariant: Multivariant) -> None:
        """New URLs (a reloaded multivariant playlist): forget every cached media playlist."""
        default = multivariant.pathway(multivariant.default_pathway)
        self.multivariant = multivariant
        self.ladder = tuple(v.rendition_id for v in default.variants)
        """Rendition ids, lowest bandwidth first: rung i is ``ladder[i]``."""
        self.bitrates_bps = tuple(v.bandwidth_bps for v in default.variants)
        self._cache.clear()
        self.generation += 1

    async def refresh(self, seen_generation: int,
                      reload: Callable[[], Awaitable[Multivariant]]) -> None:
        """Reload the URLs once for everyone who saw ``seen_generation`` (concurrent callers
        share one reload)."""
        async with self._refresh_lock:
            if self.generation == seen_generation:
                self.reset(await reload())

    def cached(self, pathway: str, rendition_id: str) -> MediaPlaylist | None:
        return self._cache.get((pathway, rendition_id))

    async def playlist(self, pathway: str, rendition_id: str) -> MediaPlaylist:
        key = (pathway, rendition_id)
        if key in self._cache:
            return self._cache[key]
        try:
            if rendition_id.startswith(AUDIO_PREFIX):
                name = rendition_id.removeprefix(AUDIO_PREFIX)
                uri = next(r.uri for r in self.multivariant.audio_renditions(pathway)
                           if r.key == name and r.uri)
            else:
                uri = self.multivariant.pathway(pathway).variant(rendition_id).uri
        except (KeyError, StopIteration):
            raise ManifestError(f"Pathway {pathway} has no rendition {rendition_id}.") from None
        generation = self.generation
        known = self.multivariant.media.get(uri)  # DASH: the MPD described it already
        playlist = known if known is not None else parse_media_playlist(
            await self._fetch(pathway, uri), uri)
        if generation == self.generation:
            self._cache[key] = playlist
        log.debug("media playlist %s/%s: %d segments", pathway, rendition_id,
                  len(playlist.segments))
        return playlist

    async def segment(self, pathway: str, rendition_id: str, index: int) -> Segment:
        playlist = await self.playlist(pathway, rendition_id)
        if not 0 <= index < len(playlist.segments):
            raise ManifestError(f"{pathway}/{rendition_id} has no segment {index}.")
        return playlist.segments[index]
