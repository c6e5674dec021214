"""Play one session until its end, ``--duration`` seconds of playback, or Ctrl+C/SIGTERM.

:func:`drive` returns the session's report and the error the run ended on; ``ok`` is false when
the stream died, even if ``--duration`` ended the run first (:func:`died`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from player.errors import PlayerError
from player.mpv_seam import MpvLike
from player.qoe_report import QoeReport
from player.session import PlaybackSession
from ui.headless_options import HeadlessOptions


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
