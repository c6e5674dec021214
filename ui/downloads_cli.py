"""``edgeplay download`` and ``edgeplay downloads …``: offline downloads from the command line.

``edgeplay download TITLE [--quality Q] [--audio en,fr] [--json]`` gets a license and
downloads the title (``--audio``: which separate audio renditions; default all),
printing progress on stderr (and, with ``--json``, the final state as one JSON object on
stdout); Ctrl+C or SIGTERM pause it, ``kill -9`` loses nothing: ``edgeplay download TITLE``
again (or ``edgeplay downloads resume TITLE``) continues where it stopped, while a download
another live ``edgeplay`` is running is refused (``already_downloading``).
``edgeplay downloads [list]`` needs no network; ``pause`` marks the download paused (a
running ``edgeplay download`` notices between segments); ``resume``, ``renew``, ``delete``
(which releases the license) and ``repair`` (re-fetches the parts that fail their check)
talk to the control plane the download came from: the bundled one is started for them. Exit
status: 0 done, 1 an error (one line on stderr), 2 usage.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from offline.downloader import DownloadManager, DownloadProgress, progress_of
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.license import span
from player.api import ControlPlaneClient
from player.bundled import BundledControlPlane, ControlPlaneStartError
from player.errors import PlayerError
from player.tokens import TokenStore
from ui.config import AppPaths
from ui.headless_report import first_line, setup_logging
from ui.library import open_library
from ui.signin import HeadlessError, resolve_title, sign_in

log = logging.getLogger("ui")

ACTIONS = ("list", "pause", "resume", "delete", "renew", "repair")


@dataclass(frozen=True)
class DownloadOptions:
    action: str
    """``download`` or one of :data:`ACTIONS`."""
    title: str | None = None
    quality: str | None = None
    audio: str | None = None
    """Comma-separated languages of separate audio renditions (None: all)."""
    json: bool = False
    control_plane: str | None = None
    catalog: str = "default"
    catalog_dir: str | None = None
    data_dir: str | None = None
    verbose: bool = False


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def progress_line(p: DownloadProgress) -> str:
    parts = [f"{p.title_name}: {p.state}", f"{p.fraction * 100:3.0f}%",
             f"{_mb(p.bytes_done)} of {_mb(p.bytes_total)}"]
    if p.rate_bps:
        parts.append(f"{_mb(p.rate_bps)}/s")
    if p.eta_s is not None:
        parts.append(f"{span(p.eta_s)} left")
    if p.error:
        parts.append(p.error)
    return "  ".join(parts)


def describe(library: OfflineLibrary, d: Download) -> dict[str, Any]:
    """One download for ``list --json``: progress, expiry, and whether it plays now."""
    body = progress_of(d).to_json()
    remaining = library.remaining_s(d)
    playable, reason = d.complete, None if d.complete else "incomplete"
    if d.complete:
        try:
            library.content_key(d)
        except PlayerError as exc:
            playable, reason = False, exc.code
    body.update({"rendition": d.rendition, "bitrate_bps": d.bandwidth_bps,
                 "duration_s": d.duration_s, "expires_at": d.expires_at,
                 "first_played_at": d.first_played_at, "playable_for_s": remaining,
                 "playable": playable, "not_playable_because": reason,
                 "position_s": d.position_s, "license_id": d.license_id})
    return body


def _list(library: OfflineLibrary, as_json: bool, out: TextIO) -> int:
    downloads = library.all()
    if as_json:
        out.write(json.dumps({"downloads": [describe(library, d) for d in downloads],
                              "used_bytes": library.used_bytes()}) + "\n")
        return 0
    if not downloads:
        out.write("No downloads. `edgeplay download TITLE` downloads one.\n")
        return 0
    for d in downloads:
        info = describe(library, d)
        left = info["playable_for_s"]
        expiry = ("license unreadable" if left is None else "expired" if left <= 0
                  else f"plays for {span(left)}")
        status = progress_line(progress_of(d)) if not d.complete else f"{d.title_name}: ready"
        note = f" ({info['not_playable_because']})" if d.complete and not info["playable"] \
            else ""
        out.write(f"{d.id}  {status}  {_mb(d.bytes_done)}  {d.rendition}  {expiry}{note}\n")
    return 0


class _Service:
    """The control plane a download talks to: the given URL, or the bundled one (started
    here, with the app's state folder, so the device and its licenses are the same)."""

    def __init__(self, options: DownloadOptions, paths: AppPaths,
                 service: str | None = None) -> None:
        self.options = options
        self.paths = paths
        url = options.control_plane
        if service is not None and not service.startswith("bundled:"):
            url = service
        self.url = url
        self.state = (service.removeprefix("bundled:") if service and service.startswith(
            "bundled:") else str(paths.controlplane_state))
        self.bundled: BundledControlPlane | None = None
        self.public_key: bytes | None = None

    @property
    def key(self) -> str:
        """The journal's name for it (and the keyring entry's)."""
        return self.url if self.url else f"bundled:{self.state}"

    @property
    def store_key(self) -> str:
        if self.url and self.paths.custom:
            return f"{self.url} {self.paths.data}"
        return self.key

    def start(self, err: TextIO) -> str:
        if self.url:
            return self.url
        o = self.options
        args = ["--catalog-dir", o.catalog_dir] if o.catalog_dir else ["--catalog", o.catalog]
        print("Starting the bundled control plane…", file=err, flush=True)
        self.bundled = BundledControlPlane([*args, "--state-dir", self.state])
        ready = self.bundled.start()
        self.public_key = base64.b64decode(ready.license_public_key)
        return ready.base_url

    def stop(self) -> None:
        if self.bundled is not None:
            self.bundled.stop()


@contextlib.contextmanager
def _signals_pause(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Iterator[None]:
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


async def _online(options: DownloadOptions, library: OfflineLibrary, service: _Service,
                  base_url: str, target: Download | None, out: TextIO, err: TextIO) -> int:
    store = TokenStore(service.store_key)
    store.require_persistent()  # offline downloads need the keyring (the device key too)
    async with ControlPlaneClient(base_url, store=store) as cp:
        last = [0.0]

        def show(p: DownloadProgress) -> None:
            if options.json and p.state == "downloading":
                return
            now = time.monotonic()
            if p.state == "downloading" and now - last[0] < 1.0:
                return
            last[0] = now
            print(progress_line(p), file=err, flush=True)

        manager = DownloadManager(library, cp, service.key, on_event=show)
        try:
            profile_id = await sign_in(cp, public_key=library.device_key().public_raw)
            if service.public_key is not None:
                library.pin(service.key, service.public_key)
            await manager.release_owed()
            await manager.report_first_plays()
            action = options.action
            if action == "download":
                assert options.title is not None
                title = await resolve_title(cp, options.title, profile_id)
                audio = (options.audio.split(",") if options.audio is not None else None)
                target = await manager.add(str(title["id"]), profile_id,
                                           quality=options.quality, audio=audio)
            assert target is not None
            if action in ("resume", "repair"):
                manager.check_not_owned(target)  # a live `edgeplay download` runs it
            if action == "delete":
                await manager.delete(target.id)
                print(f"Deleted {target.title_name}; its license is released.", file=err)
                return 0
            if action == "renew":
                renewed = await manager.renew(target.id)
                left = library.remaining_s(renewed)
                print(f"{renewed.title_name}: renewed; plays for "
                      f"{span(left or 0)}.", file=err)
                if options.json:
                    out.write(json.dumps(describe(library, renewed)) + "\n")
                return 0
            if action == "repair":
                bad = await asyncio.to_thread(library.damaged_segments, target)
                if not bad:
                    print(f"{target.title_name}: every part checks out; nothing to repair.",
                          file=err)
                    return 0
                print(f"{target.title_name}: fetching {len(bad)} damaged part(s) again…",
                      file=err)
                library.mark_for_repair(target, bad)
            return await _run_to_end(manager, library, target.id, options, out, err)
        finally:
            await manager.aclose()


async def _run_to_end(manager: DownloadManager, library: OfflineLibrary, download_id: str,
                      options: DownloadOptions, out: TextIO, err: TextIO) -> int:
    stop = asyncio.Event()
    with _signals_pause(asyncio.get_running_loop(), stop):
        task = manager.start(download_id)
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if stop.is_set() and not task.done():
            await manager.pause(download_id)
            print(f"Paused. `edgeplay downloads resume {download_id}` continues it.",
                  file=err, flush=True)
    final = library.get(download_id)
    if options.json:
        out.write(json.dumps(describe(library, final)) + "\n")
    if final.state == "completed":
        print(f"{final.title_name}: downloaded ({_mb(final.bytes_done)}, {final.rendition}).",
              file=err, flush=True)
        return 0
    if final.error:
        print(f"edgeplay: {final.error}", file=err, flush=True)
    return 1


def run_downloads(options: DownloadOptions, out: TextIO = sys.stdout,
                  err: TextIO = sys.stderr) -> int:
    setup_logging(options.verbose, err)
    paths = AppPaths.resolve(options.data_dir)
    library = open_library(paths)
    service: _Service | None = None
    try:
        if options.action == "list":
            return _list(library, options.json, out)
        target: Download | None = None
        if options.action != "download":
            if not options.title:
                raise HeadlessError(f"say which download to {options.action} "
                                    "(a title or a download id)")
            target = library.find(options.title)
            if options.action == "pause":
                if target.state in ("queued", "downloading"):
                    library.journal.set_state(target.id, "paused")
                print(f"{target.title_name}: paused.", file=err)
                return 0
            if options.action == "delete" and not target.license_id:
                library.store.delete(target.id)
                library.journal.remove(target.id)
                return 0
        service = _Service(options, paths, target.service if target else None)
        try:
            base_url = service.start(err)
        except ControlPlaneStartError as exc:
            if options.action == "delete" and target is not None:
                return _delete_offline(library, target, err)
            raise HeadlessError(str(exc).splitlines()[0]) from None
        return asyncio.run(_online(options, library, service, base_url, target, out, err))
    except (HeadlessError, ControlPlaneStartError) as exc:
        print(f"edgeplay: {first_line(exc)}", file=err)
        return 1
    except PlayerError as exc:
        if options.action == "delete" and service is not None and options.title:
            with contextlib.suppress(OfflineError):
                return _delete_offline(library, library.find(options.title), err)
        print(f"edgeplay: {exc.message}", file=err)
        return 1
    except KeyboardInterrupt:
        print("edgeplay: interrupted", file=err)
        return 1
    finally:
        if service is not None:
            service.stop()
        library.close()


def _delete_offline(library: OfflineLibrary, target: Download, err: TextIO) -> int:
    """Delete now; the license is released the next time the service answers."""
    library.store.delete(target.id)
    library.journal.remove(target.id)
    if target.license_id:
        library.journal.owe_release(target.license_id, target.service)
    print(f"Deleted {target.title_name}. The service could not be reached: its license is "
          "released the next time it can.", file=err)
    return 0
