"""The ``sidx`` box (ISO/IEC 14496-12 §8.16.3): where each subsegment of a single-file fragmented
MP4 lies, as DASH ``SegmentBase@indexRange`` points to it.

:func:`parse_sidx` reads the bytes of the index range (walked with
:func:`player.fmp4.iter_boxes`) and returns the subsegments as absolute byte ranges of the file
with their durations. Only media references are supported: a hierarchical index (a reference to
another ``sidx``) is refused with :class:`~player.fmp4.MediaFormatError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from player.fmp4 import MediaFormatError, iter_boxes


@dataclass(frozen=True)
class Subsegment:
    offset: int
    """First byte in the file."""
    size: int
    """Length in bytes."""
    duration: int
    """In the index's timescale."""


@dataclass(frozen=True)
class SegmentIndex:
    timescale: int
    earliest_presentation_time: int
    """In ``timescale`` units."""
    subsegments: tuple[Subsegment, ...]


def parse_sidx(data: bytes, start: int) -> SegmentIndex:
    """The first ``sidx`` box in ``data``, which are the file's bytes from offset ``start``
    (the index range's first byte): subsegment offsets are absolute in the file."""
    try:
        boxes = iter_boxes(data)
    except MediaFormatError as exc:
        raise MediaFormatError(f"The segment index is not MP4 boxes: {exc.message}") from None
    found = next(((p, e) for k, _, p, e in boxes if k == b"sidx"), None)
    if found is None:
        kinds = [k.decode("latin-1") for k, *_ in boxes][:6]
        raise MediaFormatError(f"The index range holds no sidx box (boxes: {kinds}).")
    pos, end = found
    try:
        version = data[pos]
        timescale = struct.unpack_from(">I", data, pos + 8)[0]
        if version == 0:
            earliest, first_offset = struct.unpack_from(">II", data, pos + 12)
            pos += 20
        else:
            earliest, first_offset = struct.unpack_from(">QQ", data, pos + 12)
            pos += 28
        count = struct.unpack_from(">H", data, pos + 2)[0]
        pos += 4
        if pos + 12 * count > end:
            raise MediaFormatError(f"The sidx box lists {count} references but is cut short.")
        if timescale == 0:
            raise MediaFormatError("The sidx box has a timescale of 0.")
        offset = start + end + first_offset  # the anchor: the first byte after the sidx box
        out = []
        for n in range(count):
            word, duration, _sap = struct.unpack_from(">III", data, pos + 12 * n)
            if word >> 31:
                raise MediaFormatError("The sidx box refers to another sidx (a hierarchical "
                                       "index), which is not supported.")
            size = word & 0x7FFFFFFF
            if size == 0:
                raise MediaFormatError(f"The sidx box's reference {n} has a size of 0.")
            out.append(Subsegment(offset, size, duration))
            offset += size
    except (IndexError, struct.error):
        raise MediaFormatError("The sidx box is cut short.") from None
    return SegmentIndex(timescale, earliest, tuple(out))
