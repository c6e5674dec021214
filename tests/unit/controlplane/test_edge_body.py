"""Byte flipping for the corrupt fault: positions are offsets in the source file."""

from __future__ import annotations

from controlplane.edge.body import flip_bytes


def test_flips_only_positions_inside_the_chunk() -> None:
    chunk = bytes(10)
    assert flip_bytes(chunk, 100, (95, 101, 109, 110)) == bytes([0, 0xFF] + [0] * 7 + [0xFF])
    assert flip_bytes(chunk, 0, (50,)) is chunk
    assert flip_bytes(b"\x47\x00", 0, (0,)) == b"\xb8\x00"
