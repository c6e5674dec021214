"""Fragmented MP4 (CMAF) and packed audio: checking what an edge sent, and self-describing
fragments for the decoder.

**Validation.** A fragmented-MP4 media segment is a run of ISO-BMFF boxes (``styp``, ``sidx``,
``moof``, ``mdat``…): :class:`BoxChecker` walks their headers as the bytes arrive (every size at
least 8, every type four printable ASCII characters, the last box ending exactly at the end of
the segment) and needs a ``moof`` and an ``mdat``. An init segment (EXT-X-MAP) needs ``moov``
(:func:`parse_init`). A packed-audio segment (``.aac``, ``.ac3``, ``.mp3``) starts with an ID3
tag or an ADTS / MPEG-audio / AC-3 sync word (:func:`check_packed_audio_start`). A failed check
is :class:`~player.decrypt.CorruptSegment`: the edge's fault, the fetcher fails over.

**Rendition switches.** ffmpeg's HLS demuxer (libmpv's) keeps the first init segment's ``moov``
for the whole stream: a new EXT-X-MAP is fetched but its ``moov`` is skipped ("duplicated MOOV
atom"). H.264 (``avc1``) and HEVC (``hvc1``) keep their parameter sets (SPS/PPS) only in the
init segment, so after a switch the decoder would decode the new rendition's frames with the old
rendition's parameter sets (garbage). :class:`ParameterSetInjector` makes every fragment carry
its own rendition's parameter sets, as MPEG-TS does: it prepends them (length-prefixed NAL units,
from ``avcC``/``hvcC``) to the first video sample of the segment's first fragment, growing that
sample's ``trun`` size, the data offsets after it and the ``mdat``. The decoder then switches
resolution on its own. Renditions must share the video track's timescale (the engine checks).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from player.errors import PlayerError

if TYPE_CHECKING:
    from player.cenc_protection import Protection


class MediaFormatError(PlayerError):
    """Bytes that are not the media format the playlist promised."""

    default_code = "corrupt_segment"


_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf",
                         b"mvex", b"edts", b"dinf"})
_MEDIA_FIRST = frozenset({b"styp", b"sidx", b"ssix", b"prft", b"emsg", b"moof", b"free",
                          b"skip", b"ftyp", b"uuid", b"mdat"})


def _box_type_ok(kind: bytes) -> bool:
    return len(kind) == 4 and all(0x20 <= c < 0x7F for c in kind)


def iter_boxes(data: bytes | bytearray | memoryview, start: int = 0,
               end: int | None = None) -> list[tuple[bytes, int, int, int]]:
    """The boxes in ``data[start:end]`` as (type, box start, payload start, box end);
    :class:`MediaFormatError` for a malformed header."""
    end = len(data) if end is None else end
    out = []
    pos = start
    while pos < end:
        if end - pos < 8:
            raise MediaFormatError(f"A {end - pos}-byte fragment at byte {pos} is no MP4 box.")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if end - pos < 16:
                raise MediaFormatError(f"The MP4 box at byte {pos} is cut short.")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if not _box_type_ok(kind) or size < header or pos + size > end:
            raise MediaFormatError(f"Byte {pos} is not a valid MP4 box ({kind!r}, {size} bytes).")
        out.append((bytes(kind), pos, pos + header, pos + size))
        pos += size
    return out


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, _, payload, box_end in iter_boxes(data, start, end):
        if k == kind:
            return payload, box_end
    return None


@dataclass(frozen=True)
class Track:
    track_id: int
    handler: str
    """``vide``, ``soun``, ``text``…"""
    timescale: int
    codec: str
    """The sample entry's four-character code (``avc1``, ``hvc1``, ``mp4a``…)."""
    parameter_sets: bytes = b""
    """Length-prefixed SPS/PPS (VPS) NAL units to put in-band (avc1/hvc1 only)."""


@dataclass(frozen=True)
class InitInfo:
    tracks: tuple[Track, ...]
    protection: Protection | None = None
    """The CENC-protected tracks (:func:`player.cenc_init.read_init`); None: clear."""

    @property
    def video(self) -> Track | None:
        return next((t for t in self.tracks if t.handler == "vide"), None)

    @property
    def has_audio(self) -> bool:
        return any(t.handler == "soun" for t in self.tracks)


def _parameter_sets(codec: str, config: bytes) -> bytes:
    """Length-prefixed NAL units from an avcC/hvcC box's payload."""
    nals: list[bytes] = []
    try:
        if codec == "avc1":
            size = (config[4] & 3) + 1
            pos = 5
            for mask in (0x1F, 0xFF):  # SPS count (5 bits), then PPS count
                count = config[pos] & mask
                pos += 1
                for _ in range(count):
                    n = struct.unpack_from(">H", config, pos)[0]
                    nals.append(config[pos + 2:pos + 2 + n])
                    pos += 2 + n
        else:  # hvc1
            size = (config[21] & 3) + 1
            arrays = config[22]
            pos = 23
            for _ in range(arrays):
                count = struct.unpack_from(">H", config, pos + 1)[0]
                pos += 3
                for _ in range(count):
                    n = struct.unpack_from(">H", config, pos)[0]
                    nals.append(config[pos + 2:pos + 2 + n])
                    pos += 2 + n
    except (IndexError, struct.error):
        raise MediaFormatError(f"The init segment's {codec} configuration is cut short.") from None
    if size not in (1, 2, 4) or any(len(n) >= 1 << (8 * size) for n in nals):
        return b""
    return b"".join(len(n).to_bytes(size, "big") + n for n in nals)


def _track(data: bytes, start: int, end: int) -> Track | None:
    tkhd = _child(data, start, end, b"tkhd")
    mdia = _child(data, start, end, b"mdia")
    if tkhd is None or mdia is None:
        return None
    version = data[tkhd[0]]
    track_id = struct.unpack_from(">I", data, tkhd[0] + (20 if version == 1 else 12))[0]
    hdlr = _child(data, *mdia, b"hdlr")
    mdhd = _child(data, *mdia, b"mdhd")
    minf = _child(data, *mdia, b"minf")
    if hdlr is None or mdhd is None:
        return None
    handler = data[hdlr[0] + 8:hdlr[0] + 12].decode("latin-1")
    mversion = data[mdhd[0]]
    timescale = struct.unpack_from(">I", data, mdhd[0] + (20 if mversion == 1 else 12))[0]
    codec, params = "", b""
    stbl = _child(data, *minf, b"stbl") if minf else None
    stsd = _child(data, *stbl, b"stsd") if stbl else None
    if stsd is not None and stsd[1] - stsd[0] >= 16:
        entries = iter_boxes(data, stsd[0] + 8, stsd[1])
        if entries:
            kind, _, payload, entry_end = entries[0]
            codec = kind.decode("latin-1")
            if codec in ("avc1", "hvc1") and payload + 78 <= entry_end:
                config = _child(data, payload + 78, entry_end,
                                b"avcC" if codec == "avc1" else b"hvcC")
                if config is not None:
                    params = _parameter_sets(codec, data[config[0]:config[1]])
    return Track(track_id, handler, timescale, codec, params)


def parse_init(data: bytes) -> InitInfo:
    """The tracks of an init segment; :class:`MediaFormatError` unless it is one."""
    try:
        boxes = iter_boxes(data)
        moov = next(((p, e) for k, _, p, e in boxes if k == b"moov"), None)
        if moov is None:
            raise MediaFormatError("The init segment has no moov box "
                                   f"(boxes: {[k.decode('latin-1') for k, *_ in boxes][:8]}).")
        tracks = [t for k, _, p, e in iter_boxes(data, *moov) if k == b"trak"
                  if (t := _track(data, p, e)) is not None]
    except (IndexError, struct.error):
        raise MediaFormatError("The init segment's boxes are cut short.") from None
    if not tracks:
        raise MediaFormatError("The init segment describes no track.")
    return InitInfo(tuple(tracks))


class BoxChecker:
    """Checks top-level box headers of a media segment as its bytes pass (any split)."""

    def __init__(self) -> None:
        self._pos = 0
        self._next = 0
        """Where the next box header starts."""
        self._head = bytearray()
        self.kinds: list[bytes] = []

    def feed(self, data: bytes) -> None:
        end = self._pos + len(data)
        view = memoryview(data)
        while self._next < end:
            at = self._next - self._pos
            if at < 0:  # the header started in an earlier chunk
                at = 0
            need = 16 if len(self._head) >= 4 and bytes(self._head[:4]) == b"\0\0\0\1" else 8
            take = view[at:at + need - len(self._head)]
            self._head += take
            if len(self._head) < 8 or (len(self._head) < 16 and self._head[:4] == b"\0\0\0\1"):
                break
            size, kind = struct.unpack_from(">I4s", self._head)
            header = 8
            if size == 1:
                size, header = struct.unpack_from(">Q", self._head, 8)[0], 16
            if not self.kinds and kind not in _MEDIA_FIRST:
                raise MediaFormatError(f"The segment does not start with an MP4 fragment "
                                       f"(first box {kind!r}).")
            if not _box_type_ok(kind) or size < header:
                raise MediaFormatError(f"Byte {self._next} is not a valid MP4 box "
                                       f"({kind!r}, {size} bytes).")
            self.kinds.append(bytes(kind))
            self._next += size
            self._head.clear()
        self._pos = end

    def finish(self) -> None:
        if self._head or self._next != self._pos:
            raise MediaFormatError(f"The segment's last MP4 box is cut short ({self._pos} bytes, "
                                   f"the box ends at {self._next}).")
        if b"moof" not in self.kinds or b"mdat" not in self.kinds:
            raise MediaFormatError("The segment has no moof/mdat fragment.")


_ID3 = b"ID3"


def check_packed_audio_start(data: bytes) -> None:
    """The first bytes of a packed-audio segment: an ID3 tag, or an ADTS/MPEG-audio (0xFFF/0xFFE)
    or AC-3/E-AC-3 (0x0B77) sync word."""
    if data[:3] == _ID3:
        return
    if len(data) >= 2 and ((data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
                           or data[:2] == b"\x0b\x77"):
        return
    raise MediaFormatError(f"The segment is not packed audio (it starts with {data[:4].hex()}, "
                           "not an ID3 tag or an ADTS/MPEG/AC-3 sync word).")


class ParameterSetInjector:
    """Prepends the video track's parameter sets to the first video sample of a fragmented
    segment (see the module docstring). Bytes in as they arrive, bytes out; the output is
    ``extra`` bytes longer than the input when the segment can be rewritten, else unchanged."""

    def __init__(self, track: Track) -> None:
        self._track = track
        self._nals = track.parameter_sets if len(track.parameter_sets) >= 8 else b""
        self.extra = len(self._nals)
        self._held = bytearray()
        self._done = not self._nals

    def feed(self, data: bytes) -> bytes:
        if self._done:
            return data
        self._held += data
        out = self._try()
        return out if out is not None else b""

    def finish(self) -> bytes:
        """The end of the segment: :class:`MediaFormatError` if it had no whole fragment."""
        if self._done:
            return b""
        self._done = True
        raise MediaFormatError("The segment ended before its first fragment.")

    def _try(self) -> bytes | None:
        """The rewritten prefix once the first moof and mdat header are in, else None."""
        held = self._held
        pos = 0
        while True:
            if len(held) - pos < 8:
                return None
            size, kind = struct.unpack_from(">I4s", held, pos)
            if size == 1:
                if len(held) - pos < 16:
                    return None
                size = struct.unpack_from(">Q", held, pos + 8)[0]
            if kind == b"moof":
                break
            if size < 8 or kind == b"mdat":
                raise MediaFormatError(f"The segment has no moof before byte {pos}.")
            pos += size
        moof_at, moof_end = pos, pos + size
        if len(held) < moof_end + 8:
            return None
        header = 16 if struct.unpack_from(">I", held, moof_end)[0] == 1 else 8
        if len(held) < moof_end + header:
            return None
        out = self._rewrite(bytes(held[:moof_end + header]), moof_at)
        rest = bytes(held[moof_end + header:])
        self._held.clear()
        self._done = True
        return out + rest

    def _rewrite(self, head: bytes, moof_at: int) -> bytes:
        buf = bytearray(head)
        moof_size = struct.unpack_from(">I", buf, moof_at)[0]
        mdat_at = moof_at + (struct.unpack_from(">Q", buf, moof_at + 8)[0] if moof_size == 1
                             else moof_size)
        mdat_size, mdat_kind = struct.unpack_from(">I4s", buf, mdat_at)
        if mdat_kind != b"mdat":
            raise MediaFormatError("The first moof is not followed by an mdat.")
        mdat_payload = mdat_at + (16 if mdat_size == 1 else 8)
        truns: list[tuple[int, int, int, bool]] = []  # (flags pos, data_offset pos, offset, video)
        video_trun: tuple[int, int] | None = None  # (first sample size pos, data offset)
        for kind, _, payload, end in iter_boxes(buf, moof_at + 8, mdat_at):
            if kind != b"traf":
                continue
            boxes = iter_boxes(buf, payload, end)
            tfhd = next((p for k, _, p, _ in boxes if k == b"tfhd"), None)
            if tfhd is None:
                continue
            tf_flags = int.from_bytes(buf[tfhd + 1:tfhd + 4], "big")
            if tf_flags & 0x1:  # an explicit base data offset: leave the segment alone
                return self._unchanged(buf, moof_at)
            video = struct.unpack_from(">I", buf, tfhd + 4)[0] == self._track.track_id
            for k, _, p, _ in boxes:
                if k != b"trun":
                    continue
                flags = int.from_bytes(buf[p + 1:p + 4], "big")
                if not flags & 0x1:
                    return self._unchanged(buf, moof_at)
                offset = struct.unpack_from(">i", buf, p + 8)[0]
                truns.append((p, p + 8, offset, video))
                if video and video_trun is None:
                    if not flags & 0x200 or struct.unpack_from(">I", buf, p + 4)[0] == 0:
                        return self._unchanged(buf, moof_at)
                    size_at = p + 12 + (4 if flags & 0x4 else 0) + (4 if flags & 0x100 else 0)
                    video_trun = (size_at, offset)
        if video_trun is None:
            return self._unchanged(buf, moof_at)
        size_at, insert_offset = video_trun
        insert_at = moof_at + insert_offset
        if insert_at != mdat_payload:  # only the simple layout: video data first in the mdat
            return self._unchanged(buf, moof_at)
        extra = len(self._nals)
        struct.pack_into(">I", buf, size_at, struct.unpack_from(">I", buf, size_at)[0] + extra)
        for _, offset_at, offset, video in truns:
            if offset > insert_offset or (offset == insert_offset and not video):
                struct.pack_into(">i", buf, offset_at, offset + extra)
        if mdat_size == 1:
            struct.pack_into(">Q", buf, mdat_at + 8,
                             struct.unpack_from(">Q", buf, mdat_at + 8)[0] + extra)
        elif mdat_size:
            struct.pack_into(">I", buf, mdat_at, mdat_size + extra)
        return bytes(buf[:mdat_payload]) + self._nals + bytes(buf[mdat_payload:])

    def _unchanged(self, buf: bytearray, moof_at: int) -> bytes:
        """The segment cannot be rewritten: the announced length is kept with a ``free`` box
        (ignored by every reader) before the moof."""
        extra = len(self._nals)
        free = struct.pack(">I4s", extra, b"free") + bytes(extra - 8)
        return bytes(buf[:moof_at]) + free + bytes(buf[moof_at:])


def injected_bytes(init: InitInfo | None) -> int:
    """How many bytes :class:`ParameterSetInjector` adds to each segment of ``init``."""
    video = init.video if init is not None else None
    return ParameterSetInjector(video).extra if video is not None else 0
