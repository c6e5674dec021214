"""A session's background work: steering reloads, the fetcher's hooks, progress."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import httpx

from player.edgepool import EdgePool
from player.errors import NotFoundError, PlayerError
from player.presentation import Multivariant
from player.session.state import SessionState
from player.steering import SteeringClient

log = logging.getLogger("player.session")


class SessionLoops(SessionState):
    """Steering (the first reload after the first frame, then on its TTL or a degraded pool),
    the fetcher's hooks (refresh the URLs, reload steering or the playback manifest) and the
    position written to the control plane or the outbox."""

    def _start_steering(self, steering: SteeringClient, pool: EdgePool) -> None:
        self._last_steering_s = self._clock()
        self._steering_start = self._spawn(self._initial_steering(steering, pool),
                                           "steering-start")

    async def _initial_steering(self, steering: SteeringClient, pool: EdgePool) -> None:
        """The first steering reload, right after the first frame (the timeline and the first
        segment come from the default pathway until it answers, or if it fails)."""
        try:
            manifest = await steering.reload(None, self.policy.estimate_bps)
        except (PlayerError, httpx.HTTPError) as exc:
            log.info("steering at start failed (%s): the default pathway leads", exc)
            return
        pool.apply_steering(manifest.pathway_priority)
        self.telemetry.emit("steering", priority=list(manifest.pathway_priority),
                            reason="start")
        self._mark("steering")

    async def _refresh_urls(self) -> Multivariant:
        assert self.playback is not None
        try:
            mv = await self._fetch_multivariant(self.playback.manifest_url)
        except NotFoundError as exc:
            if exc.server_code != "unknown_session":
                raise
            log.warning("the control plane no longer knows this session: %s", exc)
            raise PlayerError("The playback session ended on the server (it expired or was "
                              "closed); start playback again.", code="session_ended",
                              server_code=exc.server_code, status=exc.status,
                              request=exc.request) from exc
        self.multivariant = mv
        return mv

    async def _steering_hook(self) -> Sequence[str] | None:
        return await self._reload_steering("failover")

    async def _reload_steering(self, reason: str) -> tuple[str, ...] | None:
        if self.steering is None or self.pool is None:
            return None
        self._last_steering_s = self._clock()
        edge = None
        with contextlib.suppress(PlayerError):
            edge = self.pool.best().name if reason != "start" else None
        manifest = await self.steering.reload(edge, self.policy.estimate_bps)
        self.pool.apply_steering(manifest.pathway_priority)
        self.telemetry.emit("steering", priority=list(manifest.pathway_priority), reason=reason)
        return manifest.pathway_priority

    async def _reload_manifest(self) -> Multivariant:
        if self.cp is None:  # no control plane: the same URL again
            return await self._refresh_urls()
        # the format that was served (after a fallback to HLS: HLS, with no second refusal)
        fmt = self.playback.format if self.playback is not None else self.config.stream_format
        playback = await self.cp.start_playback(self.title_id, self.profile_id, fmt)
        self.playback = playback
        mv = await self._fetch_multivariant(playback.manifest_url)
        self.multivariant = mv
        if mv.steering_uri:
            self.steering = SteeringClient(mv.steering_uri, self._fetch_json,
                                           clock=self._clock)
        log.info("playback manifest reloaded: session %s", playback.session_id)
        return mv

    async def _steering_loop(self) -> None:
        if self._steering_start is not None:  # the start-up reload may still be under way
            await asyncio.wait({self._steering_start})
        while self.steering is not None and not self._stopping:
            steering, pool = self.steering, self.pool
            wait = steering.seconds_until_reload()
            if wait is None or pool is None:
                return
            await asyncio.sleep(min(max(wait, 0.05), self.config.steering_check_s))
            reason = None
            if steering.reload_due():
                reason = "ttl"
            elif pool.degraded and (self._clock() - self._last_steering_s
                                    >= self.config.degraded_reload_min_s):
                reason = "degraded"
            if reason is not None:
                try:
                    await self._reload_steering(reason)
                except (PlayerError, httpx.HTTPError) as exc:
                    log.info("steering reload (%s) failed: %s", reason, exc)

    async def _progress_loop(self, interval_s: float) -> None:
        while not self._stopping:
            await asyncio.sleep(interval_s)
            if not self.paused:
                await self._save_progress()

    async def _save_progress(self, event: str = "periodic") -> None:
        playback = self.playback
        if playback is None or self.position_s <= 0:
            return
        if self.progress is not None:  # the outbox (player/sync) sends it, now or later
            self.progress.report(self.position_s, self.duration_s or None, event)
            return
        if self.cp is None:  # a plain URL: no control plane to tell
            return
        try:
            async with asyncio.timeout(2.0):
                await self.cp.put_progress(
                    self.profile_id, self.title_id, position_s=round(self.position_s, 3),
                    duration_s=playback.duration_s or None,
                    event_time_ms=int(time.time() * 1000))
        except (PlayerError, httpx.HTTPError, TimeoutError) as exc:
            log.info("progress not saved: %s", exc)
