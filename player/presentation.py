"""The engine's one model of a presentation: what HLS playlists and DASH MPDs are mapped into.

:class:`Multivariant` (pathways of :class:`Variant` renditions, :class:`AudioRendition` and
:class:`SubtitleRendition` groups, :class:`ContentProtection`) and :class:`MediaPlaylist` (the
:class:`Segment` index of one rendition, with :class:`InitSection` and :class:`Key`). The
scheduler, ABR, failover, the bridge, offline downloads and the reports read only these; the
parsers that fill them are :mod:`player.manifest` (HLS) and :mod:`player.dash` (DASH).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

DEFAULT_PATHWAY = "."
"""The pathway of variants without PATHWAY-ID (the spec's default)."""


def uri_stem(uri: str) -> str:
    """The file name of ``uri``'s path without its extension (``…/v360/index.m3u8`` → ``index``)."""
    return PurePosixPath(urlsplit(uri).path).stem


@dataclass(frozen=True)
class Variant:
    """One EXT-X-STREAM-INF: a rendition on one pathway."""

    rendition_id: str
    """Stable across pathways (from the URI path, e.g. ``360p``): what the ABR ladder indexes."""
    pathway_id: str
    bandwidth_bps: int
    average_bandwidth_bps: int | None
    resolution: tuple[int, int] | None
    """(width, height) in pixels."""
    codecs: str | None
    frame_rate: float | None
    uri: str
    """Absolute URI of the media playlist."""
    subtitles_group: str | None
    audio_group: str | None


@dataclass(frozen=True)
class Pathway:
    id: str
    variants: tuple[Variant, ...]
    """In bandwidth order, lowest first."""

    def variant(self, rendition_id: str) -> Variant:
        for variant in self.variants:
            if variant.rendition_id == rendition_id:
                return variant
        raise KeyError(rendition_id)


@dataclass(frozen=True)
class SubtitleRendition:
    group_id: str
    language: str | None
    name: str
    uri: str | None
    default: bool
    autoselect: bool


@dataclass(frozen=True)
class AudioRendition:
    """One EXT-X-MEDIA TYPE=AUDIO."""

    group_id: str
    language: str | None
    name: str
    uri: str | None
    """Absolute URI of its media playlist; None: the audio is muxed in the variants."""
    default: bool
    autoselect: bool
    channels: str | None

    @property
    def key(self) -> str:
        """What names this rendition across pathways (whose GROUP-IDs may differ)."""
        return self.name


@dataclass(frozen=True)
class ContentProtection:
    """A DASH ContentProtection descriptor: the hook for CENC decryption."""

    scheme_id_uri: str
    """``urn:mpeg:dash:mp4protection:2011`` (the common scheme) or a DRM system's UUID URN."""
    value: str | None
    """For the common scheme: ``cenc`` or ``cbcs``."""
    default_kid: str | None
    """``cenc:default_KID`` as written (a UUID), or None."""
    licence_url: str | None = None
    """A ClearKey licence URL (``dashif:laurl`` or ``clearkey:Laurl``, absolute), or None."""


@dataclass(frozen=True)
class Multivariant:
    pathways: tuple[Pathway, ...]
    """In the order the playlist lists them (the server's steering order)."""
    steering_uri: str | None
    """EXT-X-CONTENT-STEERING SERVER-URI, absolute; None without steering."""
    default_pathway: str
    """The pathway to start on: the steering tag's PATHWAY-ID, else the first listed."""
    subtitles: dict[str, tuple[SubtitleRendition, ...]]
    """Subtitle renditions per GROUP-ID."""
    audio: dict[str, tuple[AudioRendition, ...]] = field(default_factory=dict)
    """Audio renditions per GROUP-ID."""
    media: dict[str, MediaPlaylist] = field(default_factory=dict)
    """Media playlists known without a fetch, by the URI that names them (a variant's,
    an audio or subtitle rendition's): DASH, whose MPD describes every segment
    (:mod:`player.dash`). Empty for HLS: each media playlist is fetched from its URI."""
    protection: tuple[ContentProtection, ...] = ()
    """DASH ContentProtection descriptors of the presentation (empty: clear media)."""

    @property
    def licence_url(self) -> str | None:
        """The first ClearKey licence URL the MPD names (``dashif:laurl``/``clearkey:Laurl``):
        where keys no one gave come from; None: none named (or HLS, whose key URI is per
        playlist)."""
        return next((c.licence_url for c in self.protection if c.licence_url), None)

    def audio_renditions(self, pathway_id: str | None = None) -> tuple[AudioRendition, ...]:
        """The separate audio renditions (with a URI) of ``pathway_id``'s variants (default:
        the default pathway), in playlist order, one per :attr:`AudioRendition.key`."""
        pathway = self.pathway(pathway_id or self.default_pathway)
        groups = [v.audio_group for v in pathway.variants if v.audio_group]
        out: dict[str, AudioRendition] = {}
        for group in dict.fromkeys(groups):
            for rendition in self.audio.get(group, ()):
                if rendition.uri is not None:
                    out.setdefault(rendition.key, rendition)
        return tuple(out.values())

    @property
    def pathway_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.pathways)

    def pathway(self, pathway_id: str) -> Pathway:
        for pathway in self.pathways:
            if pathway.id == pathway_id:
                return pathway
        raise KeyError(pathway_id)

    @classmethod
    def single(cls, media_playlist_uri: str, bandwidth_bps: int = 0) -> Multivariant:
        """A one-variant stand-in for a URL that is a media playlist itself."""
        variant = Variant(uri_stem(media_playlist_uri) or "default", DEFAULT_PATHWAY, bandwidth_bps,
                          None, None, None, None, media_playlist_uri, None, None)
        return cls((Pathway(DEFAULT_PATHWAY, (variant,)),), None, DEFAULT_PATHWAY, {})


SUPPORTED_KEY_METHODS = frozenset({"NONE", "AES-128", "SAMPLE-AES", "SAMPLE-AES-CTR"})
CENC_KEY_METHODS = frozenset({"SAMPLE-AES", "SAMPLE-AES-CTR"})
"""Sample encryption: CENC ``cbcs`` / ``cenc`` in fragmented MP4 (:mod:`player.cenc`)."""
CLEARKEY_KEYFORMAT = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
CENC_KEYFORMATS = frozenset({"identity", CLEARKEY_KEYFORMAT})


@dataclass(frozen=True)
class Key:
    """EXT-X-KEY: AES-128 (whole-segment CBC), or SAMPLE-AES / SAMPLE-AES-CTR (CENC; the keys
    are per KID, the IVs in the fragments)."""

    method: str
    uri: str
    """Absolute URI of the key (CENC with the ClearKey ``keyformat``: the licence URL)."""
    iv: bytes | None
    """16 bytes, or None: the IV is the segment's media sequence number."""
    keyformat: str = "identity"

    @property
    def cenc(self) -> bool:
        return self.method in CENC_KEY_METHODS

    def iv_for(self, sequence: int) -> bytes:
        return self.iv if self.iv is not None else sequence.to_bytes(16, "big")


@dataclass(frozen=True)
class InitSection:
    """EXT-X-MAP: the init segment (fragmented MP4's ``ftyp``+``moov``) of the segments after
    it."""

    uri: str
    """Absolute URI."""
    byterange: tuple[int, int] | None = None
    """(offset, length) in bytes, or None for the whole resource."""


PACKED_AUDIO_EXTENSIONS = frozenset({".aac", ".ac3", ".ec3", ".eac3", ".mp3", ".adts"})


@dataclass(frozen=True)
class Segment:
    uri: str
    """Absolute URI."""
    duration_s: float
    sequence: int
    """Media sequence number."""
    start_s: float
    """Where the segment starts on the playlist's timeline."""
    key: Key | None
    byterange: tuple[int, int] | None = None
    """(offset, length) in bytes, or None for the whole resource."""
    discontinuity: bool = False
    init: InitSection | None = None
    """The EXT-X-MAP in effect (fragmented MP4); None: self-contained segments."""
    gap: bool = False
    """EXT-X-GAP: the segment is missing; never requested (the engine hands mpv an empty one,
    which it skips, the timestamps of the next segment keeping the timeline)."""

    @property
    def container(self) -> str:
        """``"fmp4"``, ``"packed"`` (elementary audio) or ``"ts"``."""
        if self.init is not None:
            return "fmp4"
        suffix = PurePosixPath(urlsplit(self.uri).path).suffix.lower()
        return "packed" if suffix in PACKED_AUDIO_EXTENSIONS else "ts"


@dataclass(frozen=True)
class MediaPlaylist:
    segments: tuple[Segment, ...]
    target_duration_s: float
    media_sequence: int
    endlist: bool
    playlist_type: str | None

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)

    @property
    def container(self) -> str:
        """The first segment's :attr:`Segment.container`."""
        return self.segments[0].container

    @property
    def key(self) -> Key | None:
        """The first segment's key (a playlist usually has one)."""
        return self.segments[0].key if self.segments else None

    def segment_at(self, position_s: float) -> Segment:
        """The segment playing at ``position_s`` (clamped to the first and last)."""
        for segment in self.segments:
            if position_s < segment.start_s + segment.duration_s:
                return segment
        return self.segments[-1]
