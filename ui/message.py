"""The one route for user-visible messages: ``messages.error(text, action=("Retry", fn))``.

Engine errors (:mod:`player.errors`) become a non-blocking toast with an action through
:func:`describe`. The toast widget (:class:`ui.widgets.toast.Toast`) listens to ``shown``.

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


@dataclass(frozen=True)
class Message:
    level: str
    """"info", "warning" or "error"."""
    text: str
    action_label: str | None = None
    action: Callable[[], None] | None = None
    timeout_s: float = 8.0


class MessageBus(QObject):
    shown = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.history: list[Message] = []

    def show(self, message: Message) -> None:
        log.info("%s: %s", message.level, message.text)
        self.history.append(message)
        del self.history[:-50]
        self.shown.emit(message)

    def info(self, text: str) -> None:
        self.show(Message("info", text, timeout_s=4.0))

    def error(self, text: str, action: tuple[str, Callable[[], None]] | None = None) -> None:
        self.show(Message("error", text, action[0] if action else None,
                          action[1] if action else None))

    def engine_error(self, exc: BaseException, *, retry: Callable[[], None] | None = None,
                     sign_in: Callable[[], None] | None = None) -> None:
        text, label = describe(exc)
        if label == "Sign in" and sign_in is not None:
            self.error(text, (label, sign_in))
        elif label == "Retry" and retry is not None:
            self.error(text, (label, retry))
        else:
            self.error(text)


def describe(exc: BaseException) -> tuple[str, str | None]:
    """(what to tell the user, the action that helps) for an engine error."""
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
