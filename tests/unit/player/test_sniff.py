"""What a body that is not a playlist is, in words, never in raw bytes."""

from __future__ import annotations

import struct

import pytest

from player.errors import ManifestError
from player.manifest import parse_media_playlist, parse_multivariant
from player.sniff import describe_body, looks_like_playlist

MP4 = struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isomiso2" + bytes(100)
TS = (b"\x47\x40\x00\x10" + bytes(184)) * 3


@pytest.mark.parametrize(("body", "described"), [
    (MP4, "an MP4 file"),
    (struct.pack(">I", 8) + b"moov" + bytes(8), "an MP4 file"),
    (TS, "an MPEG-TS segment"),
    (b"ID3\x04\x00" + bytes(50), "ID3 tag"),
    (b"\x1aE\xdf\xa3" + bytes(20), "Matroska/WebM"),
    (b"\x89PNG\r\n\x1a\n" + bytes(20), "a PNG image"),
    (b"\xff\xd8\xff\xe0" + bytes(20), "a JPEG image"),
    (b"\x1f\x8b\x08\x00" + bytes(20), "gzip-compressed data"),
    (b"<!DOCTYPE html>\n<html><head><title>Login</title>", "HTML (a web page)"),
    (b"\xef\xbb\xbf  <html lang=en>", "HTML (a web page)"),
    (b'<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">', "a DASH manifest"),
    (b"<?xml version='1.0'?><feed/>", "XML"),
    (b'{"error": "unauthorized"}', "JSON"),
    (b"[1, 2, 3]", "JSON"),
    (b'{"error": ', "JSON-like text that is not valid JSON"),
    (b"WEBVTT\n\n00:00.000 --> 00:01.000\nhi", "a WebVTT subtitle file"),
    (bytes(range(256)) * 4, "binary data of 1024 bytes"),
    (b"\x01", "binary data of 1 byte"),
    (b"", "an empty body"),
    (b"  \n\t", "only blank space"),
    (b"Service Unavailable\nretry later", "text starting with 'Service Unavailable'"),
])
def test_describe_body(body: bytes, described: str) -> None:
    said = describe_body(body)
    assert described in said
    assert not looks_like_playlist(body)


def test_text_is_described_as_its_bytes_were() -> None:
    """Text an HTTP client decoded (each unreadable byte one replacement character) still
    shows its magic numbers where they were."""
    assert "an MP4 file" in describe_body(MP4.decode("latin-1"))
    assert "binary data of 300 bytes" in describe_body(
        bytes(range(200, 256)).decode("utf-8", "replace") * 5 + "\x00" * 20)


def test_long_or_unprintable_text_is_cut_and_cleaned() -> None:
    said = describe_body(b"x" * 100 + b"\nsecond line")
    assert said == f"text starting with {'x' * 40 + '…'!r}"
    assert "\x1b" not in describe_body(b"hello \x1b[31mred")


@pytest.mark.parametrize("body", [b"#EXTM3U\n", b"\xef\xbb\xbf#EXTM3U\n", "\n  #EXTM3U\r\n"])
def test_a_playlist_looks_like_one(body: bytes | str) -> None:
    assert looks_like_playlist(body)


@pytest.mark.parametrize("parse", [parse_multivariant, parse_media_playlist])
def test_the_parsers_say_what_the_body_is_not_what_it_contains(parse: object) -> None:
    html = "<!doctype html><html><body>Captive portal: sign in</body></html>"
    with pytest.raises(ManifestError) as caught:
        parse(html, "http://example.test/x.m3u8")  # type: ignore[operator]
    message = caught.value.message
    assert "is not an M3U8 playlist: the server sent HTML (a web page)" in message
    assert "Captive portal" not in message and "<html" not in message
    with pytest.raises(ManifestError) as binary:
        parse(MP4.decode("latin-1"), "http://example.test/x.m3u8")  # type: ignore[operator]
    assert "an MP4 file" in binary.value.message and "ftyp" not in binary.value.message
