"""Time to first frame of the same content as HLS and as DASH, through the CLI.

    .venv/bin/python tests/bench/dash_ttff.py [--reps 7]

ffmpeg packages one 8 s clip twice (two video renditions and separate audio, fMP4, 2 s
segments): HLS (``-f hls``, a multivariant playlist) and DASH (``-f dash``, SegmentTemplate +
SegmentTimeline). A loopback stdlib server (tests/integration/hls_servers.py, Range honoured)
serves both; ``edgeplay play URL --headless --json`` runs ``--reps`` times for each, alternating,
and the report's ``ttff_ms`` is printed with the median. Exits 1 if a run does not play.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.integration.hls_servers import serve  # noqa: E402

CLIP = ["-f", "lavfi", "-i", "testsrc=size=320x180:rate=25:duration=8",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=8",
        "-map", "0:v", "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
        "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-s:v:1", "640x360",
        "-c:a", "aac", "-b:a", "64k"]


def package(root: Path) -> None:
    (root / "hls").mkdir()
    (root / "dash").mkdir()
    ffmpeg = ["ffmpeg", "-loglevel", "error", "-y", *CLIP]
    subprocess.run([*ffmpeg, "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
                    "-hls_segment_type", "fmp4", "-master_pl_name", "master.m3u8",
                    "-var_stream_map", "v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud,default:yes",
                    "-hls_segment_filename", "%v/s%d.m4s", "%v/index.m3u8"],
                   cwd=root / "hls", check=True, timeout=120)
    subprocess.run([*ffmpeg, "-f", "dash", "-seg_duration", "2",
                    "-adaptation_sets", "id=0,streams=v id=1,streams=a", "out.mpd"],
                   cwd=root / "dash", check=True, timeout=120)


def ttff_ms(url: str) -> float | None:
    result = subprocess.run([sys.executable, "-m", "ui.cli", "play", url, "--headless", "--json"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    lines = result.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines else {}
    return float(report["ttff_ms"]) if report.get("ok") else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"hls": [], "dash": []}
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dash-ttff-") as tmp:
        root = Path(tmp)
        package(root)
        with serve(root, "honour") as (base, _):
            for _ in range(args.reps):
                for kind, path in (("hls", "hls/master.m3u8"), ("dash", "dash/out.mpd")):
                    value = ttff_ms(f"{base}/{path}")
                    if value is None:
                        failed += 1
                    else:
                        times[kind].append(value)
    for kind, values in times.items():
        median = statistics.median(values) if values else float("nan")
        print(f"{kind:5} median ttff {median:7.1f} ms  runs {sorted(values)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
