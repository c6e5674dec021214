"""The OSD's title sits on a top scrim: readable over a bright picture, inside the margin."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.pages.player_osd import OsdHeader
from ui.theme import TV


def test_title_on_a_scrim_inside_the_margin(qtbot: Any) -> None:
    picture = QWidget()  # a bright frame behind the OSD
    picture.setStyleSheet("background: #f0f0f0;")
    qtbot.addWidget(picture)
    box = QVBoxLayout(picture)
    box.setContentsMargins(0, 0, 0, 0)
    header = OsdHeader()
    m, px = TV.margin_px, TV.title_px * 2 // 3
    header.set_look(m, px)
    header.setText("Glass Canyon")
    box.addWidget(header)
    box.addStretch(1)
    picture.resize(1920, 400)
    image = picture.grab().toImage()

    def light(x: int, y: int) -> int:
        return QColor(image.pixel(x, y)).lightness()

    assert light(1900, 2) < 90  # dark at the top edge, away from the text
    assert light(1900, header.height() + 5) > 220  # the picture again below the scrim
    assert light(1900, header.height() // 2) < light(1900, header.height() - 2)  # a fade
    # no text in the margin; white text below it, on the scrim
    assert max(light(x, y) for x in range(0, 900, 3) for y in range(0, m - 2)) < 90
    text_rows = range(m, m + round(px * 1.3))
    assert max(light(x, y) for x in range(m, m + 400, 2) for y in text_rows) > 230
    assert min(light(x, y) for x in range(0, m - 2) for y in text_rows) < 90  # left margin
