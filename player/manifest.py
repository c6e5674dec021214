"""HLS playlists as plain dataclasses: the multivariant playlist and VOD media playlists.

A small, strict line parser (RFC 8216 plus draft-pantos-hls-rfc8216bis for PATHWAY-ID and
EXT-X-CONTENT-STEERING) rather than the lenient ``m3u8`` package, so malformed input fails with a
:class:`ManifestError` that says what is wrong and on which line. Unknown tags are ignored, as the
spec asks. Supported: VOD media playlists (EXT-X-ENDLIST required; live is refused), clear or
``AES-128`` segments, ``SAMPLE-AES``/``SAMPLE-AES-CTR`` (CENC ``cbcs``/``cenc`` in fragmented
MP4) with the ``identity`` or W3C ClearKey ``KEYFORMAT`` (other DRM key formats are skipped), byte
ranges, discontinuity markers, EXT-X-GAP (``Segment.gap``); MPEG-TS, fragmented MP4 (EXT-X-MAP
init sections, with BYTERANGE) and packed audio (``.aac``/``.ac3``/``.ec3``/``.mp3`` segments)
(:attr:`MediaPlaylist.container`); audio and subtitle renditions (EXT-X-MEDIA). A plain HLS
playlist without PATHWAY-ID is one pathway named ``"."``.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from player.errors import ManifestError
from player.sniff import describe_body

DEFAULT_PATHWAY = "."
"""The pathway of variants without PATHWAY-ID (the spec's default)."""

_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"\r\n]*"|[^",\s]*)')
_GENERIC_STEMS = frozenset({"index", "playlist", "prog_index", "chunklist", "media", "stream",
                            "mono", "main"})


def parse_attributes(text: str, where: str) -> dict[str, str]:
    """An HLS attribute list (``A=1,B="x,y"``) as a dict; quotes removed."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _ATTR.match(text, pos)
        if match is None:
            raise ManifestError(f"{where}: cannot read the attributes at {text[pos:pos + 30]!r}.")
        value = match[2]
        out[match[1]] = value[1:-1] if value.startswith('"') else value
        pos = match.end()
        if pos < len(text):
            if text[pos] != ",":
                raise ManifestError(f"{where}: cannot read the attributes at "
                                    f"{text[pos:pos + 30]!r} (expected a comma).")
            pos += 1
    return out


def _lines(text: str, what: str) -> list[tuple[int, str]]:
    lines = [(n, line.strip()) for n, line in enumerate(text.lstrip("\ufeff").splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines or lines[0][1] != "#EXTM3U":
        raise ManifestError(f"The {what} is not an M3U8 playlist: the server sent "
                            f"{describe_body(text)}, not a playlist starting with #EXTM3U.")
    return lines[1:]


def _join(base: str, ref: str, where: str) -> str:
    """``urljoin``, with a malformed URI (``http://[x``) as a manifest error."""
    try:
        joined = urljoin(base, ref)
        urlsplit(joined).port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ManifestError(f"{where}: the URI {ref[:80]!r} is malformed ({exc}).") from None
    return joined


def _int(value: str | None, where: str, name: str) -> int:
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise ManifestError(f"{where}: {name} must be a whole number, not {value!r}.")
    return int(value)


# --- multivariant playlist --------------------------------------------------------------------

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
        variant = Variant(_stem(media_playlist_uri) or "default", DEFAULT_PATHWAY, bandwidth_bps,
                          None, None, None, None, media_playlist_uri, None, None)
        return cls((Pathway(DEFAULT_PATHWAY, (variant,)),), None, DEFAULT_PATHWAY, {})


def _stem(uri: str) -> str:
    return PurePosixPath(urlsplit(uri).path).stem


def _parent(uri: str) -> str:
    return PurePosixPath(urlsplit(uri).path).parent.name


def _rendition_ids(uris: list[str], pathways: list[str]) -> list[str]:
    """The first naming rule that is unique within every pathway: the file stem (unless generic
    like ``index``), the parent folder, folder/stem, or the position in the pathway."""
    position: dict[str, int] = {}
    positions = []
    for pathway in pathways:
        positions.append(position.get(pathway, 0))
        position[pathway] = positions[-1] + 1
    rules = [
        [_stem(u) if _stem(u).lower() not in _GENERIC_STEMS else "" for u in uris],
        [_parent(u) for u in uris],
        [f"{_parent(u)}/{_stem(u)}" for u in uris],
        [f"v{i}" for i in positions],
    ]
    for ids in rules:
        seen = set(zip(pathways, ids, strict=True))
        if all(ids) and len(seen) == len(ids):
            return ids
    raise AssertionError("position ids are always unique")  # pragma: no cover


def parse_multivariant(text: str, uri: str) -> Multivariant:
    """Parse the multivariant playlist fetched from ``uri`` (relative URIs resolve against it)."""
    lines = _lines(text, "multivariant playlist")
    pending: tuple[int, dict[str, str]] | None = None
    streams: list[tuple[int, dict[str, str], str]] = []
    subtitles: dict[str, list[SubtitleRendition]] = {}
    audio: dict[str, list[AudioRendition]] = {}
    steering: dict[str, str] | None = None
    for n, line in lines:
        where = f"multivariant playlist line {n}"
        if pending is not None and not line.startswith("#"):
            streams.append((pending[0], pending[1], _join(uri, line, where)))
            pending = None
            continue
        if line.startswith("#EXT-X-STREAM-INF:"):
            if pending is not None:
                raise ManifestError(f"multivariant playlist line {pending[0]}: EXT-X-STREAM-INF "
                                    "has no URI line after it.")
            pending = (n, parse_attributes(line.partition(":")[2], where))
        elif line.startswith(("#EXTINF", "#EXT-X-TARGETDURATION")):
            raise ManifestError(f"{where}: this is a media playlist, not a multivariant playlist.")
        elif line.startswith("#EXT-X-MEDIA:"):
            attrs = parse_attributes(line.partition(":")[2], where)
            if attrs.get("TYPE") == "AUDIO":
                if "GROUP-ID" not in attrs or "NAME" not in attrs:
                    raise ManifestError(f"{where}: an audio rendition needs GROUP-ID and NAME.")
                audio.setdefault(attrs["GROUP-ID"], []).append(AudioRendition(
                    attrs["GROUP-ID"], attrs.get("LANGUAGE"), attrs["NAME"],
                    _join(uri, attrs["URI"], where) if "URI" in attrs else None,
                    attrs.get("DEFAULT") == "YES", attrs.get("AUTOSELECT") == "YES",
                    attrs.get("CHANNELS")))
            elif attrs.get("TYPE") == "SUBTITLES":
                if "GROUP-ID" not in attrs or "NAME" not in attrs:
                    raise ManifestError(f"{where}: a subtitle rendition needs GROUP-ID and NAME.")
                subtitles.setdefault(attrs["GROUP-ID"], []).append(SubtitleRendition(
                    attrs["GROUP-ID"], attrs.get("LANGUAGE"), attrs["NAME"],
                    _join(uri, attrs["URI"], where) if "URI" in attrs else None,
                    attrs.get("DEFAULT") == "YES", attrs.get("AUTOSELECT") == "YES"))
        elif line.startswith("#EXT-X-CONTENT-STEERING:"):
            steering = parse_attributes(line.partition(":")[2], where)
            if not steering.get("SERVER-URI"):
                raise ManifestError(f"{where}: EXT-X-CONTENT-STEERING has no SERVER-URI.")
    if pending is not None:
        raise ManifestError(f"multivariant playlist line {pending[0]}: EXT-X-STREAM-INF has no "
                            "URI line after it.")
    if not streams:
        raise ManifestError("The multivariant playlist lists no variants (no EXT-X-STREAM-INF).")
    mv = _build(streams, subtitles, steering, uri)
    return replace(mv, audio={group: tuple(items) for group, items in audio.items()})


def _build(streams: list[tuple[int, dict[str, str], str]],
           subtitles: dict[str, list[SubtitleRendition]], steering: dict[str, str] | None,
           uri: str) -> Multivariant:
    pathway_of = [attrs.get("PATHWAY-ID") or DEFAULT_PATHWAY for _, attrs, _ in streams]
    ids = _rendition_ids([u for _, _, u in streams], pathway_of)
    by_pathway: dict[str, list[Variant]] = {}
    for (n, attrs, variant_uri), pathway, rendition in zip(streams, pathway_of, ids, strict=True):
        where = f"multivariant playlist line {n}"
        if "BANDWIDTH" not in attrs:
            raise ManifestError(f"{where}: EXT-X-STREAM-INF has no BANDWIDTH.")
        resolution = None
        if "RESOLUTION" in attrs:
            width, x, height = attrs["RESOLUTION"].partition("x")
            if not (x and width.isascii() and width.isdigit() and height.isascii()
                    and height.isdigit() and len(width) + len(height) < 12):
                raise ManifestError(f"{where}: RESOLUTION {attrs['RESOLUTION']!r} is not WxH.")
            resolution = (int(width), int(height))
        try:
            frame_rate = float(attrs["FRAME-RATE"]) if "FRAME-RATE" in attrs else None
            if frame_rate is not None and not (math.isfinite(frame_rate) and frame_rate > 0):
                raise ValueError
        except ValueError:
            raise ManifestError(f"{where}: FRAME-RATE {attrs['FRAME-RATE']!r} is not a number."
                                ) from None
        by_pathway.setdefault(pathway, []).append(Variant(
            rendition_id=rendition, pathway_id=pathway,
            bandwidth_bps=_int(attrs["BANDWIDTH"], where, "BANDWIDTH"),
            average_bandwidth_bps=(_int(attrs["AVERAGE-BANDWIDTH"], where, "AVERAGE-BANDWIDTH")
                                   if "AVERAGE-BANDWIDTH" in attrs else None),
            resolution=resolution, codecs=attrs.get("CODECS"), frame_rate=frame_rate,
            uri=variant_uri, subtitles_group=attrs.get("SUBTITLES"),
            audio_group=attrs.get("AUDIO")))
    pathways = tuple(Pathway(pid, tuple(sorted(vs, key=lambda v: v.bandwidth_bps)))
                     for pid, vs in by_pathway.items())
    steering_uri = (_join(uri, steering["SERVER-URI"], "EXT-X-CONTENT-STEERING") if steering
                    else None)
    wanted = steering.get("PATHWAY-ID") if steering else None
    default = wanted if wanted in by_pathway else pathways[0].id
    return Multivariant(pathways, steering_uri, default,
                        {group: tuple(items) for group, items in subtitles.items()})


# --- media playlist ---------------------------------------------------------------------------

SUPPORTED_KEY_METHODS = frozenset({"NONE", "AES-128", "SAMPLE-AES", "SAMPLE-AES-CTR"})
CENC_KEY_METHODS = frozenset({"SAMPLE-AES", "SAMPLE-AES-CTR"})
"""Sample encryption: CENC ``cbcs`` / ``cenc`` in fragmented MP4 (:mod:`player.cenc`)."""
CLEARKEY_KEYFORMAT = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
_CENC_KEYFORMATS = frozenset({"identity", CLEARKEY_KEYFORMAT})


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


def _parse_key(attrs: dict[str, str], uri: str, where: str,
               current: Key | None = None) -> Key | None:
    method = attrs.get("METHOD")
    if method not in SUPPORTED_KEY_METHODS:
        raise ManifestError(f"{where}: encryption METHOD={method} is not supported "
                            "(only NONE, AES-128, SAMPLE-AES and SAMPLE-AES-CTR).")
    if method == "NONE":
        return None
    if method in CENC_KEY_METHODS:
        keyformat = attrs.get("KEYFORMAT", "identity")
        if keyformat not in _CENC_KEYFORMATS:  # another DRM's line: the ClearKey one may follow
            return current if current is not None and current.cenc else \
                Key(method, "", None, keyformat)
        target = _join(uri, attrs["URI"], where) if attrs.get("URI") else ""
        if target.startswith("data:") and keyformat == "identity":
            target = ""  # Shaka Packager puts the KID there: no key
        return Key(method, target, None, keyformat)
    if attrs.get("KEYFORMAT", "identity") != "identity":
        raise ManifestError(f"{where}: KEYFORMAT {attrs['KEYFORMAT']!r} is not supported.")
    if not attrs.get("URI"):
        raise ManifestError(f"{where}: an AES-128 EXT-X-KEY needs a URI.")
    iv = None
    if "IV" in attrs:
        raw = attrs["IV"]
        digits = raw[2:] if raw[:2] in ("0x", "0X") else ""
        try:
            if not digits or len(digits) > 32 or not all(c in string.hexdigits for c in digits):
                raise ValueError
            iv = int(digits, 16).to_bytes(16, "big")
        except ValueError:
            raise ManifestError(f"{where}: IV {raw!r} is not a 128-bit hex number.") from None
    return Key("AES-128", _join(uri, attrs["URI"], where), iv)


def _parse_map(attrs: dict[str, str], uri: str, where: str) -> InitSection:
    if not attrs.get("URI"):
        raise ManifestError(f"{where}: EXT-X-MAP needs a URI.")
    byterange = None
    if "BYTERANGE" in attrs:
        length_s, at, offset_s = attrs["BYTERANGE"].partition("@")
        byterange = (_int(offset_s, where, "EXT-X-MAP BYTERANGE offset") if at else 0,
                     _int(length_s, where, "EXT-X-MAP BYTERANGE length"))
    return InitSection(_join(uri, attrs["URI"], where), byterange)


def _duration(value: str, where: str) -> float:
    try:
        duration = float(value.partition(",")[0])
    except ValueError:
        raise ManifestError(f"{where}: EXTINF duration {value!r} is not a number.") from None
    if not math.isfinite(duration):
        raise ManifestError(f"{where}: EXTINF duration {value!r} is not a finite number.")
    if duration < 0:
        raise ManifestError(f"{where}: EXTINF duration is negative.")
    return duration


def parse_media_playlist(text: str, uri: str) -> MediaPlaylist:
    """Parse a VOD media playlist fetched from ``uri``."""
    lines = _lines(text, "media playlist")
    target: float | None = None
    sequence = first_sequence = 0
    key: Key | None = None
    init: InitSection | None = None
    duration: float | None = None
    byterange: tuple[int, int] | None = None
    discontinuity = endlist = gap = False
    playlist_type: str | None = None
    segments: list[Segment] = []
    start_s = 0.0
    next_offset = 0
    for n, line in lines:
        where = f"media playlist line {n}"
        tag, _, value = line.partition(":")
        if not line.startswith("#"):
            if duration is None:
                raise ManifestError(f"{where}: segment {line[:60]!r} has no EXTINF before it.")
            segments.append(Segment(_join(uri, line, where), duration, sequence, start_s, key,
                                    byterange, discontinuity, init, gap))
            start_s += duration
            sequence += 1
            duration, byterange, discontinuity, gap = None, None, False, False
        elif tag == "#EXTINF":
            duration = _duration(value, where)
        elif tag == "#EXT-X-TARGETDURATION":
            target = float(_int(value.strip(), where, "EXT-X-TARGETDURATION"))
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            if segments:
                raise ManifestError(f"{where}: EXT-X-MEDIA-SEQUENCE after the first segment.")
            sequence = first_sequence = _int(value.strip(), where, "EXT-X-MEDIA-SEQUENCE")
        elif tag == "#EXT-X-KEY":
            key = _parse_key(parse_attributes(value, where), uri, where, key)
        elif tag == "#EXT-X-BYTERANGE":
            length_s, at, offset_s = value.partition("@")
            length = _int(length_s, where, "EXT-X-BYTERANGE length")
            offset = _int(offset_s, where, "EXT-X-BYTERANGE offset") if at else next_offset
            byterange, next_offset = (offset, length), offset + length
        elif tag == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif tag == "#EXT-X-GAP":
            gap = True
        elif tag == "#EXT-X-PLAYLIST-TYPE":
            playlist_type = value.strip()
        elif tag == "#EXT-X-ENDLIST":
            endlist = True
        elif tag == "#EXT-X-STREAM-INF":
            raise ManifestError(f"{where}: this is a multivariant playlist, not a media playlist.")
        elif tag == "#EXT-X-MAP":
            init = _parse_map(parse_attributes(value, where), uri, where)
    if duration is not None:
        raise ManifestError("The media playlist ends with an EXTINF but no segment URI.")
    if target is None:
        raise ManifestError("The media playlist has no EXT-X-TARGETDURATION.")
    if not segments:
        raise ManifestError("The media playlist has no segments.")
    if not endlist:
        raise ManifestError("Live playlists are not supported: the media playlist has no "
                            "EXT-X-ENDLIST (only video on demand plays).")
    return MediaPlaylist(tuple(segments), target, first_sequence, endlist, playlist_type)
