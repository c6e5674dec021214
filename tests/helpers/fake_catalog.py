"""A small, valid format-1 catalog on disk, without ffmpeg.

``make_fake_catalog(root)`` writes what :func:`controlplane.catalog.load_catalog` reads:
catalog.json, and per title key.bin, poster.jpg, backdrop.jpg, two renditions (media playlists
with the ``__KEY_URI__`` placeholder and .ts segments), English and French subtitles and a
trick-play index.

Segments are runs of 188-byte TS packets (sync byte 0x47, a packet counter, a payload derived from
title/rendition/segment), unencrypted by default; with ``encrypted=True`` each segment is
AES-128-CBC with PKCS#7 padding under the title's key.bin and IV = its media sequence number, as
the real pipeline writes them (so it grows by up to 16 bytes). The playlists carry the EXT-X-KEY
line either way, as the format requires.

Titles vary so policy tests have something to bite on (the pattern repeats every three titles):

=====  ===========  =============  ========  ======
index  id           regions        plan      rating
=====  ===========  =============  ========  ======
0      ``title0``   everywhere     basic     PG
1      ``title1``   ``["GB"]``     basic     12
2      ``title2``   everywhere     premium   R
=====  ===========  =============  ========  ======
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from controlplane.catalog import (
    CATALOG_FORMAT,
    KEY_URI_PLACEHOLDER,
    Catalog,
    Rendition,
    Title,
    Track,
    load_catalog,
    title_to_json,
)

TS_PACKET_BYTES = 188
SEGMENT_DURATION_S = 4.0
RENDITIONS = (
    Rendition("360p", 640, 360, 800_000, 1_000_000, 900_000, "avc1.64001e,mp4a.40.2", 25.0),
    Rendition("720p", 1280, 720, 2_500_000, 3_000_000, 2_700_000, "avc1.64001f,mp4a.40.2", 25.0),
)
_VARIANTS = (
    {"regions": ("*",), "requires_plan": "basic", "maturity_rating": "PG"},
    {"regions": ("GB",), "requires_plan": "basic", "maturity_rating": "12"},
    {"regions": ("*",), "requires_plan": "premium", "maturity_rating": "R"},
)
# A real 16×9 JPEG (one flat colour): the app decodes posters and sprites, and a broken image
# would make Qt warn (and the test fail).
_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAZABkAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERX"
    "RTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAJABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAA"
    "AAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAk"
    "M2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT"
    "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QA"
    "HwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdh"
    "cRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hp"
    "anN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk"
    "5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDm6KKK6DE//9k="
)


def fake_title(index: int, segments: int = 4) -> Title:
    variant = _VARIANTS[index % len(_VARIANTS)]
    return Title(
        id=f"title{index}",
        name=f"Fake Title {index}",
        synopsis=f"Fake title number {index}, generated for tests.",
        year=2000 + index,
        genres=("Drama",) if index % 2 else ("Comedy", "Family"),
        duration_s=segments * SEGMENT_DURATION_S,
        maturity_rating=str(variant["maturity_rating"]),
        regions=tuple(variant["regions"]),
        requires_plan=str(variant["requires_plan"]),
        segment_duration_s=SEGMENT_DURATION_S,
        segment_durations_s=tuple(SEGMENT_DURATION_S for _ in range(segments)),
        renditions=RENDITIONS,
        audio=(Track("en", "English"), Track("fr", "Français")),
        subtitles=(Track("en", "English"), Track("fr", "Français")),
        trickplay_interval_s=SEGMENT_DURATION_S,
    )


def fake_segment(title_id: str, rendition_id: str, index: int, segment_bytes: int) -> bytes:
    """Plaintext TS packets for one segment (deterministic)."""
    seed = hashlib.sha256(f"{title_id}/{rendition_id}/{index}".encode()).digest()
    payload = (seed * 6)[: TS_PACKET_BYTES - 4]
    packets = []
    for n in range(segment_bytes // TS_PACKET_BYTES):
        header = bytes([0x47, 0x01, 0x00, 0x10 | (n & 0x0F)])
        packets.append(header + payload)
    return b"".join(packets)


def encrypt_segment(plain: bytes, key: bytes, sequence: int) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(sequence.to_bytes(16, "big"))).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def media_playlist(segments: int) -> str:
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{int(SEGMENT_DURATION_S)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f'#EXT-X-KEY:METHOD=AES-128,URI="{KEY_URI_PLACEHOLDER}"',
    ]
    for index in range(segments):
        lines += [f"#EXTINF:{SEGMENT_DURATION_S:.3f},", f"seg_{index:05d}.ts"]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


def _timestamp(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


def _vtt(cues: list[str], segments: int) -> str:
    out = ["WEBVTT", ""]
    for index, text in enumerate(cues[:segments]):
        start, end = index * SEGMENT_DURATION_S, (index + 1) * SEGMENT_DURATION_S
        out += [f"{_timestamp(start)} --> {_timestamp(end)}", text, ""]
    return "\n".join(out)


def _write_title(tdir: Path, title: Title, segment_bytes: int, encrypted: bool) -> None:
    key = hashlib.sha256(f"key:{title.id}".encode()).digest()[:16]
    (tdir / "subs").mkdir(parents=True)
    (tdir / "trickplay").mkdir()
    (tdir / "key.bin").write_bytes(key)
    (tdir / "poster.jpg").write_bytes(_JPEG)
    (tdir / "backdrop.jpg").write_bytes(_JPEG)
    segments = title.segment_count
    for rendition in title.renditions:
        rdir = tdir / rendition.id
        rdir.mkdir()
        (rdir / "index.m3u8").write_text(media_playlist(segments), encoding="utf-8")
        for index in range(segments):
            data = fake_segment(title.id, rendition.id, index, segment_bytes)
            if encrypted:
                data = encrypt_segment(data, key, index)
            (rdir / f"seg_{index:05d}.ts").write_bytes(data)
    for track in title.subtitles:
        cues = [f"[{track.language}] {title.name}, line {i + 1}" for i in range(segments)]
        (tdir / "subs" / f"{track.language}.vtt").write_text(_vtt(cues, segments), "utf-8")
    thumbs = [f"sprite_000.jpg#xywh={160 * i},0,160,90" for i in range(segments)]
    (tdir / "trickplay" / "thumbs.vtt").write_text(_vtt(thumbs, segments), encoding="utf-8")
    (tdir / "trickplay" / "sprite_000.jpg").write_bytes(_JPEG)


def make_fake_catalog(
    root: Path,
    titles: int = 3,
    segments: int = 4,
    segment_bytes: int = TS_PACKET_BYTES * 200,
    *,
    encrypted: bool = False,
    profile: str = "fake",
) -> Catalog:
    """Write a catalog of ``titles`` titles under ``root`` and load it back."""
    if segment_bytes <= 0 or segment_bytes % TS_PACKET_BYTES:
        raise ValueError(f"segment_bytes must be a positive multiple of {TS_PACKET_BYTES}")
    entries = []
    for index in range(titles):
        title = fake_title(index, segments)
        _write_title(root / "titles" / title.id, title, segment_bytes, encrypted)
        entries.append(title_to_json(title))
    meta = {"format": CATALOG_FORMAT, "profile": profile, "titles": entries}
    (root / "catalog.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return load_catalog(root)
