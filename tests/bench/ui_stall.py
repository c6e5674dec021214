"""Benchmark: the worst UI-thread stall of the real app while it plays and downloads at once.

    scripts/in-test-session.sh .venv/bin/python tests/bench/ui_stall.py \\
        [--seconds 12] [--catalog test] [--hog] [--surface quick|quickwidget|sw|thread|widget]

The real app (Xvfb + Mesa OpenGL, libmpv rendering into the window, the bundled control plane
and edges on loopback) with a timer probe on the UI thread: a 5 ms ``QTimer`` whose lateness is
a stall. Four phases side by side: the idle home screen; playing a title; downloading
(another title, deleted and downloaded again in a loop, so the downloader never rests); playing
and downloading at once. Prints the worst, p99 and p95 stalls and how many exceeded 50 ms, and the
frames mpv dropped in each phase (``frame-drop-count``: late for the display;
``decoder-frame-drop-count``: skipped by the decoder). ``--hog`` runs a one-core busy loop in a
child process for the whole run (the bench owns it and kills it at the end); ``--surface`` picks
the video surface (``EDGEPLAY_VIDEO``, see ui/video.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PROBE_MS = 5
GOAL_MS = 50.0


class Probe:
    """Lateness of a periodic timer on the GUI thread, per phase."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer
        self.timer = QTimer(interval=PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.phase: str | None = None
        self.stalls: dict[str, list[float]] = {}
        self.drops: dict[str, tuple[int, int]] = {}

    def start(self, phase: str) -> None:
        self.phase = phase
        self.stalls[phase] = []
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.phase is not None:
            self.stalls[self.phase].append(max(0.0, (now - self.last) * 1000 - PROBE_MS))
        self.last = now


class Driver:
    def __init__(self, window: Any, seconds: float) -> None:
        from PySide6.QtCore import QTimer
        self.window = window
        self.seconds = seconds
        self.probe = Probe()
        self.phases = ["idle home", "playing", "downloading", "playing + downloading"]
        self.downloads = 0
        self.looping = False
        self.error: str | None = None
        self.renderer = ""
        window.home_ready.connect(self._home_ready)
        window.dl.finished.connect(self._downloaded)
        window.dl.failed.connect(self._failed)
        window.controller.failed.connect(lambda exc: self._failed(f"playback: {exc}"))
        self.timer = QTimer(interval=200)
        self.timer.timeout.connect(self._tick)
        self.started = False
        self._drops = [0, 0]
        self.phase_started = 0.0
        self.index = -1

    def _failed(self, text: str) -> None:
        self.error = self.error or str(text)

    def _titles(self) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for section in self.window.home.sections:
            for t in section.model.titles():
                if t.get("playable", True) is not False:
                    seen.setdefault(str(t["id"]), t)
        return list(seen.values())

    def _home_ready(self) -> None:
        if self.started:
            return
        self.started = True
        titles = self._titles()
        self.play_title, self.dl_title = titles[0], titles[1]
        self.timer.start()
        self._next()

    def _next(self) -> None:
        self.index += 1
        w = self.window
        if self.index == len(self.phases):
            self.renderer = getattr(w.player.video, "renderer", "")
            self.video = w.player.video
            self.looping = False
            self.timer.stop()
            self.probe.timer.stop()
            from PySide6.QtWidgets import QApplication
            QApplication.quit()
            return
        phase = self.phases[self.index]
        if "playing" in phase and not w.controller.playing:
            w.open_title(self.play_title)
            w.play(self.play_title, True)
        if phase == "downloading":
            w._leave_player()
        if "downloading" in phase and not self.looping:
            self.looping = True
            self._download()
        self.phase_started = time.monotonic() + 2.0  # let the phase get going
        self.pending = phase

    def _tick(self) -> None:
        now = time.monotonic()
        self._count_drops()
        if self.pending is not None and now >= self.phase_started:
            self.probe.start(self.pending)
            self.probe.drops[self.pending] = (0, 0)
            self.pending = None
            self.phase_started = now
        elif self.pending is None and now - self.phase_started >= self.seconds:
            self.probe.phase = None
            self._next()

    def _count_drops(self) -> None:
        """Add the frames mpv dropped since the last tick to the phase being measured (mpv's
        counters start again at 0 with each file, so a smaller value is a fresh count)."""
        mpv = self.window.controller.mpv
        counts = []
        for name in ("frame-drop-count", "decoder-frame-drop-count"):
            try:
                counts.append(int(mpv.get(name) or 0))
            except Exception:  # no file loaded: the properties are unavailable
                counts.append(0)
        fresh = [now - last if now >= last else now
                 for now, last in zip(counts, self._drops, strict=True)]
        self._drops = counts
        phase = self.probe.phase
        if phase is not None:
            vo, dec = self.probe.drops[phase]
            self.probe.drops[phase] = (vo + fresh[0], dec + fresh[1])

    def _download(self) -> None:
        dl = self.window.dl
        row = dl.row_for_title(str(self.dl_title["id"]))
        if row is not None:
            dl.delete(row["id"])
        dl.download(str(self.dl_title["id"]), str(self.window.profile.get("id", "")))

    def _downloaded(self, _: Any) -> None:
        self.downloads += 1
        if self.looping:
            from PySide6.QtCore import QTimer
            QTimer.singleShot(0, self._download)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--catalog", default="test")
    parser.add_argument("--hog", action="store_true",
                        help="a one-core busy loop in a child process for the whole run")
    parser.add_argument("--surface", choices=("quick", "quickwidget", "sw", "thread", "widget"),
                        default=None,
                        help="video surface (default: the app's)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("needs an X display with OpenGL: run under scripts/in-test-session.sh")
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    os.environ.setdefault("EDGEPLAY_AO", "null")
    if args.surface:
        os.environ["EDGEPLAY_VIDEO"] = args.surface
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.hog else None
    try:
        return run(args)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()


def run(args: argparse.Namespace) -> int:
    from ui.app import AppOptions, run_app
    drivers: list[Driver] = []
    data = tempfile.mkdtemp(prefix="edgeplay-stall-")
    status = run_app(AppOptions(catalog=args.catalog, data_dir=data, auto_sign_in=True,
                                on_window=lambda w: drivers.append(Driver(w, args.seconds))))
    driver = drivers[0]
    print(f"app exit status {status}; {driver.downloads} downloads finished during the run")
    if driver.error:
        print(f"error: {driver.error}")
    print(f"{'phase':<24} {'samples':>8} {'worst ms':>9} {'p99 ms':>8} {'p95 ms':>8} "
          f"{'> 50 ms':>8} {'dropped vo/dec':>15}")
    for phase in driver.phases:
        stalls = driver.probe.stalls.get(phase, [])
        if not stalls:
            print(f"{phase:<24} (not measured)")
            continue
        print(f"{phase:<24} {len(stalls):>8} {max(stalls):>9.1f} "
              f"{quantile(stalls, 0.99):>8.1f} {quantile(stalls, 0.95):>8.1f} "
              f"{sum(s > GOAL_MS for s in stalls):>8} "
              f"{'{}/{}'.format(*driver.probe.drops.get(phase, (0, 0))):>15}")
    paints = list((getattr(driver, "video", None) and driver.video.render_ms) or [])
    if paints:
        print(f"video renders ({type(driver.video).__name__}, all phases): {len(paints)}, median "
              f"{statistics.median(paints):.1f} ms, p95 {quantile(paints, 0.95):.1f} ms, "
              f"worst {max(paints):.1f} ms; renderer: {drivers[0].renderer or 'unknown'}")
    worst = max((max(v) for v in driver.probe.stalls.values() if v), default=float("nan"))
    print(f"goal: worst stall < {GOAL_MS:.0f} ms while playing and downloading; "
          f"worst overall {worst:.1f} ms (probe every {PROBE_MS} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
