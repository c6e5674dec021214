"""``edgeplay play TITLE --headless``: play with the real libmpv (vo/ao null), print the QoE report.

``TITLE`` starting with ``http://`` or ``https://`` is a plain HLS VOD URL: it plays with no
control plane (none is started; no sign-in, no progress, no telemetry POST).

Order: the control plane (``--control-plane URL``, else the bundled one, stopped at exit) →
device credentials (:class:`player.tokens.TokenStore`; first use registers a device with the
demo account) → the title (an id, else the best search match) → ``create_mpv(vo="null",
ao="null")`` → :class:`player.session.PlaybackSession` on an asyncio loop on this thread until
the end, ``--duration`` seconds of playback, or Ctrl+C/SIGTERM → the report (text, or one JSON
object with ``--json``) on stdout. Progress goes through the durable outbox in the data folder
(``--data-dir`` / ``EDGEPLAY_DATA_DIR``, else platformdirs; :mod:`player.sync`): whatever an
earlier run left pending (a crash, the control plane down) is replayed first, and the position is
flushed before exit. ``edgeplay sync`` only replays the outbox. Exit status: 0 played, 1 playback
or setup error (one line on stderr, no traceback), 2 usage (argparse). With ``--json`` every run
prints exactly one report object, failures before playback included (:func:`failure_report`);
``ok`` is false when the stream died, even if ``--duration`` ended the run first (:func:`died`).
``--prefetch`` fetches the start first (:mod:`player.prefetch`, what the details page does) and
plays from it. The fields and error codes: docs/engine.md, *The JSON report*.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

import httpx

from player.api import ControlPlaneClient
from player.bundled import BundledControlPlane, ControlPlaneStartError
from player.errors import AuthError, NotFoundError, PlayerError
from player.estimate_store import EstimateStore
from player.mpv_seam import MpvLike, create_mpv
from player.prefetch import prefetch_start
from player.prefetched import PrefetchedStart
from player.qoe_report import QoeReport
from player.session import PlaybackSession, SessionConfig
from player.sync import Outbox, ProgressReporter, ProgressSync
from player.tokens import TokenStore
from ui.config import AppPaths

log = logging.getLogger("ui")

DEMO_EMAIL = "demo@edgeplay.test"
DEMO_PASSWORD = "edgeplay"


@dataclass(frozen=True)
class HeadlessOptions:
    title: str
    control_plane: str | None = None
    catalog: str = "default"
    catalog_dir: str | None = None
    json: bool = False
    duration_s: float | None = None
    start_over: bool = False
    max_rung: int | None = None
    speed: float = 1.0
    verbose: bool = False
    data_dir: str | None = None
    """The app data folder (one per device); None: ``$EDGEPLAY_DATA_DIR`` or platformdirs."""
    sync_only: bool = False
    """``edgeplay sync``: replay the progress outbox and exit."""
    flush_timeout_s: float = 5.0
    """How long the last progress may take to reach the control plane at exit, seconds."""
    prefetch: bool = False
    """Prefetch the start first (what the details page does), then play from it."""
    offline: bool = False
    """``--offline``: play the title's download; no control plane, no network."""
    keys: tuple[tuple[bytes, bytes], ...] = ()
    """``--key KID:KEY``: CENC ClearKey content keys, (KID, key) pairs."""
    audio: str | None = None
    """``--audio LANG``: switch to this audio language once playing (None: the default)."""
    stream_format: str = "hls"
    """``--format``: ``hls`` or ``dash`` asked of the control plane (HLS when unavailable)."""


class HeadlessError(Exception):
    """A setup failure with a one-line message for the user."""


async def sign_in(cp: ControlPlaneClient, public_key: bytes | None = None) -> str:
    """Make sure the device is signed in (registering it on first use); returns a profile id.

    ``public_key``: the device's key for offline licenses; a device registered without one is
    registered again with it (the control plane only wraps licenses to a registered key)."""
    if not cp.signed_in:
        await cp.register_device(DEMO_EMAIL, DEMO_PASSWORD, device_name(),
                                 public_key=public_key)
    try:
        profiles = await cp.profiles()
    except AuthError:
        await cp.login(DEMO_EMAIL, DEMO_PASSWORD)
        profiles = await cp.profiles()
    if public_key is not None and not (await cp.me()).get("device", {}).get("has_public_key"):
        await cp.register_device(DEMO_EMAIL, DEMO_PASSWORD, device_name(),
                                 public_key=public_key)
        profiles = await cp.profiles()
    if not profiles:
        raise HeadlessError("the account has no profile")
    return str(profiles[0]["id"])


async def resolve_title(cp: ControlPlaneClient, title: str, profile_id: str) -> dict[str, Any]:
    """``title`` as an id, else the best search match (an exact name first)."""
    with contextlib.suppress(NotFoundError):
        return await cp.title(title, profile_id)
    results = await cp.search(title, profile_id)
    if not results:
        raise HeadlessError(f"no title matches {title!r}")
    exact = [r for r in results if str(r.get("name", "")).casefold() == title.casefold()]
    return (exact or results)[0]


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
    config = SessionConfig(start_over=options.start_over, max_rung=options.max_rung,
                           initial_estimate_bps=initial, clear_keys=options.keys,
                           stream_format=options.stream_format)
    prefetched = (await _prefetch(err, cp, str(title["id"]), profile_id, config=config)
                  if options.prefetch else None)
    session = PlaybackSession(cp, str(title["id"]), profile_id, mpv, config=config,
                              progress=reporter, playback=prefetched)
    try:
        return await drive(session, options, mpv)
    finally:
        if estimates is not None:
            estimates.save(session.estimate_bps)


def is_url(title: str) -> bool:
    """``edgeplay play URL``: a plain HLS URL instead of a title."""
    return title.startswith(("http://", "https://"))


async def play_url(options: HeadlessOptions, mpv: MpvLike, err: TextIO
                   ) -> tuple[QoeReport, PlayerError | None]:
    """Play ``options.title``, a plain HLS VOD URL, with no control plane."""
    print(f"Playing {options.title}…", file=err, flush=True)
    config = SessionConfig(max_rung=options.max_rung, post_telemetry=False,
                           clear_keys=options.keys)
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


async def drive(session: PlaybackSession, options: HeadlessOptions, mpv: MpvLike
                ) -> tuple[QoeReport, PlayerError | None]:
    """Play ``session`` until the end, ``--duration`` or a signal; its report and error."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    error: PlayerError | None = None
    play = asyncio.ensure_future(session.play())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({play, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not play.done():
            play.cancel()
            with contextlib.suppress(asyncio.CancelledError, PlayerError):
                await play
        else:
            play.result()
            if options.speed != 1.0:
                mpv.set("speed", options.speed)
            if options.audio is not None:
                await choose_audio(session, options.audio)
            await _until_done(session, stop, options.duration_s)
        # --duration or a signal may end the run while mpv still plays what was buffered from
        # a stream that already died: that run failed all the same.
        error = died(session)
    except PlayerError as exc:
        error = exc
    finally:
        stopper.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        await session.stop()
    return session.report(), error


async def choose_audio(session: PlaybackSession, language: str) -> None:
    """``--audio``: switch to ``language``; an unknown one is a :class:`PlayerError`."""
    languages = session.audio_languages
    if languages and language == languages[0]:
        return  # already playing (the first is the default)
    try:
        await session.set_audio(language)
    except ValueError:
        have = ", ".join(session.audio_languages) or "none"
        raise PlayerError(f"This title has no {language!r} audio (it has: {have}).",
                          code="audio") from None


def died(session: PlaybackSession) -> PlayerError | None:
    """Why ``session``'s stream died, or None while it is alive: its own error, else the
    scheduler's (every edge failed, the playback session ended on the server…)."""
    if session.error is not None:
        return session.error
    cause = session.scheduler.error if session.scheduler is not None else None
    if cause is None or isinstance(cause, PlayerError):
        return cause
    return PlayerError(f"Playback failed: {type(cause).__name__}: {cause}", code="internal")


async def _until_done(session: PlaybackSession, stop: asyncio.Event,
                      duration_s: float | None) -> None:
    ended = asyncio.ensure_future(session.wait_ended())
    try:
        while not ended.done() and not stop.is_set():
            if duration_s is not None and session.played_s >= duration_s:
                break
            await asyncio.wait({ended}, timeout=0.05)
        if ended.done():
            ended.result()  # raises the typed error of a failed stream
    finally:
        if not ended.done():
            ended.cancel()


def _print_report(report: QoeReport, as_json: bool, out: TextIO,
                  error: PlayerError | None) -> None:
    if as_json:
        body = report.to_json()
        body["ok"] = error is None
        out.write(json.dumps(body, ensure_ascii=False) + "\n")
    else:
        out.write(report.text() + "\n")
    out.flush()


def _finish(report: QoeReport, error: PlayerError | None, options: HeadlessOptions,
            out: TextIO, err: TextIO) -> int:
    """Print the report (and the error, one line); the exit status. The report's error is
    ``error``, the one the run ended on, whatever the engine's telemetry said before."""
    if error is not None:
        report = report.with_error(error.code, error.message)
    _print_report(report, options.json, out, error)
    if error is not None:
        print(f"edgeplay: {error.message}", file=err, flush=True)
        return 1
    return 0


def failure_report(code: str, message: str, title: str = "") -> str:
    """The JSON line of a run that ended before (or outside) playback: every report field,
    the unknown ones null, with ``ok: false``, ``error_code`` and ``error_message``."""
    body = QoeReport(title_id=title if is_url(title) else "").with_error(code, message).to_json()
    body["ok"] = False
    return json.dumps(body, ensure_ascii=False)


def fail(options: HeadlessOptions, code: str, message: str, out: TextIO, err: TextIO) -> int:
    """A run that ended before playback: one line on stderr and, with ``--json``, the failure
    report on stdout; exit status 1."""
    if options.json:
        print(failure_report(code, message, options.title), file=out, flush=True)
    print(f"edgeplay: {message}", file=err, flush=True)
    return 1


def first_line(exc: BaseException) -> str:
    """The first line of what ``exc`` says (its type's name when it says nothing)."""
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def setup_logging(verbose: bool, err: TextIO) -> None:
    """Logs to stderr: INFO with ``-v``, errors only otherwise (unless already set up)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                            stream=err, format="%(asctime)s %(name)s: %(message)s")


def device_name() -> str:
    """How this device names itself to the control plane."""
    return f"edgeplay headless ({socket.gethostname()})"


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


async def _run_url(options: HeadlessOptions, out: TextIO, err: TextIO) -> int:
    mpv = create_mpv(vo="null", ao="null")
    try:
        report, error = await play_url(options, mpv, err)
    finally:
        mpv.terminate()
    return _finish(report, error, options, out, err)


async def _run_offline(options: HeadlessOptions, out: TextIO, err: TextIO) -> int:
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
            config=SessionConfig(post_telemetry=False, start_over=options.start_over))
        print(f"Playing {download.title_name} from your downloads…", file=err, flush=True)
        report, error = await drive(session, options, mpv)
        error = session.explain(error) if error is not None else None
    finally:
        mpv.terminate()
        outbox.close()
        library.close()
    return _finish(report, error, options, out, err)


def bundled_args(options: HeadlessOptions, paths: AppPaths) -> list[str]:
    """The bundled control plane's arguments: the app's catalog and state folder (so the
    device, its downloads' licenses and its progress are the same as the app's)."""
    args = (["--catalog-dir", options.catalog_dir] if options.catalog_dir
            else ["--catalog", options.catalog])
    return [*args, "--state-dir", str(paths.controlplane_state)]


async def _run(base_url: str, options: HeadlessOptions, out: TextIO, err: TextIO,
               store_key: str | None = None) -> int:
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
    return _finish(report, error, options, out, err)


def run_headless(options: HeadlessOptions, out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr) -> int:
    """Play ``options.title`` headless; returns the exit status."""
    setup_logging(options.verbose, err)
    bundled: BundledControlPlane | None = None
    try:
        if is_url(options.title) and not options.sync_only:  # no control plane at all
            return asyncio.run(_run_url(options, out, err))
        if options.offline:
            return asyncio.run(_run_offline(options, out, err))
        base_url = options.control_plane
        store_key = None
        if base_url is None:
            paths = AppPaths.resolve(options.data_dir)
            print("Starting the bundled control plane…", file=err, flush=True)
            bundled = BundledControlPlane(bundled_args(options, paths))
            base_url = bundled.start().base_url
            store_key = f"bundled:{paths.controlplane_state}"
        return asyncio.run(_run(base_url, options, out, err, store_key))
    except HeadlessError as exc:
        return fail(options, "setup", first_line(exc), out, err)
    except ControlPlaneStartError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        said = f"{lines[0]} {lines[-1]}" if len(lines) > 1 else first_line(exc)  # + its last word
        return fail(options, "controlplane_start", said, out, err)
    except PlayerError as exc:
        return fail(options, exc.code, exc.message, out, err)
    except KeyboardInterrupt:
        return fail(options, "interrupted", "interrupted", out, err)
    except Exception as exc:  # a bug: still one line (and one JSON object), the trace in the log
        log.info("unexpected error", exc_info=exc)
        return fail(options, "internal", f"unexpected error: {type(exc).__name__}: "
                    f"{first_line(exc)} (run with -v for details)", out, err)
    finally:
        if bundled is not None:
            bundled.stop()
