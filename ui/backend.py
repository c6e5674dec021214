"""The app's connection to the control plane: start it (bundled) or reach it (a URL), sign in,
and the catalog calls the pages make. Everything network-bound runs on the engine loop.

Signals:
    status(str): a start-up line for the splash page ("Generating the catalog: …").
    ready(): the control plane answers; ``client`` is usable.
    start_failed(str): the bundled control plane did not start (the message says why).
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from player.api import ControlPlaneClient
from player.bundled import BundledControlPlane
from player.errors import AuthError
from player.tokens import CredentialStore, MemoryStore, TokenStore
from ui.aio import Runner
from ui.config import AppPaths

log = logging.getLogger("ui")

DEMO_EMAIL = "demo@edgeplay.test"
DEMO_PASSWORD = "edgeplay"
JSON = dict[str, Any]


def _status_line(line: str) -> str | None:
    """A control-plane stderr line worth showing on the splash page, shortened."""
    text = line.strip()
    if not text or text.startswith("{") or re.match(r"^\d{4}-\d\d-\d\d", text):
        return None
    return text[:140]


class Backend(QObject):
    """Owns the bundled control plane (if any) and the :class:`ControlPlaneClient`."""

    status = Signal(str)
    ready = Signal()
    start_failed = Signal(str)

    def __init__(self, runner: Runner, paths: AppPaths, *, control_plane_url: str = "",
                 catalog: str = "default", catalog_dir: str | None = None,
                 store: CredentialStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.paths = paths
        self.control_plane_url = control_plane_url
        self.catalog = catalog
        self.catalog_dir = catalog_dir
        self._store = store
        self.bundled: BundledControlPlane | None = None
        self.client: ControlPlaneClient | None = None
        self.store: CredentialStore | None = None
        self.base_url = ""
        self.admin_url = ""
        self.keyring_note: str | None = None

    # --- start-up ------------------------------------------------------------------------------

    def start(self) -> None:
        self.runner.run(self._start(), lambda _: self.ready.emit(), self._start_error)

    def _start_error(self, exc: BaseException) -> None:
        first = str(exc).strip().splitlines()
        text = first[0] if first else type(exc).__name__
        log.error("control plane start failed: %s", exc)
        self.start_failed.emit(text)

    async def _start(self) -> None:
        url = self.control_plane_url
        store_key = url
        if not url:
            args = (["--catalog-dir", self.catalog_dir] if self.catalog_dir
                    else ["--catalog", self.catalog])
            state = self.paths.controlplane_state
            args += ["--state-dir", str(state)]
            self.status.emit("Starting the bundled control plane…")
            self.bundled = BundledControlPlane(args, on_output=self._on_output)
            ready = await asyncio.to_thread(self.bundled.start)
            url, self.admin_url = ready.base_url, ready.admin_url
            # The bundled control plane listens on a new port each run; its accounts live in
            # its state folder, so the session is keyed by that folder, not by the port.
            store_key = f"bundled:{state}"
        self.base_url = url
        if self._store is not None:
            self.store = self._store
        else:
            tokens = TokenStore(store_key)
            self.keyring_note = tokens.message
            self.store = tokens
        self.client = ControlPlaneClient(url, store=self.store)
        self.status.emit("Connecting…")

    def _on_output(self, line: str) -> None:  # on the control plane's pump thread
        text = _status_line(line)
        if text:
            self.status.emit(text)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close the client (on the loop) and stop the bundled control plane. At exit only."""
        if self.client is not None and self.runner.aio.running:
            try:
                self.runner.aio.submit(self.client.aclose()).result(timeout_s)
            except Exception as exc:
                log.warning("closing the control-plane client: %s", exc)
            self.client = None
        if self.bundled is not None:
            self.bundled.stop()
            self.bundled = None

    # --- calls (each runs on the loop; ok/err on the GUI thread) ------------------------------

    @property
    def cp(self) -> ControlPlaneClient:
        if self.client is None:
            raise RuntimeError("the control plane is not ready")
        return self.client

    @property
    def signed_in(self) -> bool:
        return self.client is not None and self.client.signed_in

    def call(self, make: Callable[[ControlPlaneClient], Any], ok: Callable[[Any], None],
             err: Callable[[BaseException], None] | None = None, *,
             key: str | None = None) -> None:
        """``backend.call(lambda cp: cp.rows(pid), on_rows, key="rows")``."""
        cp = self.cp

        async def go() -> Any:
            return await make(cp)
        self.runner.run(go(), ok, err, key=key)

    async def sign_in(self, email: str, password: str, create: bool) -> list[JSON]:
        """Register this device (creating the account when asked); returns the profiles."""
        cp = self.cp
        await cp.register_device(email, password, f"Edgeplay desktop ({socket.gethostname()})",
                                 create_account=create, platform="desktop")
        return await cp.profiles()

    async def resume_session(self) -> list[JSON]:
        """Profiles with the stored session; raises :class:`AuthError` when it is gone."""
        return await self.cp.profiles()

    async def ensure_demo(self) -> list[JSON]:
        """Signed in with the demo account one way or another (screenshots, tests)."""
        cp = self.cp
        if cp.signed_in:
            try:
                return await cp.profiles()
            except AuthError:
                pass
        return await self.sign_in(DEMO_EMAIL, DEMO_PASSWORD, False)

    # Profile edits the engine's client has no method for yet (docs/ui.md: engine requests).
    async def update_profile(self, profile_id: str, **fields: Any) -> JSON:
        return await self.cp._json("PATCH", f"/v1/profiles/{profile_id}", json=fields,
                                   idempotent=True)

    async def delete_profile(self, profile_id: str) -> JSON:
        return await self.cp._json("DELETE", f"/v1/profiles/{profile_id}", idempotent=True)


def memory_store() -> CredentialStore:
    return MemoryStore()
