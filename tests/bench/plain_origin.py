"""A plain third-party HLS origin for the TTFF bench: ffmpeg-packaged TS and fMP4 sets (two
renditions, 4 s segments, H.264 + AAC, a multivariant playlist each) served by
``python3 -m http.server`` on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DURATION_S = 24
SEGMENT_S = 4


def make_sets(root: Path) -> dict[str, str]:
    """``ts/master.m3u8`` and ``fmp4/master.m3u8`` under ``root``; name → path."""
    ffmpeg = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
    out: dict[str, str] = {}
    for name, extra in (("ts", []), ("fmp4", ["-hls_segment_type", "fmp4",
                                             "-hls_fmp4_init_filename", "init.mp4"])):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        ext = "m4s" if name == "fmp4" else "ts"
        subprocess.run([
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={DURATION_S}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={DURATION_S}",
            "-map", "0:v", "-map", "0:v", "-map", "1:a", "-map", "1:a",
            "-c:v", "libx264", "-preset", "veryfast", "-g", "100", "-keyint_min", "100",
            "-sc_threshold", "0", "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_S})",
            "-s:v:0", "640x360", "-b:v:0", "700k", "-s:v:1", "1280x720", "-b:v:1", "2000k",
            "-c:a", "aac", "-b:a", "96k",
            "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod", *extra,
            "-var_stream_map", "v:0,a:0 v:1,a:1", "-master_pl_name", "master.m3u8",
            "-hls_segment_filename", str(folder / "v%v" / f"seg_%d.{ext}"),
            str(folder / "v%v" / "index.m3u8"),
        ], check=True, timeout=300)
        out[name] = f"{name}/master.m3u8"
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """``python3 -m http.server`` on ``root``; yields its base URL; stopped and reaped after."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1", "--directory", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(10)
