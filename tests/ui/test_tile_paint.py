"""Tile and billboard painting stay cheap on a D-pad step: the focused tile's enlargement asks
the art cache for one size only, posters keep their rounded corners without a clip path, and
the billboard composes a backdrop once per art and size."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QRect, QSize, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QWidget

from tests.ui.conftest import make_title
from ui import theme as th
from ui.delegates import PosterDelegate
from ui.models import TitleRowModel
from ui.pages.hero import Backdrop
from ui.widgets import GROW_SPILL


class FakeArt(QObject):
    loaded = Signal(str)

    def __init__(self, color: str = "#2080ff") -> None:
        super().__init__()
        self.asked: list[tuple[str, int, int]] = []
        self.color = color
        self.made: dict[tuple[str, int, int], QPixmap] = {}

    def pixmap(self, url: str, size: QSize) -> QPixmap:
        key = (url, size.width(), size.height())
        self.asked.append(key)
        if key not in self.made:  # like ArtCache: the same pixmap for the same request
            self.made[key] = QPixmap(size)
            self.made[key].fill(QColor(self.color))
        return self.made[key]


class GrowingView(QWidget):
    grow = 0.0


def _paint_tile(delegate: PosterDelegate, view: GrowingView, index: QModelIndex,
                focused: bool, under: str = th.BG) -> QImage:
    t = delegate.theme
    image = QImage(t.tile_w, t.tile_h, QImage.Format.Format_RGB32)
    image.fill(QColor(under))
    option = QStyleOptionViewItem()
    option.rect = image.rect()
    option.widget = view
    if focused:
        option.state |= QStyle.StateFlag.State_HasFocus
    p = QPainter(image)
    delegate.paint(p, option, index)
    p.end()
    return image


def test_enlarging_tile_asks_for_one_art_size(qtbot: Any) -> None:
    art = FakeArt()
    delegate = PosterDelegate(art, th.TV)  # type: ignore[arg-type]
    title = make_title(1)
    title["poster_url"] = "http://x/p1.png"
    model = TitleRowModel("r", "Row", [title])
    view = GrowingView()
    images = []
    for grow in (0.0, 0.25, 0.5, 0.75, 1.0):
        view.grow = grow
        images.append(_paint_tile(delegate, view, model.index(0, 0), focused=True))
    _paint_tile(delegate, view, model.index(0, 0), focused=False)
    assert {a[1:] for a in art.asked} == {(th.TV.poster_w - 2, th.TV.poster_h - 2)}
    # the poster does grow: at full growth the art reaches further left than at rest
    t = th.TV
    x = (t.tile_w - t.poster_w) // 2 - 2
    y = t.grow_pad + t.poster_h // 2
    art_color = QColor(art.color).rgb()
    assert images[0].pixel(x, y) != art_color
    assert images[-1].pixel(x, y) == art_color


def test_poster_corners_are_cut(qtbot: Any) -> None:
    art = FakeArt()
    delegate = PosterDelegate(art, th.TV)  # type: ignore[arg-type]
    title = make_title(1)
    title["poster_url"] = "http://x/p1.png"
    model = TitleRowModel("r", "Row", [title])
    backdrop = "#c0e0f0"  # More like this sits on the details page's backdrop
    image = _paint_tile(delegate, GrowingView(), model.index(0, 0), focused=False, under=backdrop)
    t = th.TV
    left = (t.tile_w - t.poster_w) // 2 + 1
    top = t.grow_pad + 1
    assert image.pixel(left, top) == QColor(backdrop).rgb()  # what is under shows at the corner
    assert image.pixel(left + t.poster_w // 2, top + 1) == QColor(art.color).rgb()
    # painted twice, the rounded poster is made once
    _paint_tile(delegate, GrowingView(), model.index(0, 0), focused=False)
    assert len(delegate._round_cache) <= 2


def test_backdrop_composed_once_per_art_and_size(qtbot: Any) -> None:
    art = FakeArt("#30c050")
    backdrop = Backdrop(art)  # type: ignore[arg-type]
    qtbot.addWidget(backdrop)
    backdrop.resize(800, 300)
    backdrop.set_url("http://x/b1.png")
    first = backdrop.grab().toImage()
    backdrop.grab()
    assert len(backdrop._cache) == 1
    # the art shows on the right, the page colour on the left
    assert first.pixel(790, 100) == QColor(art.color).rgb()
    assert first.pixel(10, 100) == QColor(th.BG).rgb()
    backdrop.resize(900, 300)
    backdrop.grab()
    assert len(backdrop._cache) == 2


def test_full_screen_backdrops_kept_within_budget(qtbot: Any) -> None:
    art = FakeArt()
    backdrop = Backdrop(art)  # type: ignore[arg-type]
    qtbot.addWidget(backdrop)
    backdrop.resize(1920, 1080)
    for i in range(6):
        backdrop.set_url(f"http://x/b{i}.png")
        backdrop.grab()
    assert len(backdrop._cache) == 4  # the art's 1152×1080, 5 MB each: four fit in 20 MB
    backdrop.resize(1920, 434)  # the TV billboard's size: ten fit
    for i in range(14):
        backdrop.set_url(f"http://x/c{i}.png")
        backdrop.grab()
    assert len(backdrop._cache) == 10


def test_grown_poster_and_ring_stay_inside_the_tile(qtbot: Any) -> None:
    """The enlarge animation repaints only the focused tile's rect (grown by ``GROW_SPILL``):
    nothing may be painted past it."""
    for theme in (th.TV, th.DESKTOP):
        delegate = PosterDelegate(FakeArt(), theme)  # type: ignore[arg-type]
        view = GrowingView()
        view.grow = 1.0
        option = QStyleOptionViewItem()
        option.rect = QRect(0, 0, theme.tile_w, theme.tile_h)
        option.widget = view
        option.state |= QStyle.StateFlag.State_HasFocus
        poster = delegate.poster_rect(option)
        ring = theme.focus_px  # the ring's pen is centred half a width outside the poster
        bound = option.rect.adjusted(-GROW_SPILL, -GROW_SPILL, GROW_SPILL, GROW_SPILL)
        assert poster.adjusted(-ring, -ring, ring, ring).intersected(bound) == \
            poster.adjusted(-ring, -ring, ring, ring), theme.name
