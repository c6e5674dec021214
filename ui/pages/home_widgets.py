"""Home's widgets: :class:`TopBar` (Home, Downloads, Settings, search, profile) and
:class:`Section`, a row title over a row of tiles (the details and search pages use it too)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ui.delegates import PosterDelegate
from ui.models import TitleRowModel
from ui.theme import Theme
from ui.widgets import ButtonBar, RowView

JSON = dict[str, Any]


class Section(QWidget):
    """A row title over a row of tiles."""

    def __init__(self, model: TitleRowModel, delegate: PosterDelegate,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        self.label = QLabel(model.title)
        self.label.setObjectName("h2")
        self.view = RowView()
        self.view.setModel(model)
        self.view.setItemDelegate(delegate)
        self.model = model
        self.delegate = delegate
        box.addWidget(self.label)
        box.addWidget(self.view)
        self.resize_for(delegate.theme)

    def resize_for(self, theme: Theme) -> None:
        self.delegate.theme = theme
        self.view.setFixedHeight(theme.tile_h + 4)
        self.view.setSpacing(0)


class TopBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.logo = QLabel("EDGEPLAY")
        self.logo.setObjectName("logo")
        self.home = QPushButton("Home")
        self.downloads = QPushButton("Downloads")
        self.settings = QPushButton("Settings")
        for b in (self.home, self.downloads, self.settings):
            b.setObjectName("nav")
            b.setCheckable(True)
        self.home.setChecked(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search titles")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(420)
        self.profile = QPushButton("")
        self.profile.setObjectName("avatar")
        self.bar = ButtonBar(spacing=8, parent=self)
        self.bar.row.setContentsMargins(0, 0, 0, 0)
        self.bar.row.addWidget(self.logo)
        self.bar.row.addSpacing(24)
        for w in (self.home, self.downloads, self.settings):
            self.bar.add(w)
        self.bar.row.addStretch(1)
        self.bar.add(self.search, 1)
        self.bar.add(self.profile)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.bar)

    def set_profile(self, profile: JSON) -> None:
        name = str(profile.get("name", ""))
        color = str(profile.get("avatar_color") or "#e50914")
        self.profile.setText(name[:1].upper())
        self.profile.setToolTip(f"{name}: switch profile")
        self.profile.setStyleSheet(f"QPushButton {{ background: {color}; min-width: 1.6em; }}"
                                   "QPushButton:focus { border-color: white; }")
