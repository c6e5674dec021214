"""The TV's sign-in: a short code, large, and where to confirm it; nothing to type.

Signals:
    new_code(): "Get a new code".
    use_email(): "Sign in with email instead" (the form, for a TV with a keyboard).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from player.api.pairing import Pairing
from ui.nav import Action
from ui.theme import Theme
from ui.widgets import ButtonBar, Page


class PairPage(Page):
    new_code = Signal()
    use_email = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("Sign in to Edgeplay")
        title.setObjectName("h1")
        step1 = QLabel("On your phone or computer, go to")
        step1.setObjectName("muted")
        self.url = QLabel("…")
        self.url.setObjectName("url")
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        step2 = QLabel("and enter this code")
        step2.setObjectName("muted")
        self.code = QLabel("")
        self.code.setObjectName("code")
        self.alt = QLabel("Or, in the Edgeplay app on your computer: Settings → Pair a TV.")
        self.alt.setObjectName("muted")
        self.status = QLabel("Getting a code…")
        self.status.setWordWrap(True)
        self.again = QPushButton("Get a new code")
        self.email = QPushButton("Sign in with email instead")
        self.buttons = ButtonBar([self.again, self.email])
        box = QVBoxLayout(self)
        self.box = box
        box.addStretch(1)
        self._gaps: list[int] = []
        for w, gap in ((title, 2), (step1, 0), (self.url, 1), (step2, 0), (self.code, 1),
                       (self.alt, 0), (self.status, 2)):
            box.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)
            if gap:
                box.addSpacing(gap * 12)
                self._gaps.append(box.count() - 1)
        box.addWidget(self.buttons, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(2)
        self.status.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.again.clicked.connect(self.new_code)
        self.email.clicked.connect(self.use_email)
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        big = theme.title_px
        self.status.setMinimumWidth(big * 20)  # a sentence on one or two lines, never cut
        for i in self._gaps:  # room between the steps, in proportion to the type
            item = self.box.itemAt(i)
            spacer = item.spacerItem() if item is not None else None
            if spacer is not None:
                spacer.changeSize(0, theme.font_px if i != self._gaps[0] else big // 2)
        self.box.invalidate()
        self.url.setStyleSheet(f"font-size: {round(big * 0.8)}px; font-weight: bold;")
        self.code.setStyleSheet(
            f"font-size: {big * 2}px; font-weight: 900; letter-spacing: {big // 5}px;"
            f"background: #262934; border-radius: {theme.focus_px * 2}px;"
            f"padding: {big // 4}px {big // 2}px;")

    def waiting(self) -> None:
        """A new pairing is being asked for."""
        self.code.setText("")
        self.code.hide()
        self.status.setText("Getting a code…")

    def show_code(self, pairing: Pairing) -> None:
        self.url.setText(pairing.verification_uri)
        self.code.setText(pairing.user_code)
        self.code.show()
        minutes = max(1, round(pairing.expires_in_s / 60))
        self.status.setText(f"Waiting for you to confirm… The code works for {minutes} minutes.")

    def failed(self, text: str) -> None:
        self.code.hide()
        self.status.setText(text)
        self.again.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_default(self) -> None:
        self.buttons.focus_first()

    def on_action(self, action: Action) -> bool:
        if self.buttons.on_action(action):
            return True
        return action in (Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT)
