"""The three ways a headless run plays: a catalog title through a control plane, a plain HLS URL
with none, a download with nothing online; each from libmpv's creation to the printed report.

The title's run replays the progress outbox first (whatever an earlier run left pending) and
flushes the position before exit; ``edgeplay sync`` only replays it (:func:`run_online`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TextIO

import httpx

from player.api import ControlPlaneClient
from player.errors import PlayerError
from player.estimate_store import EstimateStore
from player.mpv_seam import MpvLike, create_mpv
from player.prefetch import prefetch_start
from player.prefetched import PrefetchedStart
from player.qoe_report import QoeReport
from player.session import PlaybackSession, SessionConfig
from player.sync import Outbox, ProgressReporter, ProgressSync
from player.tokens import TokenStore
from ui.config import AppPaths
from ui.headless_drive import drive
from ui.headless_options import HeadlessOptions, session_config
from ui.headless_report import finish, first_line
from ui.signin import HeadlessError, device_name, resolve_title, sign_in


async def play_title(cp: ControlPlaneClient, options: HeadlessOptions, mpv: MpvLike,
                     err: TextIO, sync: ProgressSync | None = None,
                     estimates: EstimateStore | None = None
                     ) -> tuple[QoeReport, PlayerError | None]:
    """Sign in, find the title and play it; with ``estimates``, start from the last run's
    throughput estimate and keep this run's for the next."""
    profile_id = await sign_in(cp)
    title = await resolve_title(cp, options.title, profile_id)
    if title.get("playable") is False:
        raise HeadlessError(f"{title.get('name')} cannot be played here "
                            f"({title.get('unplayable_reason')})")
    reporter: ProgressReporter | None = None
    if sync is not None:
        # A newer local position than the server's (played offline, or the control plane was
        # down) goes first, so the server's resume position is the latest one.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await sync.drain()
        creds = cp.credentials
        reporter = ProgressReporter(
            sync.outbox, profile_id=profile_id, title_id=str(title["id"]),
            device_id=creds.device_id if creds else "", account_id=creds.account_id if creds
            else "", device_name=device_name(), on_write=lambda _: sync.wake())
    print(f"Playing {title.get('name')} ({title.get('id')})…", file=err, flush=True)
    initial = estimates.load() if estimates is not None else None
    config = session_config(options, "title", initial_estimate_bps=initial)
    prefetched = (await _prefetch(err, cp, str(title["id"]), profile_id, config=config)
                  if options.prefetch else None)
    session = PlaybackSession(cp, str(title["id"]), profile_id, mpv, config=config,
                              progress=reporter, playback=prefetched)
    try:
        return await drive(session, options, mpv)
    finally:
        if estimates is not None:
            estimates.save(session.estimate_bps)


async def play_url(options: HeadlessOptions, mpv: MpvLike, err: TextIO
                   ) -> tuple[QoeReport, PlayerError | None]:
    """Play ``options.title``, a plain HLS VOD URL, with no control plane."""
    print(f"Playing {options.title}…", file=err, flush=True)
    config = session_config(options, "url")
    prefetched = (await _prefetch(err, None, url=options.title, config=config)
                  if options.prefetch else None)
    return await drive(PlaybackSession.from_url(options.title, mpv, config=config,
                                                playback=prefetched), options, mpv)


async def _prefetch(err: TextIO, cp: ControlPlaneClient | None, title_id: str = "",
                    profile_id: str = "", *, url: str | None = None,
                    config: SessionConfig) -> PrefetchedStart | None:
    """``--prefetch``: the start fetched ahead; a failure is reported and the start is cold
    (Play then says what is wrong)."""
    started = time.monotonic()
    try:
        prefetched = await prefetch_start(cp, title_id, profile_id, url=url, config=config)
    except (PlayerError, httpx.HTTPError) as exc:
        print(f"Prefetch failed, starting cold: {first_line(exc)}", file=err, flush=True)
        return None
    print(f"Prefetched {prefetched.held_bytes} bytes in "
          f"{(time.monotonic() - started) * 1000:.0f} ms", file=err, flush=True)
    return prefetched


async def run_url(options: HeadlessOptions, out: TextIO, err: TextIO) -> int:
    """``play URL``: the stream alone, no control plane."""
    mpv = create_mpv(vo="null", ao="null")
    try:
        report, error = await play_url(options, mpv, err)
    finally:
        mpv.terminate()
    return finish(report, error, options, out, err)


async def run_offline(options: HeadlessOptions, out: TextIO, err: TextIO) -> int:
    """``play TITLE --offline``: the download, through the engine, with nothing online."""
    from offline.playback import OfflineSession
    from ui.library import open_library
    paths = AppPaths.resolve(options.data_dir)
    library = open_library(paths)
    outbox = Outbox(paths.progress_outbox)
    mpv = create_mpv(vo="null", ao="null")
    try:
        download = library.find(options.title)
        reporter = ProgressReporter(outbox, profile_id=download.profile_id,
                                    title_id=download.title_id, device_id=download.device_id,
                                    account_id=download.account_id, device_name=device_name())
        session = OfflineSession(
            library, download, mpv, progress=reporter, start_over=options.start_over,
            config=session_config(options, "offline"))
        print(f"Playing {download.title_name} from your downloads…", file=err, flush=True)
        report, error = await drive(session, options, mpv)
        error = session.explain(error) if error is not None else None
    finally:
        mpv.terminate()
        outbox.close()
        library.close()
    return finish(report, error, options, out, err)


async def run_online(base_url: str, options: HeadlessOptions, out: TextIO, err: TextIO,
                     store_key: str | None = None) -> int:
    """``play TITLE`` (or ``sync``) against the control plane at ``base_url``."""
    paths = AppPaths.resolve(options.data_dir)
    # One keyring entry per control plane, and per data folder when it is not the default one:
    # two folders on one machine are two devices. The bundled one is named by its state folder.
    store = TokenStore(store_key or (f"{base_url} {paths.data}" if paths.custom else base_url))
    if store.message:
        print(f"edgeplay: note: {store.message}", file=err, flush=True)
    outbox = Outbox(paths.progress_outbox)
    try:
        async with ControlPlaneClient(base_url, store=store) as cp:
            sync = ProgressSync(outbox, cp, account_id=lambda: (
                cp.credentials.account_id if cp.credentials else None) or None)
            if options.sync_only:
                await sign_in(cp)
                ok = await _flush(sync, options.flush_timeout_s, err)
                print(json.dumps({"synced": sync.sent, "pending": outbox.pending_count()}),
                      file=out, flush=True)
                return 0 if ok else 1
            replay = asyncio.ensure_future(sync.run())
            mpv = create_mpv(vo="null", ao="null")
            try:
                report, error = await play_title(
                    cp, options, mpv, err, sync, EstimateStore(paths.throughput_estimate))
            finally:
                mpv.terminate()
                replay.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await replay
            await _flush(sync, options.flush_timeout_s, err)
    finally:
        outbox.close()
    return finish(report, error, options, out, err)


async def _flush(sync: ProgressSync, timeout_s: float, err: TextIO) -> bool:
    """Send what is pending; True when nothing is left."""
    done = False
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            done = await sync.drain()
    left = sync.outbox.pending_count()
    if left:
        print(f"edgeplay: {left} progress event(s) kept for later (the control plane is not "
              "answering)", file=err, flush=True)
    return done and not left
