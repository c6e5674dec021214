"""The real app under X with real OpenGL: a title of the generated test catalog plays in the
window (the grabbed frame shows the burned-in picture, not black), TV mode, the screenshot
command, and exit status 0. Needs DISPLAY (e.g. ``Xvfb :55 &`` then ``DISPLAY=:55``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow, pytest.mark.mpv,
    pytest.mark.skipif(not os.environ.get("DISPLAY"),
                       reason="needs an X display with OpenGL (run under Xvfb: DISPLAY=:N)"),
]


def run_app(tmp_path: Path, *args: str, catalog: str = "test") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "EDGEPLAY_AO": "null",
           "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", "--catalog", catalog, "--data-dir", str(tmp_path / "d"),
         *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)


def brightness(image: QImage, x0: float, y0: float, x1: float, y1: float) -> float:
    """Mean brightness (0..255) over a grid of samples in the given fractions of the image."""
    total = n = 0
    for i in range(20):
        for j in range(20):
            x = int(image.width() * (x0 + (x1 - x0) * i / 19))
            y = int(image.height() * (y0 + (y1 - y0) * j / 19))
            c = image.pixelColor(min(x, image.width() - 1), min(y, image.height() - 1))
            total += (c.red() + c.green() + c.blue()) / 3
            n += 1
    return total / n


def test_player_frame_is_not_black(tmp_path: Path) -> None:
    shot = tmp_path / "player.png"
    result = run_app(tmp_path, "--screenshot", str(shot), "--page", "player")
    assert result.returncode == 0, result.stderr[-3000:]
    image = QImage(str(shot))
    assert not image.isNull()
    # The middle of the video (clear of the controls and the stats overlay) shows the
    # generated picture: the title card and the burned-in rendition label, not black.
    assert brightness(image, 0.05, 0.25, 0.6, 0.7) > 25
    # The burned-in label sits at the top left of the picture.
    assert brightness(image, 0.02, 0.02, 0.4, 0.12) > 25


def test_tv_home_screenshot_and_exit_0(tmp_path: Path) -> None:
    shot = tmp_path / "tv.png"
    result = run_app(tmp_path, "--screenshot", str(shot), "--tv")
    assert result.returncode == 0, result.stderr[-3000:]
    image = QImage(str(shot))
    assert (image.width(), image.height()) >= (1280, 720)
    assert brightness(image, 0.05, 0.15, 0.3, 0.6) > 15  # posters, not an empty page


def test_downloads_from_the_app_then_play_with_no_network(tmp_path: Path) -> None:
    """The screenshot job downloads two CMAF titles (init segments, separate audio in two
    languages) through the app; the Downloads page shows them ready, and the command line plays
    one with no control plane at all."""
    shot = tmp_path / "downloads.png"
    result = run_app(tmp_path, "--screenshot", str(shot), "--page", "downloads")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not QImage(str(shot)).isNull()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    listed = subprocess.run([sys.executable, "-m", "ui.cli", "downloads", "list", "--json",
                             "--data-dir", str(tmp_path / "d")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    downloads = json.loads(listed.stdout)["downloads"]
    assert len(downloads) == 2
    assert all(d["state"] == "completed" and d["playable"] for d in downloads), downloads
    played = subprocess.run([sys.executable, "-m", "ui.cli", "play", downloads[0]["title"],
                             "--offline", "--headless", "--json", "--duration", "1",
                             "--data-dir", str(tmp_path / "d")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert played.returncode == 0, played.stderr[-2000:]
    assert json.loads(played.stdout.splitlines()[-1])["played_s"] >= 1
