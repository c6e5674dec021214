"""What a download consists of: the rung, the audio renditions, and the layout of its parts.

A download is a flat list of *parts* (one journal row, one file each): the chosen video
rendition's media segments first (part ``k`` is segment ``k``, as before fMP4), then its init
segments (EXT-X-MAP), then every chosen separate audio rendition's segments and init segments.
:class:`Layout` (kept in the journal's ``info["tracks"]``) says which part is what, so offline
playback can write the playlists back; a download made before layouts existed is one TS track.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from offline.errors import OfflineError
from player.presentation import AudioRendition, MediaPlaylist, Segment

AUDIO_PREFIX = "audio:"
"""Rendition ids of separate audio renditions, as the fetcher names them."""


def choose_rung(bitrates_bps: Sequence[int], duration_s: float, budget_bytes: int,
                quality: str | int | None, heights: Sequence[int | None] = ()) -> int:
    """The rung to download: ``quality`` (an index, ``"720p"``, ``"best"``, ``"low"``), else
    the best rung whose whole title fits ``budget_bytes``, else the lowest."""
    top = len(bitrates_bps) - 1
    if quality is not None:
        text = str(quality).strip().lower()
        if text in ("best", "high", "max"):
            return top
        if text in ("low", "lowest", "min", "data-saver"):
            return 0
        if text.endswith("p") and text[:-1].isdigit():
            want = int(text[:-1])
            fitting = [i for i, h in enumerate(heights) if h is not None and h <= want]
            if fitting:
                return max(fitting)
            raise ValueError(f"no rung at or below {text} (heights {list(heights)})")
        if text.isdigit() and 0 <= int(text) <= top:
            return int(text)
        raise ValueError(f"quality must be a rung 0..{top}, a height like 720p, best or low")
    fits = [i for i, b in enumerate(bitrates_bps) if b * duration_s / 8 <= budget_bytes]
    return max(fits) if fits else 0


def choose_audio(renditions: Sequence[AudioRendition],
                 languages: Sequence[str] | None) -> list[AudioRendition]:
    """The separate audio renditions to download: those in ``languages`` (codes such as
    ``en``; None: every language offered), one per language. :class:`OfflineError`
    ``bad_audio`` when a language asked for is not offered."""
    by_language: dict[str, AudioRendition] = {}
    for r in renditions:
        language = (r.language or r.name).lower()
        if language not in by_language or (r.default and not by_language[language].default):
            by_language[language] = r
    if languages is None:
        return list(by_language.values())
    wanted = [lang.strip().lower() for lang in languages if lang.strip()]
    missing = [lang for lang in wanted if lang not in by_language]
    if missing or not wanted:
        offered = ", ".join(sorted(by_language)) or "none"
        raise OfflineError(f"This title has no audio in {', '.join(missing) or 'no language'} "
                           f"(it offers: {offered}).", code="bad_audio")
    return [by_language[lang] for lang in dict.fromkeys(wanted)]


@dataclass(frozen=True)
class MediaPart:
    part: int
    segment: int
    """The segment's index in its media playlist."""
    duration_s: float
    init: int | None
    """The part holding its init segment (fragmented MP4), or None."""


@dataclass(frozen=True)
class Track:
    kind: str
    """``video`` (the chosen rung; muxed audio comes along) or ``audio`` (separate)."""
    rendition: str
    """The rendition id on the edges (``audio:NAME`` for separate audio)."""
    container: str
    """``ts``, ``fmp4`` or ``packed``."""
    ext: str
    """The media segments' file suffix (``.ts``, ``.m4s``, ``.aac``…)."""
    encrypted: bool
    """Media segments AES-128 from the edge (``EXT-X-KEY``), stored as served."""
    iv: str | None
    """An explicit EXT-X-KEY IV (hex); None: the media sequence number."""
    media_sequence: int
    media: tuple[MediaPart, ...]
    inits: tuple[tuple[int, int], ...] = ()
    """(part, first segment index using it) of every init segment."""
    language: str | None = None
    name: str | None = None
    default: bool = False
    channels: str | None = None
    sealed: bool = False
    """Media segments that came in the clear, sealed at rest here (init segments always are)."""
    cenc: bool = False
    """Media segments CENC-encrypted (``SAMPLE-AES``: the init segment's ``tenc`` names the
    KID), stored as served; played with the license's keys per KID."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "rendition": self.rendition, "container": self.container,
                "ext": self.ext, "encrypted": self.encrypted, "iv": self.iv,
                "media_sequence": self.media_sequence,
                "media": [[m.part, m.segment, m.duration_s, m.init] for m in self.media],
                "inits": [list(i) for i in self.inits], "language": self.language,
                "name": self.name, "default": self.default, "channels": self.channels,
                "sealed": self.sealed, "cenc": self.cenc}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Track:
        return cls(str(raw["kind"]), str(raw["rendition"]), str(raw["container"]),
                   str(raw["ext"]), bool(raw["encrypted"]), raw.get("iv"),
                   int(raw["media_sequence"]),
                   tuple(MediaPart(int(p), int(s), float(d), None if i is None else int(i))
                         for p, s, d, i in raw["media"]),
                   tuple((int(p), int(s)) for p, s in raw.get("inits") or ()),
                   raw.get("language"), raw.get("name"), bool(raw.get("default")),
                   raw.get("channels"), bool(raw.get("sealed")), bool(raw.get("cenc")))

    def init_segment(self, part: int) -> int | None:
        """The first segment index using init part ``part`` (None: not one of this track's)."""
        return next((s for p, s in self.inits if p == part), None)


@dataclass(frozen=True)
class Layout:
    tracks: tuple[Track, ...]
    separate_audio: bool = False
    """The video rendition's audio is in separate renditions (none muxed in)."""

    @property
    def video(self) -> Track:
        return self.tracks[0]

    @property
    def audio(self) -> tuple[Track, ...]:
        return tuple(t for t in self.tracks if t.kind == "audio")

    def durations(self) -> list[float]:
        """Every part's duration, in part order (init segments: 0), for the journal."""
        out: dict[int, float] = {}
        for track in self.tracks:
            out.update((m.part, m.duration_s if track.kind == "video" else 0.0)
                       for m in track.media)
            out.update((p, 0.0) for p, _ in track.inits)
        return [out[i] for i in range(len(out))]

    def find(self, part: int) -> tuple[Track, MediaPart | None]:
        """The track of ``part`` and its media segment (None: an init segment)."""
        for track in self.tracks:
            for m in track.media:
                if m.part == part:
                    return track, m
            if track.init_segment(part) is not None:
                return track, None
        raise KeyError(part)

    def sealed(self, part: int) -> bool:
        """Stored sealed at rest here (its bytes came in the clear), not as the edge's
        ciphertext."""
        track, media = self.find(part)
        return media is None or track.sealed

    def to_json(self) -> dict[str, Any]:
        return {"tracks": [t.to_json() for t in self.tracks],
                "separate_audio": self.separate_audio}

    @classmethod
    def of(cls, info: dict[str, Any], rendition: str, durations_s: Sequence[float]) -> Layout:
        """The layout kept in a download's ``info``; for a download made before layouts, its
        one TS track, stored as served."""
        raw = info.get("layout")
        if isinstance(raw, dict):
            return cls(tuple(Track.from_json(t) for t in raw["tracks"]),
                       bool(raw.get("separate_audio")))
        media = tuple(MediaPart(i, i, d, None) for i, d in enumerate(durations_s))
        return cls((Track("video", rendition, "ts", ".ts", bool(info.get("encrypted", True)),
                          None, int(info.get("media_sequence") or 0), media),))


def track_of(kind: str, rendition: str, playlist: MediaPlaylist, first_part: int,
             audio: AudioRendition | None = None) -> tuple[Track, int]:
    """The track of ``playlist``'s segments numbered from part ``first_part`` (media first,
    then init segments); also the next free part number."""
    segments = playlist.segments
    inits: list[tuple[int, int]] = []
    media: list[MediaPart] = []
    part = first_part + len(segments)
    last: tuple[str, tuple[int, int] | None] | None = None
    for k, segment in enumerate(segments):
        init = None
        if segment.init is not None:
            here = (segment.init.uri, segment.init.byterange)
            if here != last:
                inits.append((part, k))
                part += 1
                last = here
            init = inits[-1][0]
        media.append(MediaPart(first_part + k, k, segment.duration_s, init))
    first = segments[0]
    key = first.key
    track = Track(kind, rendition, first.container, _suffix(first), key is not None,
                  key.iv.hex() if key is not None and key.iv is not None else None,
                  first.sequence, tuple(media), tuple(inits),
                  audio.language if audio else None, audio.name if audio else None,
                  audio.default if audio else False, audio.channels if audio else None,
                  sealed=key is None, cenc=key is not None and key.cenc)
    return track, part


def _suffix(segment: Segment) -> str:
    suffix = PurePosixPath(urlsplit(segment.uri).path).suffix.lower()
    if segment.container == "fmp4":
        return ".m4s"
    return suffix if segment.container == "packed" and suffix else ".ts"
