"""``PlaybackSession``: one title from ``play()`` to ``stop()`` (see :mod:`player.session`)."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from typing import Any

from player.mpv_seam import MpvLike
from player.qoe_report import QoeReport
from player.session.snapshot import EdgeView, SessionSnapshot, ThumbnailSource
from player.session.start import SessionStart

log = logging.getLogger("player.session")


class PlaybackSession(SessionStart):
    """``PlaybackSession(cp, title_id, profile_id, mpv)``; ``await play()``; controls;
    ``await stop()``; ``report()``. ``mpv`` belongs to the caller (created early, reused).

    ``PlaybackSession.from_url(url, mpv)`` (or ``cp=None, url=…``): a plain HLS VOD URL (a
    multivariant or a media playlist) with no control plane: no ``POST /v1/playback``, no
    progress, no telemetry POST; playlists and keys (each EXT-X-KEY URI) are fetched with the
    session's HTTP client, without a bearer token.

    Built in layers, each using only those below it:
    :class:`~player.session.state.SessionState` (the constructor, the state and the shared
    plumbing) → :class:`~player.session.loops.SessionLoops` →
    :class:`~player.session.mpv.SessionMpv` → :class:`~player.session.start.SessionStart` →
    this class (``play()``, the controls, ``stop()``, the report)."""

    @classmethod
    def from_url(cls, url: str, mpv: MpvLike, **kwargs: Any) -> PlaybackSession:
        """A session that plays ``url`` (http(s), HLS VOD) with no control plane."""
        return cls(None, url, "", mpv, url=url, **kwargs)

    # --- start ---------------------------------------------------------------------------------

    async def play(self) -> None:
        """Start playback; returns at the first frame. Raises :class:`PlayerError` subclasses
        (``AuthError``, ``EntitlementError``, ``ManifestError``, ``LicenseError``,
        ``NoEdgeError``, ``PlayerError(code="playback")``)."""
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        self._first_frame = self._loop.create_future()
        started = self._t0 = self._clock()
        self.telemetry.start()
        try:
            await self._open()
            await self._wait_first_frame()
            await self._check_audio()
        except BaseException as exc:
            error = self._typed(exc)
            if not isinstance(exc, asyncio.CancelledError):
                self._finish("error", error)
            if self._loadfile_sent:  # mpv may still be opening the bridge: stop it first
                with contextlib.suppress(Exception):
                    await self._mpv_call(self.mpv.command, "stop")
            await self.stop()
            if error is exc or isinstance(exc, asyncio.CancelledError):
                raise
            raise error from exc
        ttff_ms = (self._clock() - started) * 1000
        self._mark("first_frame")
        log.debug("start-up stages (ms): %s", self.startup_ms)
        first = self._served.first if self._served else None
        self.telemetry.emit("first_frame", ttff_ms=round(ttff_ms, 1),
                            rendition=first[1] if first else None,
                            edge=first[2] if first else None)
        log.info("first frame after %.0f ms", ttff_ms)
        if self.scheduler is not None:
            self.scheduler.release()
        if self.pool is not None and self.cp is not None:
            # (A plain HLS server has no /health nor /v1/probe: its one origin is not probed.)
            # Probes rank the edges for later segments; before the first frame they would only
            # share the link (and the CPU) with the first segment, so they start now.
            self._spawn(self.pool.probe(), "probe")
        if self.steering is not None and self.pool is not None:
            # Steering only reorders the edges for later segments (the default pathway leads
            # until it answers): its round trip and the control plane's work wait too.
            self._start_steering(self.steering, self.pool)
        self._spawn(self._steering_loop(), "steering")
        if self.config.progress_interval_s and (self.cp is not None
                                                or self.progress is not None):
            self._spawn(self._progress_loop(self.config.progress_interval_s), "progress")

    # --- controls ------------------------------------------------------------------------------

    @property
    def max_rung(self) -> int | None:
        return self.policy.max_rung

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None:
        if self.scheduler is not None:
            self.scheduler.max_rung = rung
        else:
            self.policy.max_rung = rung

    @property
    def estimate_bps(self) -> float | None:
        return self.policy.estimate_bps

    def snapshot(self) -> SessionSnapshot:
        """Position, buffer, estimate, edges and the rungs on screen and being fetched (on the
        engine loop; see :mod:`player.session.snapshot`)."""
        scheduler, pool = self.scheduler, self.pool
        shown: int | None = None
        if self._starts:
            shown = self._rung_at(max(0, bisect.bisect_right(self._starts, self.position_s) - 1))
        return SessionSnapshot(
            position_s=self.position_s, duration_s=float(self.duration_s or 0.0),
            buffer_s=float(scheduler.buffer_s) if scheduler is not None else 0.0,
            estimate_bps=self.policy.estimate_bps,
            edges=tuple(EdgeView.of(e) for e in pool.ordered()) if pool is not None else (),
            shown_rung=shown if shown is not None and shown >= 0 else None,
            fetching_rung=scheduler.rung if scheduler is not None else None)

    def thumbnails(self) -> ThumbnailSource | None:
        raw = self.playback.raw if self.playback is not None else {}
        thumbs = raw.get("thumbnails") if isinstance(raw, dict) else None
        if not isinstance(thumbs, dict) or not isinstance(thumbs.get("vtt_url"), str):
            return None
        try:
            interval_s = float(thumbs.get("interval_s") or 0)
        except (TypeError, ValueError):
            return None
        assert self.playback is not None
        return ThumbnailSource(str(thumbs["vtt_url"]), interval_s, tuple(self.playback.pathways))

    async def pause(self) -> None:
        if self.paused:
            return
        self.paused = True
        if self.scheduler:
            self.scheduler.pause()
        await self._mpv_call(self.mpv.set, "pause", True)
        self.telemetry.emit("pause", position_s=round(self.position_s, 3))
        await self._save_progress("pause")

    async def resume(self) -> None:
        if not self.paused:
            return
        self.paused = False
        if self.scheduler:
            self.scheduler.resume()
        await self._mpv_call(self.mpv.set, "pause", False)
        self.telemetry.emit("resume", position_s=round(self.position_s, 3))

    async def seek(self, position_s: float) -> None:
        """Exact seek to ``position_s`` (clamped to the title); the scheduler follows mpv."""
        target = max(0.0, min(position_s, max(0.0, self.duration_s - 0.1)))
        self.telemetry.emit("seek", from_s=round(self.position_s, 3), to_s=round(target, 3))
        self._seeking = True
        self.position_s = target
        await self._mpv_call(self.mpv.seek, target, exact=True)
        self._spawn(self._save_progress("seek"), "progress")

    async def wait_ended(self) -> str:
        """Wait for the end: ``"eof"`` or ``"stopped"``; raises the typed error on ``error``."""
        if self._done is None:
            raise RuntimeError("play() has not run")
        reason = await asyncio.shield(self._done)
        if reason == "error" and self.error is not None:
            raise self.error
        return reason

    async def stop(self) -> None:
        """Stop playback (if still going), tear everything down and post the last telemetry.
        Safe to call more than once and after the end."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        if self._done is not None and not self._done.done() and self._file_started:
            with contextlib.suppress(Exception):
                await self._mpv_call(self.mpv.command, "stop")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.stop_timeout_s):
                    await asyncio.shield(self._done)
        if self._done is not None and not self._done.done():
            self._finish("stopped")
        if self._callbacks is not None:  # registered on the mpv thread: let it finish first
            await asyncio.wait({self._callbacks})
            if not self._callbacks.cancelled() and self._callbacks.exception() is not None:
                log.warning("mpv callbacks were not registered: %s", self._callbacks.exception())
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(Exception):
                unsubscribe()
        self._unsubscribe.clear()
        if self.position_s > 0 and self._playing:
            eof = self._done is not None and self._done.done() and self._done.result() == "eof"
            await self._save_progress("end" if eof else "stop")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self._audio is not None:
            await self._audio.close()
        if self.bridge is not None:
            await self.bridge.close()
        self._emit_end()
        await self.telemetry.close()
        if self._own_http and self._http is not None:
            await self._http.aclose()
        # The mpv thread is joined, not abandoned; off the loop, and bounded (a hung libmpv call
        # is logged and left to the process's exit).
        try:
            await asyncio.wait_for(asyncio.to_thread(self._executor.shutdown, True), 10.0)
        except TimeoutError:
            log.warning("an mpv command did not return within 10 s of stop")

    def _emit_end(self) -> None:
        if self._ended_emitted:
            return
        self._ended_emitted = True
        reason = (self._done.result() if self._done is not None and self._done.done()
                  else "stopped")
        bitrates = list(self.scheduler.fetcher.playlists.bitrates_bps) if self.scheduler else []
        self.telemetry.emit(
            "session_end", reason=reason, position_s=round(self.position_s, 3),
            played_s=round(self.played_s, 3), bitrates_bps=bitrates,
            played_by_rung={str(k): round(v, 3) for k, v in self._played_by_rung.items()
                            if k >= 0},
            rebuffers=len(self.scheduler.rebuffers) if self.scheduler else 0,
            segments_by_edge=self._segments_by_edge())

    def _segments_by_edge(self) -> dict[str, int]:
        """Edge → segments it delivered whole (the successful request's edge), in the order
        the edges first delivered: edges that only failed are not in it."""
        counts: dict[str, int] = {}
        for _, _, edge in self.scheduler.fetched if self.scheduler is not None else ():
            counts[edge] = counts.get(edge, 0) + 1
        return counts

    def report(self) -> QoeReport:
        """The QoE report from the events so far (complete after :meth:`stop`)."""
        return QoeReport.from_events(self.telemetry.events)
