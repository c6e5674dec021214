"""The two looks: desktop and the 10-foot TV theme (large type and tiles, a high-contrast focus
ring, overscan-safe margins). One palette, sizes per mode; the style sheet is built from them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont

BG = "#0f1014"
SURFACE = "#1b1d24"
SURFACE_HI = "#262934"
TEXT = "#f2f3f5"
MUTED = "#9ba1ad"
ACCENT = "#e50914"
FOCUS = "#ffffff"
GROW = 1.08
"""The focused tile's poster is this much larger (animated, ``GROW_MS``)."""
GROW_MS = 120


@dataclass(frozen=True)
class Theme:
    name: str
    tv: bool
    poster_w: int
    """Tile poster width in px (2:3 posters)."""
    tile_gap: int
    font_px: int
    title_px: int
    row_title_px: int
    margin_px: int
    """Overscan-safe margin around every page (TV: 5 % of 1920 × 1080)."""
    focus_px: int
    """Focus ring width."""

    @property
    def poster_h(self) -> int:
        return self.poster_w * 3 // 2

    @property
    def grow_pad(self) -> int:
        """Room around a poster for the focused tile's enlargement (``GROW``) and its ring."""
        return round(self.poster_h * (GROW - 1) / 2) + self.focus_px

    @property
    def tile_w(self) -> int:
        return self.poster_w + self.tile_gap

    @property
    def tile_h(self) -> int:
        return self.poster_h + self.font_px * 3 + self.focus_px * 2 + self.grow_pad * 2

    def font(self, px: int | None = None, bold: bool = False) -> QFont:
        font = QFont("DejaVu Sans")
        font.setPixelSize(px or self.font_px)
        font.setBold(bold)
        return font

    @property
    def focus_color(self) -> QColor:
        return QColor(FOCUS)

    def style_sheet(self) -> str:
        f, big = self.font_px, self.title_px
        pad = max(6, f // 2)
        return f"""
QWidget {{ background: {BG}; color: {TEXT}; font-family: "DejaVu Sans"; font-size: {f}px; }}
QLabel {{ background: transparent; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#h1 {{ font-size: {big}px; font-weight: bold; }}
QLabel#h2 {{ font-size: {self.row_title_px}px; font-weight: bold; }}
QLabel#logo {{ color: {ACCENT}; font-size: {big}px; font-weight: 900; letter-spacing: 2px; }}
QScrollArea, QScrollArea > QWidget > QWidget {{ background: transparent; border: none; }}
QScrollBar:vertical {{ width: 8px; background: transparent; margin: 0; }}
QScrollBar::handle:vertical {{ background: #3a3d48; border-radius: 4px; min-height: 40px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QListView {{ background: transparent; border: none; outline: none; }}
QPushButton {{ background: {SURFACE_HI}; color: {TEXT}; border: {self.focus_px}px solid transparent;
  border-radius: {pad}px; padding: {pad}px {pad * 2}px; font-weight: bold; }}
QPushButton:hover {{ background: #343846; }}
QPushButton:focus {{ border-color: {FOCUS}; }}
QPushButton#primary {{ background: {TEXT}; color: #000; }}
QPushButton#primary:focus {{ border-color: {ACCENT}; }}
QPushButton#nav {{ background: transparent; color: {MUTED}; padding: {pad}px; }}
QPushButton#nav:checked {{ color: {TEXT}; }}
QPushButton#nav:focus {{ color: {TEXT}; border-color: {FOCUS}; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox {{ background: {SURFACE}; color: {TEXT};
  border: {self.focus_px}px solid {SURFACE_HI}; border-radius: {pad}px; padding: {pad}px; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus, QCheckBox:focus
  {{ border-color: {FOCUS}; }}
QCheckBox {{ background: transparent; padding: {pad // 2}px;
  border: {self.focus_px}px solid transparent; border-radius: {pad}px; spacing: {pad}px; }}
QCheckBox::indicator {{ width: {f}px; height: {f}px; border: 2px solid {TEXT};
  border-radius: 4px; background: {SURFACE}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT};
  image: none; }}
QProgressBar {{ background: {SURFACE_HI}; border: none; border-radius: 3px; height: 6px;
  text-align: center; color: transparent; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QFrame#card {{ background: {SURFACE}; border-radius: {pad * 2}px; }}
QWidget#toast {{ background: #2b2e39; border-radius: {pad}px; border-left: 4px solid {ACCENT}; }}
"""


DESKTOP = Theme("desktop", tv=False, poster_w=150, tile_gap=14, font_px=15, title_px=30,
                row_title_px=19, margin_px=40, focus_px=3)
TV = Theme("tv", tv=True, poster_w=220, tile_gap=28, font_px=24, title_px=52, row_title_px=32,
           margin_px=96, focus_px=6)


def theme_for(tv: bool) -> Theme:
    return TV if tv else DESKTOP
