"""The 10-foot experience driven by keys only: the window stays on the screen, Back returns to
the tile opened, truthful stats, volume, the TV OSD and side panel, post-play."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.keys import press
from ui.widgets import RowView

from .conftest import Harness

K = Qt.Key


def current_tile(h: Harness) -> tuple[str, str]:
    view = QApplication.focusWidget()
    assert isinstance(view, RowView)
    section = next(s for s in h.window.home.visible_sections() if s.view is view)
    return section.model.row_id, str(view.currentIndex().data(Qt.ItemDataRole.DisplayRole))


def open_and_play(qtbot: Any, h: Harness) -> None:
    """From home: ↓, →→→, Enter (details), Enter (play)."""
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Right, 3)
    press(qtbot, K.Key_Return)
    assert h.window.current_name() == "details"
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: h.window.controller.playing, timeout=3000)


def test_window_never_wider_than_the_screen(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    w.go_fullscreen()
    screen = w.screen().geometry()
    open_and_play(qtbot, harness)
    press(qtbot, K.Key_Up)  # the OSD
    assert w.player.controls.isVisible()
    qtbot.wait(50)
    assert w.width() <= screen.width()
    assert w.minimumSizeHint().width() <= screen.width()
    press(qtbot, K.Key_Escape)
    press(qtbot, K.Key_Escape)
    assert w.current_name() == "home"
    qtbot.wait(50)
    assert w.width() <= screen.width()


def test_back_returns_to_the_tile_you_opened(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Right, 3)
    opened = current_tile(harness)
    assert opened == ("genre-0", "Title 3")
    press(qtbot, K.Key_Return)
    press(qtbot, K.Key_Return)  # play
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)
    press(qtbot, K.Key_Escape)  # the player → details
    assert w.current_name() == "details"
    press(qtbot, K.Key_Escape)  # details → home, on the same tile
    assert w.current_name() == "home"
    assert current_tile(harness) == opened
    w.load_home()  # the rows reload after playback: the focus stays on that tile
    qtbot.waitUntil(lambda: harness.sessions[-1].calls[-1] == ("stop", None), timeout=3000)
    qtbot.wait(100)
    assert current_tile(harness) == opened


def test_stats_show_the_rendition_on_screen_and_the_one_fetched(qtbot: Any,
                                                                  harness: Harness) -> None:
    w = harness.window
    open_and_play(qtbot, harness)
    page = w.player
    press(qtbot, K.Key_I)
    assert page.stats.isVisible()
    session = harness.sessions[-1]
    session.position_s = 5.0  # segment 1: handed to mpv at 240p while 1080p is fetched
    qtbot.waitUntil(lambda: page.stats.state.get("position_s") == 5.0, timeout=3000)
    lines = dict(page.stats.lines())
    assert lines["On screen"].startswith("240p")
    assert lines["Fetching"].startswith("1080p")
    assert lines["Format"] == "HLS"
    session.position_s = 9.0  # segment 2 was served at 1080p
    qtbot.waitUntil(lambda: page.stats.state.get("position_s") == 9.0, timeout=3000)
    assert dict(page.stats.lines())["On screen"].startswith("1080p  5.20 Mbit/s")
    # TV: large text, inside the overscan margin
    m = w.theme.margin_px
    g = page.stats.geometry()
    assert page.stats.font_px >= 20
    assert g.top() >= m and g.right() <= page.width() - m


def test_volume_stops_at_100_and_shows(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    open_and_play(qtbot, harness)
    page = w.player
    assert not page.volume_osd.isVisible()
    press(qtbot, K.Key_VolumeUp, 4)
    assert w.controller.volume == 100
    assert page.volume_osd.isVisible() and page.volume_osd.text() == "Volume 100 %"
    press(qtbot, K.Key_Minus)
    assert w.controller.volume == 95 and page.volume_osd.text() == "Volume 95 %"
    press(qtbot, K.Key_M)
    assert page.volume_osd.text() == "Muted"
    qtbot.waitUntil(lambda: ("set", ("volume", 95)) in w.controller.mpv.calls, timeout=3000)
    assert not any(c[0] == "set" and c[1][0] == "volume" and c[1][1] > 100
                   for c in w.controller.mpv.calls)


def test_tv_osd_and_the_side_panel(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    open_and_play(qtbot, harness)
    page = w.player
    press(qtbot, K.Key_Up)
    c = page.controls
    assert c.isVisible() and c.seekbar.hasFocus()
    assert not c.bar.isVisible() and c.osd.isVisible()  # no desktop buttons in TV mode
    assert page.header.text() == "Title 3"
    qtbot.waitUntil(lambda: ("set", ("sub-pos", 80)) in w.controller.mpv.calls, timeout=3000)
    press(qtbot, K.Key_Down)  # the side panel, on the current audio
    assert page.panel.isVisible()
    assert page.panel.labels("Audio") == ["✓  English", "Spanish"]
    assert page.panel.labels("Subtitles") == ["✓  Off", "English"]
    assert page.panel.labels("Quality")[-1] == "1080p"
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Return)  # Spanish
    qtbot.waitUntil(lambda: ("audio", "es") in harness.sessions[-1].calls, timeout=3000)
    assert page.panel.selected("Audio") == "Spanish"
    press(qtbot, K.Key_Down, 2)
    press(qtbot, K.Key_Return)  # Subtitles: English
    qtbot.waitUntil(lambda: ("subtitles", "en") in harness.sessions[-1].calls, timeout=3000)
    press(qtbot, K.Key_Down, 20)
    press(qtbot, K.Key_Return)  # the last quality: 1080p
    assert w.controller.max_rung == 4
    assert page.panel.selected("Quality") == "1080p"
    press(qtbot, K.Key_Escape)  # closes the panel, stays in the player
    assert not page.panel.isVisible()
    assert w.current_name() == "player"
    assert page.isAncestorOf(QApplication.focusWidget()) or page.hasFocus()
    press(qtbot, K.Key_Menu)
    assert page.panel.isVisible()


def test_post_play_next_up_and_back_to_details(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    open_and_play(qtbot, harness)
    page = w.player
    session = harness.sessions[-1]
    page.postplay._tick.setInterval(60_000)  # no tick while this part looks
    harness.aio.loop.call_soon_threadsafe(session.finish)
    qtbot.waitUntil(lambda: page.postplay.isVisible(), timeout=3000)
    assert page.postplay.heading.text() == "Up next: Title 4"
    assert page.postplay.countdown.text() == "Starts in 10 s"
    assert page.postplay.play_now.hasFocus()
    press(qtbot, K.Key_Right)  # choosing stops the countdown
    press(qtbot, K.Key_Return)  # Back to details
    assert w.current_name() == "details"
    assert w.details.title_json["id"] == "t3"
    # Again, this time the countdown runs out and the next title plays.
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: len(harness.sessions) == 2 and w.controller.playing, timeout=3000)
    page.postplay._tick.setInterval(10)
    harness.aio.loop.call_soon_threadsafe(harness.sessions[-1].finish)
    qtbot.waitUntil(lambda: len(harness.sessions) == 3, timeout=3000)
    assert w.controller.title["id"] == "t4"
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)
    press(qtbot, K.Key_Escape)  # back lands on the next title's details, then its tile
    assert w.current_name() == "details" and w.details.title_json["id"] == "t4"
    press(qtbot, K.Key_Escape)
    assert current_tile(harness) == ("genre-0", "Title 4")


def test_the_billboard_follows_the_focus(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    hero = w.home.hero
    assert hero.isVisible() and hero.name.text() == "Title 100"  # Continue Watching's first
    assert hero.play_button.text() == "▶  Resume"
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Right, 2)
    assert hero.name.text() == "Title 2"
    assert hero.meta.text().startswith("2022   ·   PG   ·   10 min")
    assert hero.play_button.text() == "▶  Play"
    press(qtbot, K.Key_Up, 2)  # the first row, then the billboard
    assert hero.play_button.hasFocus()
    assert hero.name.text() == "Title 100"
    press(qtbot, K.Key_Right)
    press(qtbot, K.Key_Return)  # More info
    assert w.current_name() == "details" and w.details.title_json["id"] == "t100"
    press(qtbot, K.Key_Escape)
    assert current_tile(harness) == ("continue-watching", "Title 100")
    press(qtbot, K.Key_Up)
    press(qtbot, K.Key_Return)  # Play
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)
    assert w.controller.title["id"] == "t100"


def test_tiles_fill_the_row_and_the_focused_one_grows(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    home = w.home
    section = home.sections[1]
    width = home.scroller.viewport().width()
    tile_w = section.delegate.theme.tile_w
    assert width // tile_w == home.TILES_PER_ROW  # the row is filled, not 60 % empty
    assert home.scroller.verticalScrollBar().isVisible() is False
    press(qtbot, K.Key_Down)
    view = section.view
    qtbot.waitUntil(lambda: view.grow == 1.0, timeout=1000)
    assert view._grow.duration() <= 150


def test_details_backdrop_and_my_list(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Return)  # Title 0's details
    d = w.details
    assert d.meta.text().startswith("2020   ·   10 min   ·   PG")
    assert d.langs.text() == "Audio: English, Spanish\nSubtitles: English"
    labels = [b.text() for b in d.buttons.visible_buttons()]
    assert labels == ["▶  Play", "⤓  Download", "+  My List", "Mark as watched"]
    press(qtbot, K.Key_Right, 2)
    assert d.listed.hasFocus()
    press(qtbot, K.Key_Return)
    assert d.listed.text() == "✓  My List"
    assert [t["id"] for t in w.settings.my_list["p1"]] == ["t0"]
    assert "my_list" in w.paths.settings_file.read_text()
    qtbot.waitUntil(lambda: any(s.model.row_id == "my-list" for s in w.home.sections),
                    timeout=3000)
    rows = [s.model.row_id for s in w.home.sections]
    assert rows[:2] == ["continue-watching", "my-list"]
    press(qtbot, K.Key_Return)  # again: off the list
    assert d.listed.text() == "+  My List" and w.settings.my_list["p1"] == []


def test_settings_open_on_what_a_viewer_needs(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    press(qtbot, K.Key_Up, 2)  # the billboard, the top bar
    press(qtbot, K.Key_Right, 2)
    press(qtbot, K.Key_Return)
    page = w.settings_page
    assert w.current_name() == "settings"
    assert page.quality.hasFocus()  # not the developer's URL field
    press(qtbot, K.Key_Down, 4)  # data saver, stream format, subtitle size, TV mode
    assert page.tv.hasFocus()
    shot = page.tv.grab().toImage()
    ring = w.theme.focus_px
    assert ring >= 3
    edge = [shot.pixelColor(x, shot.height() // 2).lightness() for x in range(ring)]
    assert min(edge) > 240  # a white ring as wide as the theme says
    press(qtbot, K.Key_Down)
    shot = page.tv.grab().toImage()
    assert shot.pixelColor(1, shot.height() // 2).lightness() < 100  # not focused: no ring


def test_the_stream_format_is_picked_with_arrows_and_kept(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    press(qtbot, K.Key_Up, 2)
    press(qtbot, K.Key_Right, 2)
    press(qtbot, K.Key_Return)
    page = w.settings_page
    press(qtbot, K.Key_Down, 2)
    assert page.stream_format.hasFocus()
    assert page.stream_format.currentText() == "HLS (default)"
    shot = page.stream_format.grab().toImage()
    ring = w.theme.focus_px
    assert min(shot.pixelColor(x, shot.height() // 2).lightness() for x in range(ring)) > 240
    press(qtbot, K.Key_Right)
    assert page.stream_format.currentText() == "DASH"
    assert w.settings.stream_format == "dash"
    qtbot.waitUntil(lambda: '"stream_format": "dash"' in w.paths.settings_file.read_text(),
                    timeout=3000)
    assert w.controller.stream_format == "hls"  # taken at the next Play or details page
    press(qtbot, K.Key_Back)  # home: the next Play asks for DASH
    open_and_play(qtbot, harness)
    session = harness.sessions[-1]
    assert session.config is not None and session.config.stream_format == "dash"
    press(qtbot, K.Key_I)
    qtbot.waitUntil(lambda: dict(w.player.stats.lines())["Format"] == "DASH", timeout=3000)
