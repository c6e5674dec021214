"""The one route for user-visible messages: ``messages.error(text, action=("Retry", fn))``.

Engine errors (:mod:`player.errors`) become a non-blocking toast with an action through
:func:`describe`. The toast widget (:class:`ui.widgets.Toast`) listens to ``shown``.

Actions by error code: ``messages.set_action(code, label, callback)`` makes every error whose
``server_code`` or ``code`` is ``code`` offer ``label``, and pressing it calls
``callback(error)``. This wins over the caller's ``retry``/``sign_in``. The window fills it
(``license_expired`` → "Renew", through ``MainWindow.renew_license``, a hook the downloads code
sets); see docs/ui.md.

Signals:
    shown(Message): a message to show now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from player.errors import (
    AuthError,
    EntitlementError,
    KeyringUnavailableError,
    LicenseError,
    NetworkError,
    NoEdgeError,
    PlayerError,
)

log = logging.getLogger("ui.message")

LICENSE_EXPIRED = "license_expired"
"""The code (``PlayerError.code`` or ``server_code``) of an offline license past its expiry or
playback window: the message offers "Renew"."""

ErrorAction = Callable[[BaseException], None]


@dataclass(frozen=True)
class Message:
    level: str
    """"info", "warning" or "error"."""
    text: str
    action_label: str | None = None
    action: Callable[[], None] | None = None
    timeout_s: float = 8.0
    code: str | None = None
    """The engine error's code (``PlayerError.code``), for errors that came from one."""


class MessageBus(QObject):
    shown = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.history: list[Message] = []
        self.actions: dict[str, tuple[str, ErrorAction]] = {}
        """Error code → (button label, what pressing it does with the error)."""

    def set_action(self, code: str, label: str, callback: ErrorAction) -> None:
        """Offer ``label`` on every error with this ``code`` (or ``server_code``)."""
        self.actions[code] = (label, callback)

    def action_for(self, exc: BaseException) -> tuple[str, ErrorAction] | None:
        for code in (getattr(exc, "server_code", None), getattr(exc, "code", None)):
            if isinstance(code, str) and code in self.actions:
                return self.actions[code]
        return None

    def show(self, message: Message) -> None:
        log.info("%s: %s", message.level, message.text)
        self.history.append(message)
        del self.history[:-50]
        self.shown.emit(message)

    def info(self, text: str) -> None:
        self.show(Message("info", text, timeout_s=4.0))

    def error(self, text: str, action: tuple[str, Callable[[], None]] | None = None, *,
              code: str | None = None) -> None:
        self.show(Message("error", text, action[0] if action else None,
                          action[1] if action else None, code=code))

    def engine_error(self, exc: BaseException, *, retry: Callable[[], None] | None = None,
                     sign_in: Callable[[], None] | None = None) -> None:
        text, label = describe(exc)
        code = getattr(exc, "code", None)
        code = code if isinstance(code, str) else None
        hooked = self.action_for(exc)
        if hooked is not None:
            label, callback = hooked
            self.error(text, (label, lambda: callback(exc)), code=code)
        elif label == "Sign in" and sign_in is not None:
            self.error(text, (label, sign_in), code=code)
        elif label == "Retry" and retry is not None:
            self.error(text, (label, retry), code=code)
        else:
            self.error(text, code=code)


def describe(exc: BaseException) -> tuple[str, str | None]:
    """(what to tell the user, the action that helps) for an engine error."""
    codes = {getattr(exc, "code", None), getattr(exc, "server_code", None)}
    if LICENSE_EXPIRED in codes:
        detail = getattr(exc, "message", "")
        return (f"The license for this download has expired. {detail}".strip(), "Renew")
    if isinstance(exc, NoEdgeError):
        return ("No edge server can deliver this title right now. "
                "Playback stopped where it was.", "Retry")
    if isinstance(exc, LicenseError):
        return (f"The license for this title was refused or has expired. {exc.message}",
                "Retry")
    if isinstance(exc, AuthError):
        return exc.message, "Sign in"
    if isinstance(exc, NetworkError):
        return "No network connection to Edgeplay. Check your connection.", "Retry"
    if isinstance(exc, EntitlementError | KeyringUnavailableError):
        return exc.message, None
    if isinstance(exc, PlayerError):
        return exc.message, "Retry"
    return f"Something went wrong: {type(exc).__name__}: {exc}", None
