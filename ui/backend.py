"""The app's connection to the control plane: start it (bundled) or reach it (a URL), sign in,
and the catalog calls the pages make. Everything network-bound runs on the engine loop.

Continue watching (docs/sync.md): the backend owns the device's progress outbox
(``<data>/progress.sqlite3``) and its replayer on the engine loop; playback sessions write through
:meth:`Backend.progress_reporter`, "Mark as watched" through :meth:`Backend.mark_watched`.

A bundled control plane that dies mid-run is restarted (:meth:`Backend._watch_bundled` polls
its process on the engine loop): same arguments and state folder, a new port; the client is
pointed at the new URL and keeps its session (the keyring entry is keyed by the state folder,
not the port, and the control plane keeps accounts and tokens in that folder).

Signals:
    status(str): a start-up line for the splash page ("Generating the catalog: …").
    ready(): the control plane answers; ``client`` is usable.
    start_failed(str): the bundled control plane did not start (the message says why).
    sync_changed(): titles' progress became synced (or dropped): pending markers may go.
    restarting(): the bundled control plane exited unexpectedly; a new one is starting.
    restarted(): it is back (at a new ``base_url``); what is on screen may be reloaded.
    restart_failed(str): it could not be brought back (why); :meth:`restart_bundled` tries again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import socket
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from player.api import ControlPlaneClient
from player.bundled import BundledControlPlane
from player.errors import AuthError
from player.sync import Outbox, ProgressEvent, ProgressReporter, ProgressSync
from player.sync import mark_watched as queue_watched
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
    sync_changed = Signal()
    restarting = Signal()
    restarted = Signal()
    restart_failed = Signal(str)

    watch_interval_s = 1.0
    """How often the bundled control plane's process is polled (s)."""
    max_restarts = 3
    """Restarts allowed within ``restart_window_s``; past that it is left down (a crash loop)
    and ``restart_failed`` says so."""
    restart_window_s = 60.0

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
        self.service_key = control_plane_url
        """The control plane's stable name (its URL, or ``bundled:<state folder>``): what
        downloads record as where they came from."""
        self.license_key: bytes | None = None
        """The bundled control plane's license key (its ready line); None for a server."""
        self.device_public_key: Callable[[], bytes] | None = None
        """Where the device's public key comes from (the offline library's keyring entry);
        registration sends it so that offline licenses can be wrapped to it."""
        self._outbox: Outbox | None = None
        self.sync: ProgressSync | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._bundled_args: list[str] = []
        self._watch_task: asyncio.Task[None] | None = None
        self._starting: BundledControlPlane | None = None
        self._restarts: list[float] = []
        self._stopping = False

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
            self.runner.post(lambda: self.status.emit("Starting the bundled control plane…"))
            self._bundled_args = args
            self.bundled = BundledControlPlane(args, on_output=self._on_output)
            ready = await asyncio.to_thread(self.bundled.start)
            url, self.admin_url = ready.base_url, ready.admin_url
            self.license_key = base64.b64decode(ready.license_public_key)
            self._watch_task = asyncio.ensure_future(self._watch_bundled())
            # The bundled control plane listens on a new port each run; its accounts live in
            # its state folder, so the session is keyed by that folder, not by the port.
            store_key = f"bundled:{state}"
        self.service_key = store_key
        self.base_url = url
        if self._store is not None:
            self.store = self._store
        else:
            if self.control_plane_url and self.paths.custom:
                store_key += f" {self.paths.data}"  # a data folder of its own: a device
            tokens = TokenStore(store_key)
            self.keyring_note = tokens.message
            self.store = tokens
        self.client = ControlPlaneClient(url, store=self.store)
        self.start_sync(self.client)
        self.runner.post(lambda: self.status.emit("Connecting…"))

    # --- the bundled control plane's watchdog ----------------------------------------------------

    async def _watch_bundled(self) -> None:  # on the engine loop, while the app runs
        while not self._stopping:
            await asyncio.sleep(self.watch_interval_s)
            bundled = self.bundled
            proc = bundled.proc if bundled is not None else None
            if self._stopping or proc is None or proc.poll() is None:
                continue
            log.warning("the bundled control plane exited unexpectedly (status %s)",
                        proc.returncode)
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < self.restart_window_s]
            if len(self._restarts) >= self.max_restarts:
                self.runner.post(lambda: self.restart_failed.emit(
                    f"it stopped {len(self._restarts) + 1} times within a minute"))
                return
            self._restarts.append(now)
            self.runner.post(self.restarting.emit)
            if not await self._restart():
                return

    async def _restart(self) -> bool:
        """Start a new bundled control plane on the same state folder; True when it is up."""
        old = self.bundled
        if old is not None:
            await asyncio.to_thread(old.stop, 2.0)  # reap it, close its pipes
        fresh = BundledControlPlane(self._bundled_args, on_output=self._on_output)
        self._starting = fresh
        try:
            ready = await asyncio.to_thread(fresh.start)
        except Exception as exc:
            log.error("the bundled control plane did not restart: %s", exc)
            first = str(exc).strip().splitlines()
            text = first[0] if first else type(exc).__name__
            self.runner.post(lambda: self.restart_failed.emit(text))
            return False
        finally:
            self._starting = None
        if self._stopping:
            await asyncio.to_thread(fresh.stop)
            return False
        self.bundled = fresh
        self.base_url, self.admin_url = ready.base_url, ready.admin_url
        if self.client is not None:
            self.client.set_base_url(ready.base_url)
        log.info("the bundled control plane is back at %s", ready.base_url)
        self.runner.post(self.restarted.emit)
        if self.sync is not None:
            self.sync.wake()  # what was queued during the outage goes now
        return True

    def restart_bundled(self) -> None:
        """Try again after ``restart_failed`` (the message's Retry)."""
        if self.bundled is None or self._stopping:
            return

        async def again() -> None:
            self._restarts.clear()
            if await self._restart():
                self._watch_task = asyncio.ensure_future(self._watch_bundled())
        self.runner.run(again(), None, lambda exc: self.restart_failed.emit(str(exc)),
                        key="restart")

    def _on_output(self, line: str) -> None:  # on the control plane's pump thread
        text = _status_line(line)
        if text:
            self.runner.post(lambda: self.status.emit(text))

    # --- progress (continue watching) ---------------------------------------------------------

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(self.paths.progress_outbox)
        return self._outbox

    def start_sync(self, client: Any) -> None:
        """Replay the outbox to ``client`` from now on (call on the engine loop)."""
        cp = client

        def changed(events: list[ProgressEvent]) -> None:
            self.runner.post(self.sync_changed.emit)
        self.sync = ProgressSync(self.outbox, cp, on_change=changed, account_id=lambda: (
            cp.credentials.account_id if getattr(cp, "credentials", None) else None) or None)
        self._sync_task = asyncio.ensure_future(self.sync.run())

    def _wake_sync(self) -> None:
        sync = self.sync
        if sync is not None:
            self.runner.aio.call_soon(sync.wake)

    @property
    def device_id(self) -> str:
        creds = getattr(self.client, "credentials", None)
        return str(getattr(creds, "device_id", "") or "")

    def _account_id(self) -> str:
        creds = getattr(self.client, "credentials", None)
        return str(getattr(creds, "account_id", "") or "")

    def progress_reporter(self, title_id: str, profile_id: str) -> ProgressReporter:
        """The reporter a playback session writes its positions to."""
        return ProgressReporter(self.outbox, profile_id=profile_id, title_id=title_id,
                                device_id=self.device_id, account_id=self._account_id(),
                                device_name=device_name(), on_write=lambda _: self._wake_sync())

    def mark_watched(self, title_id: str, profile_id: str, watched: bool) -> ProgressEvent:
        """Queue "Mark as watched/unwatched" (durable at once; sent when the server answers)."""
        event = queue_watched(self.outbox, profile_id=profile_id, title_id=title_id,
                              watched=watched, device_id=self.device_id,
                              account_id=self._account_id(), device_name=device_name())
        self._wake_sync()
        return event

    def local_progress(self, profile_id: str) -> dict[str, ProgressEvent]:
        """This device's latest event per title of one profile (pending or synced)."""
        return {e.title_id: e for e in self.outbox.for_profile(profile_id)}

    async def flush_progress(self, timeout_s: float = 1.0) -> None:
        """Send what is pending before a playback starts, so the server's resume position is
        the newest one (gives up quietly after ``timeout_s``)."""
        if self.sync is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self.sync.drain()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close the client (on the loop) and stop the bundled control plane. At exit only."""
        self._stopping = True
        if self._watch_task is not None and self.runner.aio.running:
            self.runner.aio.call_soon(self._watch_task.cancel)
        if self._sync_task is not None and self.runner.aio.running:
            task, sync = self._sync_task, self.sync

            async def last_flush() -> None:
                task.cancel()
                if sync is not None:
                    with contextlib.suppress(Exception, TimeoutError):
                        async with asyncio.timeout(2.0):
                            await sync.drain()
            try:
                self.runner.aio.submit(last_flush()).result(timeout_s)
            except Exception as exc:
                log.warning("the last progress sync: %s", exc)
            self._sync_task = None
        if self.client is not None and self.runner.aio.running:
            try:
                self.runner.aio.submit(self.client.aclose()).result(timeout_s)
            except Exception as exc:
                log.warning("closing the control-plane client: %s", exc)
            self.client = None
        starting = self._starting
        if starting is not None:  # a restart under way: its start() gives up at once
            starting.stop()
        if self.bundled is not None:
            self.bundled.stop()
            self.bundled = None
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

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
        public_key = None
        if self.device_public_key is not None:  # offline licenses are wrapped to it
            try:
                public_key = await asyncio.to_thread(self.device_public_key)
            except Exception as exc:  # no keyring: streaming still works, downloads do not
                log.warning("no device key for downloads: %s", exc)
        await cp.register_device(email, password, device_name(), create_account=create,
                                 platform="desktop", public_key=public_key)
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

    async def update_profile(self, profile_id: str, *, name: str | None = None,
                             avatar_color: str | None = None) -> JSON:
        return await self.cp.update_profile(profile_id, name=name, avatar_color=avatar_color)

    async def delete_profile(self, profile_id: str) -> JSON:
        return await self.cp.delete_profile(profile_id)


def device_name() -> str:
    return f"Edgeplay desktop ({socket.gethostname()})"


def memory_store() -> CredentialStore:
    return MemoryStore()
