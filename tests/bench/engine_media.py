"""A small encrypted catalog of *real* MPEG-TS for the engine's end-to-end tests and benchmarks.

``make_media_catalog(root)`` encodes, with ffmpeg, a five-rung ladder (240p…1080p ids at tiny
frame sizes, each rung about twice the last, CBR with filler so segment sizes follow the ladder),
4 s segments with aligned closed GOPs, two muxed audio tracks (eng, spa), encrypts every segment
with AES-128-CBC (IV = sequence number) exactly like the pipeline, and writes a format-1 catalog
the control plane serves with ``--catalog-dir``. Titles (every region, basic plan, PG):

* ``short`` — 3 segments (12 s): plays to its end in a test;
* ``long`` — ``long_segments`` segments (default 12: 48 s): seeks, faults, ABR.

It is the stand-in for the generated ``test`` catalog (``--catalog test``) while that one is not
available; the fake catalog's subtitles and trick-play files come along.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from controlplane.catalog import (
    CATALOG_FORMAT,
    Catalog,
    Rendition,
    Title,
    Track,
    load_catalog,
    title_to_json,
)
from tests.helpers.fake_catalog import _vtt, encrypt_segment, media_playlist

SEGMENT_S = 4
FPS = 24
LADDER = (  # id, width, height, video bit/s
    ("240p", 160, 90, 150_000),
    ("360p", 256, 144, 300_000),
    ("480p", 320, 180, 600_000),
    ("720p", 480, 270, 1_200_000),
    ("1080p", 640, 360, 2_400_000),
)
AUDIO_BPS = 2 * 32_000
AUDIO = (Track("en", "English"), Track("es", "Español"))


def _ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _encode(out: Path, width: int, height: int, bps: int, seconds: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    kbps = bps // 1000
    subprocess.run([
        _ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={FPS}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=660:sample_rate=48000:duration={seconds}",
        "-map", "0:v", "-map", "1:a", "-map", "2:a",
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=spa",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(SEGMENT_S * FPS),
        "-keyint_min", str(SEGMENT_S * FPS), "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_S})", "-flags", "+cgop",
        "-b:v", f"{kbps}k", "-minrate", f"{kbps}k", "-maxrate", f"{kbps}k",
        "-bufsize", f"{kbps}k", "-x264-params", "nal-hrd=cbr",
        "-c:a", "aac", "-b:a", "32k", "-ac", "1",
        "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
        "-hls_segment_filename", str(out / "s%d.ts"), str(out / "index.m3u8"),
    ], check=True, timeout=120)


def _title(title_id: str, name: str, segments: int) -> Title:
    renditions = tuple(
        Rendition(rid, w, h, bps, int(bps * 1.15) + AUDIO_BPS, bps + AUDIO_BPS,
                  "avc1.64000d,mp4a.40.2", float(FPS))
        for rid, w, h, bps in LADDER)
    return Title(
        id=title_id, name=name, synopsis=f"{name}: generated for the engine tests.", year=2024,
        genres=("Drama",), duration_s=float(segments * SEGMENT_S), maturity_rating="PG",
        regions=("*",), requires_plan="basic", segment_duration_s=float(SEGMENT_S),
        segment_durations_s=tuple(float(SEGMENT_S) for _ in range(segments)),
        renditions=renditions, audio=AUDIO, subtitles=AUDIO,
        trickplay_interval_s=float(SEGMENT_S))


def _write_title(tdir: Path, title: Title, encoded: Path) -> None:
    key = hashlib.sha256(f"key:{title.id}".encode()).digest()[:16]
    (tdir / "subs").mkdir(parents=True)
    (tdir / "trickplay").mkdir()
    (tdir / "key.bin").write_bytes(key)
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64) \
        + b"\xff\xd9"
    for art in ("poster.jpg", "backdrop.jpg"):
        (tdir / art).write_bytes(jpeg)
    segments = title.segment_count
    for rendition in title.renditions:
        rdir = tdir / rendition.id
        rdir.mkdir()
        (rdir / "index.m3u8").write_text(media_playlist(segments), encoding="utf-8")
        for index in range(segments):
            plain = (encoded / rendition.id / f"s{index}.ts").read_bytes()
            (rdir / f"seg_{index:05d}.ts").write_bytes(encrypt_segment(plain, key, index))
    for track in title.subtitles:
        cues = [f"[{track.language}] {title.name}, line {i + 1}" for i in range(segments)]
        (tdir / "subs" / f"{track.language}.vtt").write_text(_vtt(cues, segments), "utf-8")
    thumbs = [f"sprite_000.jpg#xywh={160 * i},0,160,90" for i in range(segments)]
    (tdir / "trickplay" / "thumbs.vtt").write_text(_vtt(thumbs, segments), encoding="utf-8")
    (tdir / "trickplay" / "sprite_000.jpg").write_bytes(jpeg)


def make_media_catalog(root: Path, *, long_segments: int = 12) -> Catalog:
    """Encode and write the catalog under ``root`` (a few seconds on two cores)."""
    titles = [_title("short", "Short Film", 3), _title("long", "Long Film", long_segments)]
    with tempfile.TemporaryDirectory(prefix="edgeplay-media-") as tmp:
        encoded = Path(tmp)
        seconds = long_segments * SEGMENT_S
        with ThreadPoolExecutor(2) as pool:
            jobs = [pool.submit(_encode, encoded / rid, w, h, bps, seconds)
                    for rid, w, h, bps in LADDER]
            for job in jobs:
                job.result()
        for title in titles:
            _write_title(root / "titles" / title.id, title, encoded)
    meta = {"format": CATALOG_FORMAT, "profile": "engine-media",
            "titles": [title_to_json(t) for t in titles]}
    (root / "catalog.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return load_catalog(root)


if __name__ == "__main__":
    import sys
    import time

    start = time.monotonic()
    cat = make_media_catalog(Path(sys.argv[1]))
    print(f"{len(cat.titles)} titles in {time.monotonic() - start:.1f} s")
