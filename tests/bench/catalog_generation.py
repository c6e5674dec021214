"""Benchmark: first-run generation of a catalog, from nothing, through ``ensure_catalog``.

    .venv/bin/python tests/bench/catalog_generation.py [--profile default|test|default-ts|test-ts]
        [--cache-dir DIR]

Generates into a fresh temporary cache directory (or ``--cache-dir``, which must not already
hold the catalog) and prints wall time, CPU time of this process and its ffmpeg and packager
children, size
on disk, titles and segments, plus the load average so a busy machine shows in the numbers.
Goals (2 cores): default at most 180 s, test at most 20 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from controlplane.catalog import load_catalog  # noqa: E402
from controlplane.pipeline import ensure_catalog, find_ffmpeg  # noqa: E402

GOALS_S = {"default": 180.0, "test": 20.0, "default-ts": 180.0, "test-ts": 20.0}


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=list(GOALS_S), default="default")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true", help="do not echo progress lines")
    args = parser.parse_args()
    temp = None if args.cache_dir else Path(tempfile.mkdtemp(prefix="edgeplay-bench-"))
    cache_dir = args.cache_dir or temp
    assert cache_dir is not None
    if (cache_dir / f"catalog-{args.profile}").exists():
        parser.error(f"{cache_dir} already holds a {args.profile} catalog; pass an empty dir")
    load_before = os.getloadavg()
    wall0, cpu0 = time.monotonic(), cpu_seconds()

    def echo(line: str) -> None:
        if not args.quiet:
            print(f"  {time.monotonic() - wall0:6.1f} s  {line}", flush=True)

    try:
        root = ensure_catalog(args.profile, cache_dir, echo)
        wall_s, cpu_s = time.monotonic() - wall0, cpu_seconds() - cpu0
        catalog = load_catalog(root)
        segments = sum(t.segment_count * len(t.renditions) for t in catalog.titles.values())
        video_s = sum(t.duration_s for t in catalog.titles.values())
        print(f"profile        {args.profile}  (ffmpeg: {find_ffmpeg()}, {os.cpu_count()} CPUs)")
        print(f"wall time      {wall_s:.1f} s   (goal <= {GOALS_S[args.profile]:.0f} s)")
        print(f"CPU time       {cpu_s:.1f} s   ({cpu_s / wall_s:.2f} cores busy on average)")
        print(f"video          {video_s:.0f} s in {len(catalog.titles)} titles, "
              f"{segments} segments over {len(next(iter(catalog.titles.values())).renditions)} "
              "renditions")
        print(f"size on disk   {disk_bytes(root) / 1e6:.1f} MB")
        print(f"load average   {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
