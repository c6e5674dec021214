"""The TV home at 1920×1080: a full-bleed billboard (its art reaches the screen's top and right
edges), the focused row whole inside the overscan margin, and the next row peeking in under it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from tests.ui.conftest import make_rows, make_title
from tests.ui.test_tile_paint import FakeArt
from ui import theme as th
from ui.nav import Action
from ui.pages.home import HomePage

ART = "#2080ff"
LONG_SYNOPSIS = ("A harbour pilot on her last winter shift guides a stranded freighter through "
                 "fog, and learns what it is really carrying; her brother, the port's night "
                 "clerk, has already signed for it, and the fog is not lifting before dawn.")


def _rows() -> list[dict[str, Any]]:
    rows = make_rows(rows=3, per_row=8)
    for row in rows:
        for title in row["items"]:
            title["backdrop_url"] = f"http://127.0.0.1:9/art/{title['id']}-backdrop.jpg"
            title["synopsis"] = LONG_SYNOPSIS
    return rows


@pytest.fixture
def home(qtbot: Any) -> Iterator[HomePage]:
    page = HomePage(FakeArt(ART), th.TV)  # type: ignore[arg-type]
    qtbot.addWidget(page)
    page.setStyleSheet(th.TV.style_sheet())
    page.resize(1920, 1080)
    page.show()
    qtbot.waitExposed(page)
    page.set_rows(_rows())
    page.focus_default()
    qtbot.waitUntil(lambda: page.hero.isVisible())
    yield page


def _on_page(page: HomePage, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(page, widget.rect().topLeft()), widget.size())


def _safe(page: HomePage) -> QRect:
    """Inside the overscan margin (5 % of each side in TV mode)."""
    m, v = th.TV.margin_px, page.foot_bleed
    return page.rect().adjusted(m, v, -m, -v)


def test_the_next_row_peeks_in_under_the_focused_one(qtbot: Any, home: HomePage) -> None:
    sections = home.visible_sections()
    assert len(sections) == 4
    under_billboard = _on_page(home, sections[0]).top()
    for focused in range(len(sections)):  # Continue Watching, then ↓ through the genre rows
        if focused:
            home.on_action(Action.DOWN)
            qtbot.wait(10)
        assert home.focused_section_index() == focused
        row = _on_page(home, sections[focused])
        assert _safe(home).contains(row), (focused, row)  # the whole row, clear of overscan
        if focused + 1 < len(sections):  # the next row's heading and the top of its tiles
            assert row.top() == under_billboard  # each row comes up to where the first was
            heading = _on_page(home, sections[focused + 1].label)
            assert home.rect().contains(heading), (focused, heading)
            assert _on_page(home, sections[focused + 1].view).top() < home.height()


def test_the_billboard_keeps_its_synopsis_whole(home: HomePage) -> None:
    hero = home.hero
    assert hero.synopsis.text() == LONG_SYNOPSIS[:217] + "…"
    needed = hero.synopsis.heightForWidth(hero.synopsis.width())
    assert hero.synopsis.height() >= needed
    assert _safe(home).contains(_on_page(home, hero.buttons))


def test_the_backdrop_bleeds_to_the_top_and_right_edges(home: HomePage) -> None:
    backdrop = home.hero.backdrop
    assert backdrop.isVisible() and backdrop.url.endswith("t100-backdrop.jpg")
    box = backdrop.geometry()
    assert box.top() == 0 and box.right() == home.width() - 1
    assert box.bottom() == home.hero.geometry().bottom()  # down to the billboard's foot
    shot = home.grab().toImage()
    art = QColor(ART).rgb()
    assert shot.pixel(home.width() - 1, 0) == art  # the corner, behind the top bar: the art
    assert shot.pixel(home.width() - 1, home.top.geometry().bottom()) == art
    assert shot.pixel(5, home.hero.geometry().center().y()) == QColor(th.BG).rgb()  # the text
    foot = shot.pixel(home.width() - 1, box.bottom())  # faded into the page at the foot
    assert QColor(foot).blue() < QColor(ART).blue() // 4


def test_the_backdrop_goes_with_the_billboard(home: HomePage) -> None:
    home.top.search.setFocus()  # searching: the results replace the billboard and the rows
    home.set_results("x", [make_title(7)])
    assert not home.hero.isVisible() and not home.hero.backdrop.isVisible()
    home.clear_search()
    assert home.hero.isVisible() and home.hero.backdrop.isVisible()
