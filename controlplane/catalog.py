"""The generated catalog on disk, as the control plane and the edges read it.

Layout of a catalog directory (written by :mod:`controlplane.pipeline`)::

    catalog.json                       metadata of every title (the schema below)
    titles/{id}/key.bin                16-byte AES-128 content key (origin only; never served)
    titles/{id}/poster.jpg             2:3 poster art
    titles/{id}/backdrop.jpg           16:9 backdrop art
    titles/{id}/{rendition}/index.m3u8 media playlist; its key line reads
                                       #EXT-X-KEY:METHOD=AES-128,URI="__KEY_URI__"
                                       and the edge puts the license URL in its place
    titles/{id}/{rendition}/seg_00000.ts  MPEG-TS (video + two audio tracks), AES-128-CBC with
                                       PKCS#7 padding, IV = the media sequence number (no IV
                                       attribute), as RFC 8216 section 5.2 describes
    titles/{id}/subs/{lang}.vtt        WebVTT subtitles, one file per language

A title whose ``segment_container`` is ``"fmp4"`` (CMAF, the generated default since format 2)
has instead, per rendition, ``init.mp4`` (after ``EXT-X-MAP`` in the playlist) and
``seg_00000.m4s``.. (video only), one audio rendition per language in ``audio/{lang}/`` (the
same files), segmented WebVTT in ``subs/{lang}/index.m3u8`` + ``seg_00000.vtt``.. (clear), and
``manifest.mpd`` (DASH, the same segments); see :mod:`controlplane.pipeline.cmaf`. With a
``cenc_kid`` (format 3) its samples are CENC ``cbcs`` with ``key.bin`` under that key ID, and
the playlists' key line is ``#EXT-X-KEY:METHOD=SAMPLE-AES,URI="__KEY_URI__",KEYFORMAT=
"urn:uuid:e2719d58-…"`` (ClearKey: the edge puts the licence URL in place); without one (a
format-2 catalog) every segment is whole-segment AES-128 as above.
    titles/{id}/trickplay/thumbs.vtt   WebVTT thumbnail index: cues point at
                                       sprite_NNN.jpg#xywh=x,y,w,h in the same folder
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CATALOG_FORMAT = 3
"""2: titles carry ``segment_container`` (``ts`` or ``fmp4``: CMAF with separate audio);
3: CMAF titles carry ``cenc_kid`` (CENC ``cbcs``, ClearKey licences)."""
READABLE_FORMATS = (1, 2, 3)
"""Format 1 is format 2 with every title in MPEG-TS; format 2 is 3 with AES-128 everywhere."""
FMP4 = "fmp4"
TS = "ts"
KEY_URI_PLACEHOLDER = "__KEY_URI__"


class CatalogError(Exception):
    """The catalog directory is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class Rendition:
    id: str
    width: int
    height: int
    bitrate_bps: int
    """Nominal (target) bitrate of the video, in bit/s."""
    bandwidth_bps: int
    """Peak segment bitrate including audio and TS overhead, as EXT-X-STREAM-INF BANDWIDTH."""
    average_bandwidth_bps: int
    codecs: str
    frame_rate: float


@dataclass(frozen=True)
class Track:
    language: str
    name: str
    channels: int | None = None
    """Audio channels of a separate audio rendition (EXT-X-MEDIA CHANNELS); None: not said."""


@dataclass(frozen=True)
class Title:
    id: str
    name: str
    synopsis: str
    year: int
    genres: tuple[str, ...]
    duration_s: float
    maturity_rating: str
    regions: tuple[str, ...]
    """ISO 3166 country codes where the title may be played; ("*",) means everywhere."""
    requires_plan: str
    """The lowest plan that may play it: "basic" or "premium"."""
    segment_duration_s: float
    segment_durations_s: tuple[float, ...]
    renditions: tuple[Rendition, ...]
    audio: tuple[Track, ...]
    subtitles: tuple[Track, ...]
    trickplay_interval_s: float
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    segment_container: str = TS
    """``"ts"`` (video and every audio track muxed) or ``"fmp4"`` (CMAF: video renditions,
    separate audio renditions in ``audio/{lang}/``, segmented WebVTT in ``subs/{lang}/``)."""
    cenc_kid: str | None = None
    """The key ID (32 hex digits) of a title encrypted with CENC ``cbcs`` (its key is
    ``key.bin``); None: whole-segment AES-128 with ``key.bin``."""

    @property
    def cenc(self) -> bool:
        return self.cenc_kid is not None

    @property
    def separate_audio(self) -> bool:
        return self.segment_container == FMP4

    @property
    def segment_count(self) -> int:
        return len(self.segment_durations_s)

    @property
    def audio_languages(self) -> list[str]:
        return [t.language for t in self.audio]

    @property
    def subtitle_languages(self) -> list[str]:
        return [t.language for t in self.subtitles]

    def rendition(self, rendition_id: str) -> Rendition | None:
        return next((r for r in self.renditions if r.id == rendition_id), None)

    def playable_in(self, region: str) -> bool:
        return "*" in self.regions or region.upper() in self.regions


@dataclass(frozen=True)
class Catalog:
    root: Path
    titles: dict[str, Title]
    profile: str

    def title_dir(self, title_id: str) -> Path:
        return self.root / "titles" / title_id

    def content_key(self, title_id: str) -> bytes:
        key = (self.title_dir(title_id) / "key.bin").read_bytes()
        if len(key) != 16:
            raise CatalogError(f"{title_id}: key.bin is {len(key)} bytes, expected 16")
        return key


def _title_from_json(raw: dict[str, Any]) -> Title:
    return Title(
        id=raw["id"],
        name=raw["name"],
        synopsis=raw["synopsis"],
        year=int(raw["year"]),
        genres=tuple(raw["genres"]),
        duration_s=float(raw["duration_s"]),
        maturity_rating=raw["maturity_rating"],
        regions=tuple(r.upper() if r != "*" else r for r in raw["regions"]),
        requires_plan=raw.get("requires_plan", "basic"),
        segment_duration_s=float(raw["segment_duration_s"]),
        segment_durations_s=tuple(float(d) for d in raw["segment_durations_s"]),
        renditions=tuple(Rendition(**r) for r in raw["renditions"]),
        audio=tuple(Track(**t) for t in raw["audio"]),
        subtitles=tuple(Track(**t) for t in raw["subtitles"]),
        trickplay_interval_s=float(raw.get("trickplay_interval_s", 10.0)),
        extra={k: v for k, v in raw.items() if k.startswith("x_")},
        segment_container=_container(raw.get("segment_container", TS)),
        cenc_kid=_kid(raw.get("cenc_kid")),
    )


def _kid(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 32 or \
            any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"cenc_kid {value!r} is not 32 lower-case hex digits")
    return value


def _container(value: object) -> str:
    if value not in (TS, FMP4):
        raise ValueError(f"segment_container {value!r} is neither {TS!r} nor {FMP4!r}")
    return str(value)


def load_catalog(root: Path) -> Catalog:
    """Read and check ``root/catalog.json``; raise :class:`CatalogError` with a plain reason."""
    meta = root / "catalog.json"
    try:
        raw = json.loads(meta.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogError(f"no catalog at {root}") from exc
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{meta} is unreadable: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") not in READABLE_FORMATS:
        raise CatalogError(f"{meta} has an unknown format (expected {CATALOG_FORMAT})")
    titles: dict[str, Title] = {}
    try:
        for entry in raw["titles"]:
            title = _title_from_json(entry)
            titles[title.id] = title
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"{meta} is inconsistent: {exc!r}") from exc
    for title in titles.values():
        tdir = root / "titles" / title.id
        missing = [r.id for r in title.renditions if not (tdir / r.id / "index.m3u8").is_file()]
        if title.separate_audio:
            missing += [f"audio/{t.language}" for t in title.audio
                        if not (tdir / "audio" / t.language / "index.m3u8").is_file()]
        if not (tdir / "key.bin").is_file():
            missing.append("key.bin")
        if title.cenc and not title.separate_audio:
            missing.append("CMAF segments (cenc_kid on an MPEG-TS title)")
        if missing:
            raise CatalogError(f"{title.id}: missing {', '.join(missing)}")
    return Catalog(root=root, titles=titles, profile=str(raw.get("profile", "default")))


def title_to_json(title: Title) -> dict[str, Any]:
    """Inverse of the loader: the catalog.json entry for one title."""
    return {
        "id": title.id,
        "name": title.name,
        "synopsis": title.synopsis,
        "year": title.year,
        "genres": list(title.genres),
        "duration_s": title.duration_s,
        "maturity_rating": title.maturity_rating,
        "regions": list(title.regions),
        "requires_plan": title.requires_plan,
        "segment_duration_s": title.segment_duration_s,
        "segment_durations_s": list(title.segment_durations_s),
        "renditions": [vars(r) for r in title.renditions],
        "audio": [_track_json(t) for t in title.audio],
        "subtitles": [_track_json(t) for t in title.subtitles],
        "trickplay_interval_s": title.trickplay_interval_s,
        "segment_container": title.segment_container,
        **({"cenc_kid": title.cenc_kid} if title.cenc_kid else {}),
        **title.extra,
    }


def _track_json(track: Track) -> dict[str, Any]:
    return {k: v for k, v in vars(track).items() if v is not None}
