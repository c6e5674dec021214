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
from dataclasses import replace
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from player.errors import ManifestError
from player.presentation import (
    CENC_KEY_METHODS,
    CENC_KEYFORMATS,
    DEFAULT_PATHWAY,
    SUPPORTED_KEY_METHODS,
    AudioRendition,
    InitSection,
    Key,
    MediaPlaylist,
    Multivariant,
    Pathway,
    Segment,
    SubtitleRendition,
    Variant,
    uri_stem,
)
from player.sniff import describe_body

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
        [uri_stem(u) if uri_stem(u).lower() not in _GENERIC_STEMS else "" for u in uris],
        [_parent(u) for u in uris],
        [f"{_parent(u)}/{uri_stem(u)}" for u in uris],
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
        if keyformat not in CENC_KEYFORMATS:  # another DRM's line: the ClearKey one may follow
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
