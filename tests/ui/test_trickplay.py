"""Trick-play thumbnails on the seek bar: a fake engine whose playback answer points at a WebVTT
index and sprite sheets served over real HTTP (a tiny local server); every tile has a colour of
its own, so the preview's pixels say which tile it shows."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from player.session import ThumbnailSource
from player.trickplay import TrickplayIndex
from tests.ui.keys import press
from ui.pages.player import SCRUB_COMMIT_MS, PlayerPage

from .conftest import FakeSession, Harness, make_title

K = Qt.Key
INTERVAL_S = 20
DURATION_S = 600
TILE_W, TILE_H = 160, 90
COLS = ROWS = 2  # 4 tiles a sheet: 30 cues → 8 sheets
SCRUB_WAIT_MS = 1100  # longer than the page's SCRUB_COMMIT_MS


def tile_color(i: int) -> QColor:
    """Tile i's colour: a 4 × 4 × 4 grid of the RGB cube, neighbours 85 apart."""
    return QColor(85 * (i % 4), 85 * (i // 4 % 4), 85 * (i // 16 % 4))


def cue_index(t_s: float) -> int:
    return int(t_s // INTERVAL_S)


def make_trickplay(folder: Path) -> None:
    """``thumbs.vtt`` + ``sprite_NNN.jpg`` like the pipeline writes them."""
    cues = DURATION_S // INTERVAL_S
    per = COLS * ROWS
    lines = ["WEBVTT", ""]
    for sheet in range((cues + per - 1) // per):
        image = QImage(TILE_W * COLS, TILE_H * ROWS, QImage.Format.Format_RGB32)
        image.fill(QColor("black"))
        painter = QPainter(image)
        for cell in range(per):
            i = sheet * per + cell
            row, col = divmod(cell, COLS)
            painter.fillRect(col * TILE_W, row * TILE_H, TILE_W, TILE_H, tile_color(i))
            if i < cues:
                start, end = i * INTERVAL_S, (i + 1) * INTERVAL_S
                lines += [f"00:{start // 60:02d}:{start % 60:02d}.000 --> "
                          f"00:{end // 60:02d}:{end % 60:02d}.000",
                          f"sprite_{sheet:03d}.jpg#xywh={col * TILE_W},{row * TILE_H},"
                          f"{TILE_W},{TILE_H}", ""]
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        assert image.save(buffer, "JPG", 90)
        (folder / f"sprite_{sheet:03d}.jpg").write_bytes(bytes(data.data()))
    (folder / "thumbs.vtt").write_text("\n".join(lines), encoding="utf-8")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        QuietHandler.requests.append(self.path)


@pytest.fixture()
def media(tmp_path: Path) -> Iterator[str]:
    """The base URL of a local HTTP server with ``/trickplay/`` (thumbs.vtt and the sheets)."""
    folder = tmp_path / "www" / "trickplay"
    folder.mkdir(parents=True)
    make_trickplay(folder)

    def handler(*args: Any) -> QuietHandler:
        return QuietHandler(*args, directory=str(tmp_path / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def close_loader(harness: Harness) -> Iterator[None]:
    """The loader's HTTP client is closed before the engine loop stops."""
    yield
    closing = harness.window.player.trickplay.reset()
    if closing is not None:
        closing.result(5)


class ThumbSession(FakeSession):
    """A fake session whose playback answer has ``thumbnails``."""

    def __init__(self, vtt_url: str | None, pathways: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__()
        self.source = None if vtt_url is None else ThumbnailSource(vtt_url, INTERVAL_S, pathways)

    def thumbnails(self) -> ThumbnailSource | None:
        return self.source


def play(qtbot: Any, h: Harness, session: FakeSession) -> PlayerPage:
    h.sessions.append(session)
    h.window.controller.make_session = lambda *args: session
    title = make_title(3)
    h.window.open_title(title)
    h.window.play(title, False)
    page = h.window.player
    qtbot.waitUntil(lambda: h.window.controller.playing, timeout=3000)
    qtbot.waitUntil(lambda: page.controls.seekbar.duration_s == DURATION_S, timeout=3000)
    return page


def wait_index(qtbot: Any, page: PlayerPage) -> TrickplayIndex:
    qtbot.waitUntil(lambda: page.trickplay.index is not None, timeout=3000)
    assert page.trickplay.index is not None
    return page.trickplay.index


def shown_color(page: PlayerPage) -> QColor:
    """The colour in the middle of the preview's picture, as painted."""
    preview = page.preview
    image = preview.grab().toImage()
    centre = preview.image_rect().center()
    ratio = image.width() / max(1, preview.width())
    return image.pixelColor(round(centre.x() * ratio), round(centre.y() * ratio))


def close_to(a: QColor, b: QColor, tolerance: int = 24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in ((a.red(), b.red()), (a.green(), b.green()),
                                                    (a.blue(), b.blue())))


def wait_tile(qtbot: Any, page: PlayerPage, t_s: float) -> None:
    qtbot.waitUntil(lambda: page.preview.isVisible() and page.preview.image is not None,
                    timeout=10_000)
    assert page.preview.time_s == pytest.approx(t_s, abs=1.0)
    expected = tile_color(cue_index(t_s))
    got = shown_color(page)
    assert close_to(got, expected), (got.getRgb(), expected.getRgb())


def test_hover_shows_the_tile_for_that_time(qtbot: Any, harness: Harness, media: str) -> None:
    page = play(qtbot, harness, ThumbSession(f"{media}/trickplay/thumbs.vtt"))
    index = wait_index(qtbot, page)
    assert len(index) == DURATION_S // INTERVAL_S
    page.show_controls(auto_hide=False)
    bar = page.controls.seekbar
    for t in (10.0, 125.0, 430.0):  # sheets 0, 1 and 5 (the first warmed, then on demand)
        qtbot.mouseMove(bar, QPoint(round(bar.x_for(t)), 20))
        qtbot.waitUntil(lambda t=t: bar.hover_s is not None and abs(bar.hover_s - t) < 2,
                        timeout=2000)
        wait_tile(qtbot, page, bar.hover_s or 0.0)
    # The bubble sits above the bar, centred on the pointer (clamped at the window's edges),
    # with the timecode under the picture.
    preview = page.preview
    bar_top = bar.mapTo(page, QPoint(0, 0)).y()
    assert preview.geometry().bottom() <= bar_top + 10
    assert abs(preview.geometry().center().x() - bar.mapTo(page, QPoint(
        round(bar.x_for(bar.hover_s or 0)), 0)).x()) <= 2
    assert preview.height() > preview.image_rect().bottom() + 20
    assert any(p.endswith("sprite_005.jpg") for p in QuietHandler.requests)
    # Leaving the bar hides the preview.
    qtbot.mouseMove(page.header, QPoint(5, 5))
    qtbot.waitUntil(lambda: not preview.isVisible(), timeout=2000)


def key(qtbot: Any, k: Qt.Key) -> None:
    press(qtbot, k)


def test_key_scrub_shows_the_tile_then_seeks(qtbot: Any, harness: Harness, media: str) -> None:
    session = ThumbSession(f"{media}/trickplay/thumbs.vtt")
    page = play(qtbot, harness, session)
    wait_index(qtbot, page)
    bar = page.controls.seekbar
    # The keys "rest" after SCRUB_COMMIT_MS of real time; a loaded machine can take longer than
    # that to draw the tile, so the rest is made long until the part that tests it.
    page._scrub_commit.setInterval(600_000)
    key(qtbot, K.Key_Up)  # TV: up brings the controls with the seek bar focused
    assert bar.hasFocus()
    for _ in range(5):
        key(qtbot, K.Key_Right)
    assert bar.scrub_s == 50.0
    wait_tile(qtbot, page, 50.0)
    assert not any(c[0] == "seek" for c in session.calls)  # not sent while scrubbing
    key(qtbot, K.Key_Left)
    assert bar.scrub_s == 40.0
    key(qtbot, K.Key_Return)  # Enter sends it at once
    qtbot.waitUntil(lambda: ("seek", 40.0) in session.calls, timeout=2000)
    assert bar.scrub_s is None and not page.preview.isVisible()
    assert ("pause", None) not in session.calls
    # Resting on the keys sends the seek by itself.
    page._scrub_commit.setInterval(SCRUB_COMMIT_MS)
    key(qtbot, K.Key_Right)
    wait_tile(qtbot, page, 50.0)
    qtbot.waitUntil(lambda: ("seek", 50.0) in session.calls, timeout=10_000)
    page._scrub_commit.setInterval(600_000)
    # Back cancels a scrub and stays in the player.
    key(qtbot, K.Key_Left)
    key(qtbot, K.Key_Left)
    assert bar.scrub_s == 30.0
    key(qtbot, K.Key_Escape)
    assert bar.scrub_s is None
    assert harness.window.current_name() == "player"
    assert not page._scrub_commit.isActive()  # cancelled: nothing left to send
    page._scrub_commit.setInterval(SCRUB_COMMIT_MS)
    qtbot.wait(SCRUB_WAIT_MS)
    assert ("seek", 30.0) not in session.calls


def test_held_keys_speed_up_gently(qtbot: Any, harness: Harness, media: str) -> None:
    page = play(qtbot, harness, ThumbSession(f"{media}/trickplay/thumbs.vtt"))
    bar = page.controls.seekbar
    key(qtbot, K.Key_Up)
    for _ in range(9):  # pressed and released each time: 10 s steps, whatever the pace
        key(qtbot, K.Key_Right)
    assert bar.scrub_s == 90.0
    key(qtbot, K.Key_Escape)
    focus = QApplication.focusWidget()
    assert focus is bar
    for _ in range(12):  # held down (auto-repeat, no release): 10, 15, then 20 s steps
        qtbot.keyPress(focus, K.Key_Right)
    assert bar.scrub_s == 4 * 10.0 + 4 * 15.0 + 4 * 20.0
    for _ in range(12):  # 25 s, then never more than 1/20 of the 600 s title a step
        qtbot.keyPress(focus, K.Key_Right)
    assert bar.scrub_s == 180.0 + 4 * 25.0 + 8 * DURATION_S / 20
    qtbot.keyRelease(focus, K.Key_Right)  # letting go starts again at 10 s
    before = bar.scrub_s
    qtbot.keyPress(focus, K.Key_Left)
    assert bar.scrub_s == before - 10.0


def test_a_dead_edge_fails_over_to_another(qtbot: Any, harness: Harness, media: str) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens there
    page = play(qtbot, harness, ThumbSession(
        f"{dead}/trickplay/thumbs.vtt", pathways=(("edge-1", dead), ("edge-2", media))))
    wait_index(qtbot, page)
    bar = page.controls.seekbar
    page.show_controls(auto_hide=False)
    qtbot.mouseMove(bar, QPoint(round(bar.x_for(250.0)), 20))
    qtbot.waitUntil(lambda: bar.hover_s is not None, timeout=2000)
    wait_tile(qtbot, page, bar.hover_s or 0.0)


def test_without_thumbnails_the_time_still_shows(qtbot: Any, harness: Harness) -> None:
    fetched: list[str] = []

    async def fetch(url: str) -> bytes:
        fetched.append(url)
        raise AssertionError("nothing to fetch")
    page = play(qtbot, harness, ThumbSession(None))
    page.trickplay.fetch = fetch
    page.show_controls(auto_hide=False)
    bar = page.controls.seekbar
    qtbot.mouseMove(bar, QPoint(round(bar.x_for(75.0)), 20))
    qtbot.waitUntil(lambda: page.preview.isVisible(), timeout=2000)
    assert page.preview.image is None
    assert page.preview.image_rect().isEmpty()
    assert page.trickplay.index is None and not fetched


def test_the_loader_fetches_off_the_gui_thread(qtbot: Any, harness: Harness) -> None:
    """An injected fetch runs on the engine loop's thread, and each sheet is fetched once."""
    page = harness.window.player
    threads: list[str] = []
    sheet = QImage(TILE_W * 2, TILE_H, QImage.Format.Format_RGB32)
    sheet.fill(QColor("red"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    sheet.save(buffer, "JPG")

    async def fetch(url: str) -> bytes:
        threads.append(threading.current_thread().name)
        if url.endswith(".vtt"):
            return (b"WEBVTT\n\n00:00.000 --> 00:10.000\ns.jpg#xywh=0,0,160,90\n\n"
                    b"00:10.000 --> 00:20.000\ns.jpg#xywh=160,0,160,90\n")
        return bytes(data.data())
    loader = page.trickplay
    loader.reset()
    loader.fetch = fetch
    loader.load("http://edge.test/t/thumbs.vtt")
    qtbot.waitUntil(lambda: loader.tile(15.0) is not None, timeout=3000)
    tile = loader.tile(15.0)
    assert tile is not None and (tile.width(), tile.height()) == (TILE_W, TILE_H)
    assert loader.tile(5.0) is not None
    assert threads == ["engine", "engine"]
    assert threading.current_thread().name != "engine"


def test_click_on_the_bar_seeks_on_release(qtbot: Any, harness: Harness, media: str) -> None:
    session = ThumbSession(f"{media}/trickplay/thumbs.vtt")
    page = play(qtbot, harness, session)
    page.show_controls(auto_hide=False)
    bar = page.controls.seekbar
    at = QPoint(round(bar.x_for(300.0)), 20)
    qtbot.mousePress(bar, Qt.MouseButton.LeftButton, pos=at)
    assert bar.scrub_s is not None and abs(bar.scrub_s - 300.0) < 2
    assert not any(c[0] == "seek" for c in session.calls)  # a drag seeks on release
    qtbot.mouseRelease(bar, Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: any(c[0] == "seek" and abs(c[1] - 300.0) < 2
                                for c in session.calls), timeout=2000)
    assert bar.scrub_s is None
