"""Reading just enough of an MPEG-TS segment: its streams, its first video PTS and the RFC 6381
codecs string (from the H.264 SPS), so playlists and subtitles describe what was encoded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

TS_PACKET_BYTES = 188
SYNC_BYTE = 0x47
_STREAM_TYPE_H264 = 0x1B
_STREAM_TYPE_AAC = 0x0F
_NAL_IDR = 5


@dataclass(frozen=True)
class SegmentInfo:
    video_pid: int | None
    audio_pids: tuple[int, ...]
    audio_languages: tuple[str, ...]
    """ISO 639-2 code of each audio stream from its PMT descriptor (``""`` if none)."""
    first_video_pts: int | None
    """PTS of the first video PES, in 90 kHz ticks."""
    codecs: str
    """E.g. ``"avc1.42C01E,mp4a.40.2"``."""
    starts_with_idr: bool
    """The first picture of the segment is an IDR frame (a closed GOP starts here)."""


def is_ts(data: bytes) -> bool:
    """True when ``data`` is whole TS packets, each starting with the sync byte."""
    if not data or len(data) % TS_PACKET_BYTES:
        return False
    return all(data[i] == SYNC_BYTE for i in range(0, len(data), TS_PACKET_BYTES))


def _packets(data: bytes) -> Iterator[tuple[int, bool, bytes]]:
    """(pid, payload_unit_start, payload) of each packet."""
    for off in range(0, len(data) - TS_PACKET_BYTES + 1, TS_PACKET_BYTES):
        pkt = data[off : off + TS_PACKET_BYTES]
        if pkt[0] != SYNC_BYTE:
            continue
        pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
        start = bool(pkt[1] & 0x40)
        afc = (pkt[3] >> 4) & 0x3
        body = 4
        if afc in (2, 3):
            body += 1 + pkt[4]
        if afc in (1, 3) and body < TS_PACKET_BYTES:
            yield pid, start, pkt[body:]


def _psi_section(payload: bytes) -> bytes:
    pointer = payload[0]
    section = payload[1 + pointer :]
    length = ((section[1] & 0x0F) << 8) | section[2]
    return section[: 3 + length]


def inspect_segment(data: bytes) -> SegmentInfo:
    """Streams, first video PTS and codecs of one plaintext segment."""
    pmt_pid: int | None = None
    streams: dict[int, int] = {}
    languages: dict[int, str] = {}
    video_bytes = bytearray()
    first_pts: int | None = None
    for pid, start, payload in _packets(data):
        if pid == 0 and start and pmt_pid is None:
            sec = _psi_section(payload)
            pmt_pid = ((sec[10] & 0x1F) << 8) | sec[11]
        elif pid == pmt_pid and start and not streams:
            streams, languages = _pmt_streams(_psi_section(payload))
        elif streams.get(pid) == _STREAM_TYPE_H264 and len(video_bytes) < 4096:
            if start and first_pts is None:
                first_pts = _pes_pts(payload)
                payload = payload[9 + payload[8] :]
            video_bytes += payload
    video = next((p for p, t in streams.items() if t == _STREAM_TYPE_H264), None)
    audio = tuple(p for p, t in streams.items() if t == _STREAM_TYPE_AAC)
    codecs = [c for c in (_avc1(bytes(video_bytes)),) if c]
    if audio:
        codecs.append("mp4a.40.2")
    audio_languages = tuple(languages.get(p, "") for p in audio)
    return SegmentInfo(
        video, audio, audio_languages, first_pts, ",".join(codecs),
        _first_picture_type(bytes(video_bytes)) == _NAL_IDR,
    )


def _pmt_streams(sec: bytes) -> tuple[dict[int, int], dict[int, str]]:
    """Stream type and ISO 639 language (descriptor 0x0A) of each elementary stream PID."""
    info_len = ((sec[10] & 0x0F) << 8) | sec[11]
    pos, end = 12 + info_len, len(sec) - 4
    streams: dict[int, int] = {}
    languages: dict[int, str] = {}
    while pos + 5 <= end:
        stream_type = sec[pos]
        pid = ((sec[pos + 1] & 0x1F) << 8) | sec[pos + 2]
        es_len = ((sec[pos + 3] & 0x0F) << 8) | sec[pos + 4]
        streams[pid] = stream_type
        desc, desc_end = pos + 5, pos + 5 + es_len
        while desc + 2 <= desc_end:
            tag, length = sec[desc], sec[desc + 1]
            if tag == 0x0A and length >= 3:
                languages[pid] = sec[desc + 2 : desc + 5].decode("ascii", "replace")
            desc += 2 + length
        pos += 5 + es_len
    return streams, languages


def _pes_pts(pes: bytes) -> int | None:
    if pes[:3] != b"\x00\x00\x01" or not pes[7] & 0x80:
        return None
    p = pes[9:14]
    return (
        ((p[0] >> 1) & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | (p[4] >> 1)
    )


def _first_picture_type(es: bytes) -> int | None:
    """NAL unit type of the first coded picture (1: non-IDR slice, 5: IDR slice)."""
    pos = 0
    while (pos := es.find(b"\x00\x00\x01", pos)) != -1 and pos + 3 < len(es):
        nal_type = es[pos + 3] & 0x1F
        if nal_type in (1, _NAL_IDR):
            return nal_type
        pos += 3
    return None


def _avc1(es: bytes) -> str | None:
    """``avc1.PPCCLL`` from the first SPS NAL unit in an H.264 elementary stream."""
    pos = 0
    while (pos := es.find(b"\x00\x00\x01", pos)) != -1 and pos + 6 < len(es):
        if es[pos + 3] & 0x1F == 7:
            return "avc1." + es[pos + 4 : pos + 7].hex().upper()
        pos += 3
    return None
