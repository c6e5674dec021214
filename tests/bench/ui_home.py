"""Benchmark: build and scroll a home screen of 10,000 titles (offscreen Qt, no network).

    .venv/bin/python tests/bench/ui_home.py [--titles 10000] [--rows 20]

Prints the time to build the rows and the frame times (a synchronous ``repaint()`` of the
window after each D-pad step) while moving right along rows and down across them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--titles", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from tests.ui.conftest import make_title
    from ui.aio import AsyncLoop, Runner
    from ui.artwork import ArtCache
    from ui.nav import Action
    from ui.pages.home import HomePage
    from ui.theme import DESKTOP

    app = QApplication([])
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    art = ArtCache(runner, Path(tempfile.mkdtemp()))
    home = HomePage(art, DESKTOP)
    home.setStyleSheet(DESKTOP.style_sheet())
    home.resize(1600, 900)
    home.show()
    per_row = args.titles // args.rows
    rows = [{"id": f"g{r}", "title": f"Genre {r}",
             "items": [make_title(r * per_row + i) for i in range(per_row)]}
            for r in range(args.rows)]
    t0 = time.perf_counter()
    home.set_rows(rows)
    app.processEvents()
    home.repaint()
    build_ms = (time.perf_counter() - t0) * 1000
    home.focus_default()
    frames: list[float] = []
    for _row in range(min(args.rows, 10)):
        for _ in range(40):
            t = time.perf_counter()
            home.on_action(Action.RIGHT)
            app.processEvents()
            home.repaint()
            frames.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        home.on_action(Action.DOWN)
        app.processEvents()
        home.repaint()
        frames.append((time.perf_counter() - t) * 1000)
    frames.sort()
    print(f"titles {per_row * args.rows} in {args.rows} rows: build + first paint "
          f"{build_ms:.0f} ms")
    print(f"frames {len(frames)}: median {statistics.median(frames):.1f} ms, "
          f"p95 {frames[int(len(frames) * 0.95)]:.1f} ms, max {frames[-1]:.1f} ms")
    runner.close()
    aio.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
