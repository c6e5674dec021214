"""Downloads and Settings."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.config import Settings
from ui.nav import Action
from ui.widgets import Page


class DownloadsPage(Page):
    """Placeholder until the offline work lands (docs/ui.md)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        title = QLabel("Downloads")
        title.setObjectName("h1")
        text = QLabel("Downloads are coming with the offline work: encrypted titles that play "
                      "without a network, with progress, pause / resume / cancel, expiry "
                      "countdowns and renewal. Nothing is downloaded yet.")
        text.setObjectName("muted")
        text.setWordWrap(True)
        self.back = QPushButton("Back to Home")
        box.addWidget(title)
        box.addWidget(text)
        box.addSpacing(20)
        box.addWidget(self.back, 0, Qt.AlignmentFlag.AlignLeft)
        box.addStretch(1)

    def focus_default(self) -> None:
        self.back.setFocus()

    def on_action(self, action: Action) -> bool:
        if action == Action.SELECT:
            self.back.click()
            return True
        return action in (Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT)


QUALITIES = [("Auto", None), ("240p", 0), ("360p", 1), ("480p", 2), ("720p", 3), ("1080p", 4)]
STREAM_FORMAT_CHOICES = [("HLS (default)", "hls"), ("DASH", "dash")]


class SettingsPage(Page):
    """Signals:
        changed(): a setting changed (``settings`` is updated and saved by the window).
        tv_toggled(bool): the "TV mode" switch.
        pair_tv(str): "Pair a TV" with the code the TV shows.
    """

    changed = Signal()
    tv_toggled = Signal(bool)
    pair_tv = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        box = QVBoxLayout(self)
        title = QLabel("Settings")
        title.setObjectName("h1")
        box.addWidget(title)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setVerticalSpacing(14)
        self.url = QLineEdit(settings.control_plane_url)
        self.url.setPlaceholderText("empty: the bundled control plane (takes effect on restart)")
        self.quality = QComboBox()
        for label, value in QUALITIES:
            self.quality.addItem(label, value)
        self.quality.setCurrentIndex(next((i for i, (_, v) in enumerate(QUALITIES)
                                           if v == settings.quality_cap), 0))
        self.stream_format = QComboBox()
        for name, fmt in STREAM_FORMAT_CHOICES:
            self.stream_format.addItem(name, fmt)
        self.stream_format.setCurrentIndex(next(
            (i for i, (_, v) in enumerate(STREAM_FORMAT_CHOICES) if v == settings.stream_format),
            0))
        self.saver = QCheckBox("Data saver (at most 360p)")
        self.saver.setChecked(settings.data_saver)
        self.subs = QSpinBox()
        self.subs.setRange(20, 120)
        self.subs.setValue(settings.subtitle_size)
        self.folder = QLineEdit(settings.download_dir)
        self.folder.setPlaceholderText("default: the app's data folder")
        self.quota = QDoubleSpinBox()
        self.quota.setRange(1, 2000)
        self.quota.setSuffix(" GB")
        self.quota.setValue(settings.download_quota_gb)
        self.tv = QCheckBox("TV mode (10-foot interface, fullscreen)")
        self.start_tv = QCheckBox("Start in TV mode")
        self.start_tv.setChecked(settings.start_in_tv)
        self.tv_code = QLineEdit()
        self.tv_code.setPlaceholderText("the code on the TV, e.g. BCDF-GHJK")
        self.tv_code.setMaxLength(12)
        self.pair_button = QPushButton("Pair a TV")
        self.pair_note = QLabel("A TV showing a sign-in code is signed in to this account.")
        self.pair_note.setObjectName("muted")
        self.pair_note.setWordWrap(True)
        # What a viewer needs first; the developer's control-plane URL last.
        rows: list[tuple[str, QWidget]] = [
            ("Streaming quality", self.quality), ("", self.saver),
            ("Stream format", self.stream_format), ("Subtitle size", self.subs),
            ("", self.tv), ("", self.start_tv), ("Download quota", self.quota),
            ("Download folder", self.folder), ("Sign in a TV", self.tv_code),
            ("", self.pair_button), ("Control plane URL (advanced)", self.url)]
        for label, widget in rows:
            form.addRow(label, widget)
            if widget is self.pair_button:
                form.addRow("", self.pair_note)
        self.fields = [w for _, w in rows]
        box.addLayout(form)
        box.addStretch(1)
        for sig in (self.url.editingFinished, self.folder.editingFinished):
            sig.connect(self._save)
        self.quality.currentIndexChanged.connect(self._save)
        self.stream_format.currentIndexChanged.connect(self._save)
        self.saver.toggled.connect(self._save)
        self.start_tv.toggled.connect(self._save)
        self.subs.valueChanged.connect(self._save)
        self.quota.valueChanged.connect(self._save)
        self.tv.toggled.connect(self.tv_toggled)
        self.pair_button.clicked.connect(self._pair)
        self.tv_code.returnPressed.connect(self._pair)

    def _pair(self) -> None:
        code = self.tv_code.text().strip()
        if not code:
            self.pair_failed("Type the code the TV shows first.")
            return
        self.pair_button.setEnabled(False)
        self.pair_note.setText("Confirming…")
        self.pair_tv.emit(code)

    def paired(self, tv_name: str) -> None:
        self.pair_button.setEnabled(True)
        self.tv_code.clear()
        self.pair_note.setText(f"{tv_name} is signed in to this account.")

    def pair_failed(self, text: str) -> None:
        self.pair_button.setEnabled(True)
        self.pair_note.setText(text)

    def _save(self) -> None:
        s = self.settings
        s.control_plane_url = self.url.text().strip()
        s.quality_cap = self.quality.currentData()
        s.data_saver = self.saver.isChecked()
        s.stream_format = self.stream_format.currentData()
        s.subtitle_size = self.subs.value()
        s.download_dir = self.folder.text().strip()
        s.download_quota_gb = self.quota.value()
        s.start_in_tv = self.start_tv.isChecked()
        self.changed.emit()

    def focus_default(self) -> None:
        self.fields[0].setFocus()

    def on_action(self, action: Action) -> bool:
        current = next((i for i, w in enumerate(self.fields) if w.hasFocus()), -1)
        if action in (Action.UP, Action.DOWN):
            step = 1 if action == Action.DOWN else -1
            self.fields[max(0, min(len(self.fields) - 1, current + step))].setFocus()
            return True
        widget = self.fields[current] if current >= 0 else None
        if action == Action.SELECT and isinstance(widget, QCheckBox):
            widget.toggle()
            return True
        if action == Action.SELECT and isinstance(widget, QPushButton):
            widget.click()
            return True
        if action in (Action.LEFT, Action.RIGHT) and isinstance(widget, QComboBox):
            step = 1 if action == Action.RIGHT else -1
            widget.setCurrentIndex(max(0, min(widget.count() - 1, widget.currentIndex() + step)))
            return True
        if action in (Action.LEFT, Action.RIGHT) and isinstance(widget, QSpinBox | QDoubleSpinBox):
            widget.stepBy(1 if action == Action.RIGHT else -1)
            return True
        return action in (Action.LEFT, Action.RIGHT) and not isinstance(widget, QLineEdit)
