"""``TvSignIn``: the TV's device-code sign-in, run on the engine loop (docs/ui.md, "Sign-in").

:meth:`start` asks the control plane for a code and polls it (``player.api.pairing``) on the
engine loop, so the GUI thread never waits; the code reaches :class:`PairPage` through the
runner's poster. Confirmed: the tokens are in the credential store (the keyring) as with any
sign-in, and ``signed_in`` carries the profiles. Refused or expired: the page says so and
offers a new code. :meth:`stop` cancels the polling (leaving the page, or the window closing).

Signals:
    signed_in(list): the pairing was confirmed; the account's profiles.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from player.api.pairing import start_pairing, wait_for_pairing
from player.errors import NotFoundError
from ui.backend import Backend
from ui.pages.pair import PairPage

log = logging.getLogger("ui")
KEY = "pair"


def tv_name() -> str:
    return f"Edgeplay TV ({socket.gethostname()})"


class TvSignIn(QObject):
    signed_in = Signal(list)

    def __init__(self, backend: Backend, page: PairPage, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.page = page
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        """How the poller waits between polls (tests make it short)."""
        self._future: concurrent.futures.Future[Any] | None = None
        page.new_code.connect(self.start)

    @property
    def running(self) -> bool:
        return self._future is not None and not self._future.done()

    def start(self) -> None:
        self.stop()
        self.page.waiting()
        self._future = self.backend.runner.run(self._pair(), self._done, self._failed, key=KEY)

    def stop(self) -> None:
        self.backend.runner.invalidate(KEY)
        if self._future is not None:
            self._future.cancel()
            self._future = None

    async def _pair(self) -> list[dict[str, Any]]:  # on the engine loop
        backend, page = self.backend, self.page
        cp = backend.cp
        public_key = None
        if backend.device_public_key is not None:  # offline licenses are wrapped to it
            try:
                raw = await asyncio.to_thread(backend.device_public_key)
                public_key = base64.b64encode(raw).decode("ascii")
            except Exception as exc:
                log.warning("no device key for downloads: %s", exc)
        pairing = await start_pairing(cp, tv_name(), public_key_b64=public_key)
        log.info("pairing: showing code %s", pairing.user_code)
        backend.runner.post(lambda: page.show_code(pairing))
        await wait_for_pairing(cp, pairing, sleep=self.sleep)
        return list(await cp.profiles())

    def _done(self, profiles: list[dict[str, Any]]) -> None:
        self._future = None
        self.signed_in.emit(profiles)

    def _failed(self, exc: BaseException) -> None:
        self._future = None
        text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if isinstance(exc, NotFoundError) and exc.server_code == "not_found":
            text = ("This service does not offer sign-in with a code. "
                    "Sign in with email instead.")
        log.info("pairing ended: %s", text)
        self.page.failed(text)
