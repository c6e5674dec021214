"""The Qt side of a :class:`player.session.PlaybackSession`: controls in, state out.

The session lives on the engine loop; every control is submitted there, and what the player page
shows comes back as signals: a ``state`` snapshot taken on the loop every 250 ms (position,
duration, buffer, estimate, rendition, edges, dropped frames), each telemetry event as it
happens, and the end (``ended``) or the typed error that stopped playback (``failed``).

Signals:
    started(): the first frame is up.
    state(dict): a snapshot (see :meth:`_snapshot`).
    telemetry(dict): one engine telemetry event (``rendition_switch``, ``failover``, …).
    ended(str): "eof" or "stopped".
    stopped(): :meth:`PlayerController.stop` ended a session (no ``ended`` follows).
    failed(object): the :class:`player.errors.PlayerError` that stopped playback.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from player.api import ControlPlaneClient
from player.estimate_store import EstimateStore
from player.mpv_seam import MpvLike
from player.prefetch import Prefetcher
from player.session import PlaybackSession, Session, SessionConfig, SessionSnapshot
from ui.aio import Runner

log = logging.getLogger("ui.player")
MAX_VOLUME = 100
"""The volume never goes past 100 %: past it mpv amplifies and clips."""
SessionFactory = Callable[[ControlPlaneClient, str, str, MpvLike, SessionConfig], Session]


def real_session(cp: ControlPlaneClient, title_id: str, profile_id: str, mpv: MpvLike,
                 config: SessionConfig) -> PlaybackSession:
    return PlaybackSession(cp, title_id, profile_id, mpv, config=config)


class PlayerController(QObject):
    started = Signal()
    state = Signal(dict)
    telemetry = Signal(dict)
    ended = Signal(str)
    stopped = Signal()
    failed = Signal(object)

    def __init__(self, runner: Runner, mpv: MpvLike, *,
                 make_session: SessionFactory = real_session,
                 estimates: EstimateStore | None = None,
                 poll_ms: int = 250, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.mpv = mpv
        self.make_session = make_session
        self.session: Session | None = None
        self.playing = False
        self.paused = False
        self.estimates = estimates
        """Where the estimate outlives the app (read here, once; written on the engine loop)."""
        self.last_estimate_bps: float | None = estimates.load() if estimates else None
        """The ABR's throughput estimate when the last session ended (in this run, else the
        saved one): the next one (a resume, the next title) starts from it instead of the
        lowest rung."""
        self.volume = 100
        self.muted = False
        self.position_s = 0.0
        self.duration_s = 0.0
        self.title: dict[str, Any] = {}
        self.rendition: str | None = None
        self.bitrate_bps: int | None = None
        self.renditions: list[str] = []
        self.ladder: list[str] = []
        """The title's renditions by rung (``session_start``), for the displayed one's name."""
        self.bitrates_bps: list[int] = []
        self.stream_format = "hls"
        """What sessions ask the control plane for (the "Stream format" setting): ``hls`` or
        ``dash``."""
        self.played_format: str | None = None
        """``HLS`` or ``DASH`` (``HLS (no DASH)`` after a fallback), from ``session_start``."""
        self.max_rung: int | None = None
        self.audio: str | None = None
        self.subtitles: str | None = None
        self.progress_factory: Callable[[str, str], Any] | None = None
        """``(title_id, profile_id) → reporter``: where sessions write their positions (the
        backend's durable outbox); None: the session's own best-effort write."""
        self.before_play: Callable[[], Awaitable[None]] | None = None
        """Awaited on the loop before a session starts (the backend sends pending progress
        first, so the server's resume position is the newest)."""
        self.prefetcher = Prefetcher()
        """The details page's prefetch (one at a time; used only on the engine loop)."""
        self._play_future: concurrent.futures.Future[Any] | None = None
        self._poll = QTimer(self, interval=poll_ms)
        self._poll.timeout.connect(self._request_state)
        self._polling = False
        self.telemetry.connect(self._on_event)

    # --- lifecycle -----------------------------------------------------------------------------

    def play(self, cp: ControlPlaneClient, title: dict[str, Any], profile_id: str, *,
             start_over: bool, max_rung: int | None,
             make_session: SessionFactory | None = None) -> None:
        """Play ``title``; ``make_session`` overrides :attr:`make_session` for this one
        (a downloaded title's offline session)."""
        self.stop()
        self.title = title
        self.max_rung = max_rung
        self.paused = False
        self.position_s = 0.0
        self.duration_s = float(title.get("duration_s") or 0)
        self.rendition = self.bitrate_bps = None
        langs = [str(a.get("language")) for a in title.get("audio") or []]
        self.audio = langs[0] if langs else None
        self.subtitles = None
        self.played_format = None
        config = SessionConfig(start_over=start_over, max_rung=max_rung,
                               initial_estimate_bps=self.last_estimate_bps,
                               stream_format=self.stream_format)
        session = (make_session or self.make_session)(cp, str(title["id"]), profile_id,
                                                      self.mpv, config)
        if self.progress_factory is not None:
            session.progress = self.progress_factory(str(title["id"]), profile_id)
        self.session = session
        emit, post = self.telemetry.emit, self.runner.post
        # Telemetry is published on the engine loop; the signal is emitted on the GUI thread.
        session.telemetry.subscribe(lambda event: post(functools.partial(emit, dict(event))))
        online = make_session is None and isinstance(session, PlaybackSession)
        self._play_future = self.runner.run(self._run(session, online), None, self._failed,
                                            key="playback")
        self._poll.start()

    async def _run(self, session: Session, online: bool = False) -> None:
        if online and isinstance(session, PlaybackSession):
            # The details page's prefetch, when it is this title's and fresh (a prefetch
            # still under way gets a moment: its requests are the ones Play would send).
            session.prefetched = await self.prefetcher.take(
                session.title_id, session.profile_id, wait_s=1.0)
        else:
            await self.prefetcher.cancel()
        if self.before_play is not None:
            await self.before_play()
        await session.play()
        self.runner.post(self._started)
        try:
            reason = await session.wait_ended()
        except asyncio.CancelledError:
            raise
        self.runner.post(lambda: self._ended(str(reason)))

    def _started(self) -> None:
        self.playing = True
        self.started.emit()
        self._apply_volume()

    def _ended(self, reason: str) -> None:
        self.playing = False
        self._poll.stop()
        self.ended.emit(reason)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, asyncio.CancelledError | concurrent.futures.CancelledError):
            return
        log.warning("playback failed: %s", exc)
        self.playing = False
        self._poll.stop()
        self.failed.emit(exc)

    def _remember_estimate(self, session: Session | None) -> None:
        estimate = session.estimate_bps if session is not None else None
        if estimate is not None and estimate > 0:
            self.last_estimate_bps = float(estimate)
            store = self.estimates
            if store is not None:  # a small file, but the GUI thread never waits on the disk
                self.runner.aio.call_soon(
                    lambda: asyncio.get_running_loop().run_in_executor(
                        None, store.save, float(estimate)))

    def stop(self) -> concurrent.futures.Future[Any] | None:
        """Stop the session (on the loop); returns the future of the stop."""
        session, self.session = self.session, None
        self._remember_estimate(session)
        self._poll.stop()
        self.runner.invalidate("playback")
        self.runner.invalidate("player-state")
        self.playing = False
        if session is None:
            return None
        self.stopped.emit()
        if self._play_future is not None and not self._play_future.done():
            self._play_future.cancel()

        async def stop() -> None:
            with contextlib.suppress(Exception):
                await session.stop()
        return self.runner.aio.submit(stop())

    # --- prefetch (the details page) -----------------------------------------------------------

    def prefetch(self, cp: ControlPlaneClient, title_id: str, profile_id: str) -> None:
        """Prefetch what Play needs for this title, on the engine loop (any other is dropped)."""
        config = SessionConfig(initial_estimate_bps=self.last_estimate_bps,
                               stream_format=self.stream_format)
        self.runner.aio.submit(self.prefetcher.start(cp, title_id, profile_id, config=config))

    def cancel_prefetch(self) -> concurrent.futures.Future[None]:
        """Drop the prefetch (the details page was left); the future of the drop."""
        return self.runner.aio.submit(self.prefetcher.cancel())

    # --- controls ------------------------------------------------------------------------------

    def _submit(self, coro: Any) -> None:
        self.runner.run(coro, None, lambda exc: log.warning("control failed: %s", exc))

    def toggle_pause(self) -> None:
        if self.session is None:
            return
        self.paused = not self.paused
        self._submit(self.session.pause() if self.paused else self.session.resume())

    def seek_to(self, position_s: float) -> None:
        if self.session is None:
            return
        upper = max(0.0, self.duration_s - 0.5) if self.duration_s else position_s
        self.position_s = max(0.0, min(position_s, upper))
        self._submit(self.session.seek(self.position_s))

    def seek_by(self, delta_s: float) -> None:
        self.seek_to(self.position_s + delta_s)

    def set_quality(self, rung: int | None) -> None:
        self.max_rung = rung
        if self.session is not None:
            session = self.session

            async def apply() -> None:
                session.max_rung = rung
            self._submit(apply())

    def set_audio(self, language: str) -> None:
        self.audio = language
        if self.session is not None:
            self._submit(self.session.set_audio(language))

    def set_subtitles(self, language: str | None) -> None:
        self.subtitles = language
        if self.session is not None:
            self._submit(self.session.set_subtitles(language))

    def set_volume(self, volume: int) -> None:
        self.volume = max(0, min(MAX_VOLUME, volume))
        self.muted = False
        self._apply_volume()

    def toggle_mute(self) -> None:
        self.muted = not self.muted
        self._apply_volume()

    def set_mpv(self, name: str, value: Any) -> None:
        mpv = self.mpv

        async def apply() -> None:
            await asyncio.get_running_loop().run_in_executor(None, mpv.set, name, value)
        self._submit(apply())

    def _apply_volume(self) -> None:
        self.set_mpv("volume", self.volume)
        self.set_mpv("mute", self.muted)

    # --- state ---------------------------------------------------------------------------------

    def _request_state(self) -> None:
        if self.session is None or self._polling:
            return
        self._polling = True
        self.runner.run(self._snapshot(self.session), self._got_state,
                        lambda exc: self._got_state(None), key="player-state")

    def _got_state(self, snap: dict[str, Any] | None) -> None:
        self._polling = False
        if snap is None:
            return
        self.position_s = float(snap["position_s"])
        self.duration_s = float(snap["duration_s"]) or self.duration_s
        snap.update(rendition=self.rendition, bitrate_bps=self.bitrate_bps,
                    volume=self.volume, muted=self.muted, paused=self.paused)
        self.state.emit(snap)

    async def _snapshot(self, session: Session) -> dict[str, Any]:  # on the engine loop
        snap: SessionSnapshot = session.snapshot()
        dropped = None
        with contextlib.suppress(Exception):
            dropped = await asyncio.get_running_loop().run_in_executor(
                None, self.mpv.get, "frame-drop-count")
        edges = [vars(e).copy() for e in snap.edges]
        ladder, shown, fetching = self.ladder, snap.shown_rung, snap.fetching_rung
        return {
            "position_s": snap.position_s,
            "duration_s": snap.duration_s,
            "buffer_s": snap.buffer_s,
            "buffered_end_s": snap.position_s + snap.buffer_s,
            "estimate_bps": snap.estimate_bps,
            "edge": edges[0]["name"] if edges else None,
            "edges": edges,
            "dropped_frames": dropped,
            "shown_rung": shown,
            "shown_rendition": ladder_name(ladder, shown),
            "shown_bitrate_bps": ladder_bitrate(self.bitrates_bps, shown),
            "fetching_rung": fetching,
            "fetching_rendition": ladder_name(ladder, fetching),
            "fetching_bitrate_bps": ladder_bitrate(self.bitrates_bps, fetching),
            "format": self.played_format,
        }

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "rendition_switch":
            self.rendition = event.get("rendition") or self.rendition
            self.bitrate_bps = event.get("bitrate_bps") or self.bitrate_bps
        elif kind == "session_start":
            self.renditions = [str(r) for r in event.get("renditions") or []]
            self.ladder = list(self.renditions)
            self.bitrates_bps = [int(b or 0) for b in event.get("bitrates_bps") or []]
            if isinstance(event.get("format"), str):
                self.played_format = str(event["format"]).upper() + (
                    " (no DASH)" if event.get("format_fallback") else "")


def ladder_name(ladder: list[str], rung: int | None) -> str | None:
    return ladder[rung] if rung is not None and 0 <= rung < len(ladder) else None


def ladder_bitrate(bitrates: list[int], rung: int | None) -> int | None:
    return bitrates[rung] if rung is not None and 0 <= rung < len(bitrates) else None
