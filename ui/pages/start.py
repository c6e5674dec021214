"""First screens: the start-up state (starting… / generating the catalog), sign-in, profiles."""

from __future__ import annotations

import random

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.backend import DEMO_EMAIL, DEMO_PASSWORD
from ui.delegates import ProfileDelegate
from ui.models import ProfileModel, Role
from ui.nav import Action
from ui.osk import FORM_ROWS, OnScreenKeyboard
from ui.theme import ACCENT, DESKTOP, Theme
from ui.widgets import ButtonBar, Page, RowView

AVATAR_COLORS = ["#e50914", "#2e86de", "#10ac84", "#f39c12", "#8e44ad", "#e84393", "#00a8a8"]


class SplashPage(Page):
    """Shown while the control plane starts (and the catalog is generated on a first run)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.addStretch(2)
        logo = QLabel("EDGEPLAY")
        logo.setObjectName("logo")
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = QLabel("Starting…")
        self.status.setObjectName("muted")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.setWordWrap(True)
        self.retry = QPushButton("Try again")
        self.retry.hide()
        self.offline = QPushButton("Watch your downloads")
        """Offline: the Downloads page plays without the service."""
        self.offline.hide()
        box.addWidget(logo)
        box.addSpacing(20)
        box.addWidget(self.status)
        box.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.offline, 0, Qt.AlignmentFlag.AlignCenter)
        box.addStretch(3)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def on_action(self, action: Action) -> bool:
        buttons = [b for b in (self.retry, self.offline) if b.isVisible()]
        if not buttons:
            return action != Action.BACK
        focused = next((b for b in buttons if b.hasFocus()), None)
        if action == Action.SELECT:
            (focused or buttons[0]).click()
            return True
        if action in (Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT):
            step = 1 if action in (Action.DOWN, Action.RIGHT) else -1
            index = buttons.index(focused) if focused in buttons else 0
            buttons[max(0, min(len(buttons) - 1, index + step))].setFocus()
            return True
        return action != Action.BACK


class SignInPage(Page):
    """Register this device with an account (the demo account is filled in).

    In TV mode, Enter on the email or password field opens an on-screen keyboard under the
    form that types into it; Back (or ↑ from its top row) returns to the field, ↓ from its
    bottom row goes on to the next field.

    Signals:
        submitted(str, str, bool): email, password, create the account first.
    """

    submitted = Signal(str, str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        card = QWidget()
        card.setObjectName("card")
        self.card = card
        box = QVBoxLayout(card)
        title = QLabel("Sign in to Edgeplay")
        title.setObjectName("h1")
        hint = QLabel("This registers this device with your account. The bundled service has a "
                      f"demo account: {DEMO_EMAIL}, password “{DEMO_PASSWORD}”.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.email = QLineEdit(DEMO_EMAIL)
        self.email.setPlaceholderText("Email")
        self.password = QLineEdit(DEMO_PASSWORD)
        self.password.setPlaceholderText("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_box = QCheckBox("Create a new account with this email")
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.button = QPushButton("Sign in")
        self.button.setObjectName("primary")
        for w in (title, hint, self.email, self.password, self.create_box, self.button, self.note):
            box.addWidget(w)
        self.keyboard = OnScreenKeyboard(DESKTOP, rows=FORM_ROWS)
        self.keyboard.hide()
        self.keyboard.text_changed.connect(self._keyboard_typed)
        self._target: QLineEdit | None = None
        self.tv = False
        centred = QHBoxLayout()  # not an alignment: that would ignore the hint's wrapped height
        centred.addStretch(1)
        centred.addWidget(card)
        centred.addStretch(1)
        outer.addLayout(centred)
        outer.addSpacing(16)
        outer.addWidget(self.keyboard, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.fields: list[QWidget] = [self.email, self.password, self.create_box, self.button]
        self.button.clicked.connect(self._submit)
        self.email.returnPressed.connect(self._submit)
        self.password.returnPressed.connect(self._submit)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.tv = theme.tv
        # A fixed width: the wrapped hint's height is then computed for the width it gets
        # (with only a maximum, TV-sized text was cut off at the foot of each line).
        self.card.setFixedWidth(max(620, theme.title_px * 18))
        self.keyboard.apply_theme(theme)
        if not theme.tv:
            self.close_keyboard()

    def open_keyboard(self, edit: QLineEdit) -> None:
        self._target = edit
        edit.setStyleSheet(f"border-color: {ACCENT};")  # the field the keys go to
        self.keyboard.text = edit.text()
        self.keyboard.show()
        self.keyboard.setFocus(Qt.FocusReason.OtherFocusReason)

    def close_keyboard(self, focus: QWidget | None = None) -> None:
        target = self._target
        self._target = None
        self.keyboard.hide()
        if target is not None:
            target.setStyleSheet("")
        if focus is not None:
            focus.setFocus(Qt.FocusReason.OtherFocusReason)
        elif target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _keyboard_typed(self, text: str) -> None:
        if self._target is not None:
            self._target.setText(text)

    def _submit(self) -> None:
        self.button.setEnabled(False)
        self.note.setText("Signing in…")
        self.submitted.emit(self.email.text().strip(), self.password.text(),
                            self.create_box.isChecked())

    def failed(self, text: str) -> None:
        self.button.setEnabled(True)
        self.note.setText(text)
        self.button.setFocus()

    def focus_default(self) -> None:
        self.button.setEnabled(True)
        self.button.setFocus()

    def _keyboard_action(self, action: Action) -> bool:
        if action == Action.BACK:
            self.close_keyboard()
            return True
        if self.keyboard.on_action(action):
            return True
        if action == Action.DOWN and self._target in self.fields:
            after = self.fields[self.fields.index(self._target) + 1]
            self.close_keyboard(after)
        elif action == Action.UP:
            self.close_keyboard()
        return True

    def on_action(self, action: Action) -> bool:
        if self.keyboard.hasFocus():
            return self._keyboard_action(action)
        focus = self.focusWidget()
        if self.tv and action == Action.SELECT and isinstance(focus, QLineEdit):
            self.open_keyboard(focus)
            return True
        if action in (Action.UP, Action.DOWN):
            current = next((i for i, w in enumerate(self.fields) if w.hasFocus()), -1)
            j = max(0, min(len(self.fields) - 1,
                           current + (1 if action == Action.DOWN else -1)))
            self.fields[j].setFocus()
            return True
        if action == Action.SELECT and self.create_box.hasFocus():
            self.create_box.toggle()
            return True
        if action == Action.SELECT and self.button.hasFocus():
            self.button.click()
            return True
        return action in (Action.LEFT, Action.RIGHT) and not isinstance(
            self.focusWidget(), QLineEdit)


class ProfilesPage(Page):
    """Who's watching? Pick, add, rename or delete a profile (each with an avatar colour).

    Signals:
        picked(dict): a profile was chosen.
        create_profile(str, str): name, colour.
        rename(str, str, str): id, new name, colour.
        delete(str): id.
    """

    picked = Signal(dict)
    create_profile = Signal(str, str)
    rename = Signal(str, str, str)
    delete = Signal(str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ProfileModel(self)
        box = QVBoxLayout(self)
        box.addStretch(1)
        title = QLabel("Who's watching?")
        title.setObjectName("h1")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(title)
        box.addSpacing(24)
        self.row = RowView()
        self.row.setModel(self.model)
        self.delegate = ProfileDelegate(theme, self.row)
        self.row.setItemDelegate(self.delegate)
        box.addWidget(self.row, 0, Qt.AlignmentFlag.AlignHCenter)
        self.name = QLineEdit()
        self.name.setPlaceholderText("Profile name")
        self.name.setMaximumWidth(420)
        self.color = QPushButton("Colour")
        self.save = QPushButton("Save")
        self.save.setObjectName("primary")
        self.remove = QPushButton("Delete profile")
        self.edit_bar = ButtonBar([self.color, self.save, self.remove])
        editor = QHBoxLayout()
        editor.addStretch(1)
        editor.addWidget(self.name)
        editor.addWidget(self.edit_bar)
        editor.addStretch(1)
        box.addSpacing(16)
        box.addLayout(editor)
        self.manage = QPushButton("Manage profiles")
        self.manage.setCheckable(True)
        box.addWidget(self.manage, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(2)
        self._color = AVATAR_COLORS[0]
        self._editing: str | None = None
        self._show_editor(False)
        self.row.chosen.connect(self._chosen)
        self.manage.toggled.connect(self._manage)
        self.color.clicked.connect(self._next_color)
        self.save.clicked.connect(self._save)
        self.remove.clicked.connect(self._delete)
        self.name.returnPressed.connect(self._save)
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.delegate.theme = theme
        hint = QSize(theme.poster_w + 40, theme.poster_w + theme.font_px * 3)
        self.row.setFixedHeight(hint.height() + 8)
        self.row.setMinimumWidth(min(1400, hint.width() * 6))
        self.row.setMaximumWidth(hint.width() * 6 + 8)

    def set_profiles(self, profiles: list[dict[str, object]]) -> None:
        self.model.set_profiles(profiles)
        self.row.setCurrentIndex(self.model.index(0, 0))
        self._show_editor(False)

    def focus_default(self) -> None:
        self.row.setFocus()

    def _show_editor(self, on: bool, profile_id: str | None = None, name: str = "",
                     color: str = AVATAR_COLORS[0]) -> None:
        self._editing = profile_id
        self.name.setVisible(on)
        self.edit_bar.setVisible(on)
        self.remove.setVisible(on and profile_id is not None)
        self.name.setText(name)
        self._color = color
        self._paint_color()
        if on:
            self.name.setFocus()

    def _paint_color(self) -> None:
        self.color.setStyleSheet(f"background: {self._color};")

    def _next_color(self) -> None:
        i = AVATAR_COLORS.index(self._color) if self._color in AVATAR_COLORS else -1
        self._color = AVATAR_COLORS[(i + 1) % len(AVATAR_COLORS)]
        self._paint_color()

    def _manage(self, on: bool) -> None:
        self.manage.setText("Done" if on else "Manage profiles")
        if not on:
            self._show_editor(False)

    def _chosen(self, index: object) -> None:
        pid = str(self.row.currentIndex().data(Role.ID))
        if pid == ProfileModel.ADD:
            self._show_editor(True, None, "", random.choice(AVATAR_COLORS))
            return
        profile = self.row.currentIndex().data(Role.TITLE)
        if self.manage.isChecked():
            self._show_editor(True, pid, str(profile.get("name", "")),
                              str(profile.get("avatar_color") or AVATAR_COLORS[0]))
            return
        self.picked.emit(profile)

    def _save(self) -> None:
        name = self.name.text().strip()
        if not name:
            return
        if self._editing is None:
            self.create_profile.emit(name, self._color)
        else:
            self.rename.emit(self._editing, name, self._color)
        self._show_editor(False)
        self.row.setFocus()

    def _delete(self) -> None:
        if self._editing is not None:
            self.delete.emit(self._editing)
        self._show_editor(False)
        self.row.setFocus()

    def on_action(self, action: Action) -> bool:
        if self.row.hasFocus():
            if action == Action.DOWN:
                (self.name if self.name.isVisible() else self.manage).setFocus()
                return True
            if action == Action.UP:
                return True
            return self.row.on_action(action)
        if self.edit_bar.contains_focus() and self.edit_bar.on_action(action):
            return True
        if action == Action.UP:
            if self.manage.hasFocus() and self.name.isVisible():
                self.edit_bar.focus_first()
            else:
                self.row.setFocus()
            return True
        if action == Action.DOWN:
            if self.name.hasFocus():
                self.edit_bar.focus_first()
            else:
                self.manage.setFocus()
            return True
        if action == Action.SELECT and self.manage.hasFocus():
            self.manage.toggle()
            return True
        if action == Action.BACK and self.name.isVisible():
            self._show_editor(False)
            self.row.setFocus()
            return True
        return False
