"""Single-range parsing: what is served, ignored or refused."""

from __future__ import annotations

import pytest

from controlplane.edge.ranges import ByteRange, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=10-10", ByteRange(10, 10)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=900-5000", ByteRange(900, 999)),
        (" bytes=1-2 ", ByteRange(1, 2)),
    ],
)
def test_satisfiable_ranges(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "bytes=", "bytes=-", "items=0-5", "bytes=a-b", "bytes=5-1", "bytes=0-1,5-9"],
)
def test_unusable_headers_are_ignored(header: str | None) -> None:
    assert parse_range(header, 1000) is None


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", 1000), ("bytes=-0", 1000),
                                              ("bytes=0-5", 0), ("bytes=-5", 0)])
def test_unsatisfiable_ranges_raise(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)


def test_content_range_and_length() -> None:
    rng = ByteRange(10, 99)
    assert rng.length == 90
    assert rng.content_range(1000) == "bytes 10-99/1000"
