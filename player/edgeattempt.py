"""One attempt at one segment on one edge (part of :class:`~player.fetcher.SegmentFetcher`).

:class:`EdgeAttempt` streams the body with the adaptive TTFB and stall timeouts, feeding the ABR
policy's ``on_progress`` and asking ``should_abandon``; decrypts and validates it as it arrives
into the :class:`~player.buffer.LiveSegment`; checks the Range answer (:mod:`player.wholefile`:
a 206 must carry the range asked, a 200 to a resume is sliced past the bytes held, a 200 to a
byte-range segment becomes one whole-file download every segment of that URL is sliced from);
and seals the segment (the plaintext length checked). Every failure is raised as
:class:`~player.fetchbase.Failed` for the failover loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from player.buffer import LiveSegment
from player.decrypt import CorruptSegment, plaintext_length
from player.edgeplaylists import EdgePlaylists
from player.errors import ManifestError
from player.failover import Cause
from player.fetchbase import (
    AbandonFor,
    AlreadyHeld,
    Failed,
    Fetched,
    Progress,
    UseWhole,
    describe,
)
from player.fmp4 import InitInfo, injected_bytes
from player.presentation import Segment
from player.wholefile import WholeFile, WholeFileError, range_mismatch

log = logging.getLogger("edge")
net_log = logging.getLogger("net")


class EdgeAttempt(EdgePlaylists):
    """One attempt on one edge: what :meth:`~player.fetcher.SegmentFetcher.fetch` tries on each
    edge in turn."""

    async def _segment_on(self, edge: str, rendition: str, index: int) -> Segment:
        try:
            return await self.playlists.segment(edge, rendition, index)
        except ManifestError as exc:
            raise Failed(Cause.PLAYLIST, exc.message, 0.0) from None


    async def _attempt(self, edge: str, segment: Segment, index: int, rung: int,
                       rendition: str, progress: Progress, live: LiveSegment,
                       failovers: int) -> Fetched:
        offset = progress.fetched
        headers = {"Accept-Encoding": "identity"}  # byte offsets must be the file's
        asked: tuple[int, int | None] | None = None
        init = (await self.init_segment(edge, rendition, segment.init))[1] if segment.init \
            else None
        extra = injected_bytes(init)
        if progress.decryptor is None:
            progress.decryptor = self._decryptor.stream_now(segment, init)
        if segment.byterange is not None:
            first, length = segment.byterange
            asked = (first + offset, first + length - 1)
            whole = self._whole.get(segment.uri)
            if whole is not None:  # this server ignores Range: slice the body fetched once
                return await self._from_whole(whole, edge, segment, index, rung, rendition,
                                              progress, live, failovers, init)
        elif offset:
            asked = (offset, None)
        if asked is not None:
            headers["Range"] = f"bytes={asked[0]}-{'' if asked[1] is None else asked[1]}"
        loop = asyncio.get_running_loop()
        start = last_byte = self._clock()
        ttfb_timeout = self.ttfb_timeout_s(edge)
        self._stage("seg_request", index)
        ttfb: float | None = None
        total: int | None = None
        received = 0
        try:
            async with asyncio.timeout(ttfb_timeout) as deadline:
                async with contextlib.AsyncExitStack() as stack:
                    response = await stack.enter_async_context(self._http.stream(
                        "GET", segment.uri, headers=headers,
                        timeout=self.config.max_timeout_s * 2))
                    last_byte = self._clock()
                    ttfb = last_byte - start
                    self._note_ttfb(edge, ttfb)
                    self._stage("seg_headers", index)
                    status = response.status_code
                    if status == 416 and offset and segment.byterange is None:
                        await response.aread()
                        self._check_held(response.headers.get("Content-Range"), offset, start)
                        raise AlreadyHeld()
                    if status >= 400:
                        self._check_status(status, await response.aread(), start)
                    skip = 0  # bytes of a 200 answer before the range asked
                    if asked is not None and status == 200:
                        self._note_ignored_range(edge, segment.uri)
                        if segment.byterange is not None:
                            raise UseWhole(await self._whole.adopt(
                                segment.uri, edge, stack.pop_all(), response))
                        skip = offset
                    elif asked is not None:
                        mismatch = (range_mismatch(response.headers.get("Content-Range"), *asked)
                                    if status == 206 else f"answered {status} to a Range request")
                        if mismatch is not None:
                            raise Failed(Cause.BAD_RANGE, mismatch, self._clock() - start)
                    length = response.headers.get("Content-Length")
                    total = (offset - skip + int(length) if length and length.isdigit()
                             else None)
                    if total is not None:
                        try:
                            plain = plaintext_length(_whole_encrypted(segment), total,
                                                     segment.container, extra)
                            if plain is not None:
                                live.set_length(plain)
                        except CorruptSegment as exc:
                            raise Failed(Cause.CORRUPT, exc.message,
                                         self._clock() - start) from None
                    deadline.reschedule(loop.time() + self.stall_timeout_s(edge))
                    last_progress = start
                    async for chunk in response.aiter_bytes():
                        if skip:
                            chunk, skip = chunk[skip:], max(0, skip - len(chunk))
                            if not chunk:
                                continue
                        had = len(live.data)
                        try:
                            progress.feed(chunk, live)
                        except CorruptSegment as exc:
                            raise Failed(Cause.CORRUPT, exc.message, 0.0,
                                         "last_byte") from None
                        if not had and live.data:
                            self._stage("seg_first_plain", index)
                        received += len(chunk)
                        last_byte = self._clock()
                        deadline.reschedule(loop.time() + self.stall_timeout_s(edge))
                        if (total is not None
                                and last_byte - last_progress >= self.config.progress_interval_s):
                            last_progress = last_byte
                            if rung < 0:
                                continue
                            self._progress(rung, progress.fetched, total, last_byte - start,
                                           received, ttfb, live)
                            self._check_pace(edge, received, last_byte - start - ttfb)
        except AlreadyHeld:
            assert ttfb is not None
            total = offset
            progress.feed(b"", live)  # bytes held before the key was at hand, if any
        except UseWhole as use:
            return await self._from_whole(use.whole, edge, segment, index, rung, rendition,
                                          progress, live, failovers, init)
        except TimeoutError:
            now = self._clock()
            if ttfb is None:
                raise Failed(Cause.TTFB_TIMEOUT, f"no answer in {ttfb_timeout:.2f} s",
                             now - start) from None
            raise Failed(Cause.STALL, f"no byte for {now - last_byte:.2f} s after "
                         f"{progress.fetched} bytes", now - last_byte, "last_byte") from None
        except httpx.TimeoutException as exc:
            raise Failed(Cause.TTFB_TIMEOUT if ttfb is None else Cause.STALL, describe(exc),
                         self._clock() - start) from None
        except httpx.TransportError as exc:
            now = self._clock()
            if ttfb is None:
                raise Failed(Cause.REFUSED, describe(exc), now - start) from None
            raise Failed(Cause.TRUNCATED, f"{describe(exc)} after {progress.fetched} bytes",
                         now - last_byte, "last_byte") from None
        end = self._clock()
        self._stage("seg_body", index)
        if total is not None and progress.fetched < total:
            raise Failed(Cause.TRUNCATED, f"{progress.fetched} of {total} bytes",
                         end - last_byte, "last_byte")
        data = await self._seal(segment, index, progress, live, last_byte, init)
        seconds = end - start
        self.pool.report_success(edge, received, seconds)
        if rung >= 0:
            self._policy.on_download_complete(rung, received, seconds, ttfb, end)
        net_log.debug("segment %d %s from %s: %d bytes in %.0f ms (ttfb %.0f ms)", index,
                      rendition, edge, received, seconds * 1000, ttfb * 1000)
        return Fetched(index, rung, rendition, data, edge, received, seconds, ttfb, failovers,
                       offset)

    def _check_held(self, content_range: str | None, offset: int, start: float) -> None:
        """A ``416`` to ``bytes=offset-``: every byte is held already when the file is
        ``offset`` bytes long (a resume of a part kept on disk, stopped after its last byte);
        bytes held past the end are not this file's: start over (``corrupt``)."""
        length = (content_range or "").rpartition("/")[2]
        if length.isdigit() and int(length) == offset:
            return
        raise Failed(Cause.CORRUPT, f"{offset} bytes held of a file of {length or '?'} bytes",
                     self._clock() - start)

    def _check_pace(self, edge: str, received: int, body_s: float) -> None:
        """Leave an edge whose body comes slower than the lowest rendition plays, when another
        edge is healthy (the bytes so far are kept: Range resume)."""
        floor = self.pool.useful_bps
        if floor is None or body_s < self.config.slow_check_after_s:
            return
        rate = received * 8 / body_s
        if rate >= floor or not self.pool.healthy_other_than(edge):
            return
        self.pool.report_throughput(edge, received, body_s)
        raise Failed(Cause.SLOW, f"{rate / 1000:.0f} kbit/s, under the lowest rendition's "
                     f"{floor / 1000:.0f} kbit/s", body_s, "request")

    async def _seal(self, segment: Segment, index: int, progress: Progress, live: LiveSegment,
                    last_byte: float, init: InitInfo | None) -> bytes:
        """The last bytes through the decryptor, the plaintext length checked: the segment."""
        try:
            if progress.decryptor is None:  # the key was not at hand yet
                progress.decryptor = await self._decryptor.stream(segment, init)
                progress.feed(b"", live)
            live.append(progress.decryptor.finish())
            if live.length is not None and live.length != live.received:
                raise CorruptSegment(f"{live.received} bytes of plaintext, not "
                                     f"{live.length}.")
        except CorruptSegment as exc:
            raise Failed(Cause.CORRUPT, exc.message, self._clock() - last_byte,
                         "last_byte") from None
        data = live.seal()
        self._stage("seg_ready", index)
        return data

    def _gap(self, segment: Segment, index: int, rung: int, rendition: str, live: LiveSegment,
             edge: str) -> Fetched:
        """An EXT-X-GAP segment: nothing to request; an empty segment for mpv (it moves on to
        the next, whose timestamps keep the timeline)."""
        live.set_length(0)
        data = live.seal()
        net_log.debug("segment %d %s: EXT-X-GAP, not requested (%.1f s)", index, rendition,
                      segment.duration_s)
        return Fetched(index, rung, rendition, data, edge, 0, 0.0, 0.0, 0, 0)

    async def _from_whole(self, whole: WholeFile, edge: str, segment: Segment, index: int,
                          rung: int, rendition: str, progress: Progress, live: LiveSegment,
                          failovers: int, init: InitInfo | None) -> Fetched:
        """A byte-range segment sliced from the whole file its server sent (once)."""
        assert segment.byterange is not None
        first, length = segment.byterange
        offset = progress.fetched
        start = self._clock()
        waited = whole.received < first + length
        try:
            body = await whole.slice(first + offset, first + length)
            plain = plaintext_length(_whole_encrypted(segment), length, segment.container,
                                     injected_bytes(init))
            if plain is not None:
                live.set_length(plain)
            progress.feed(body, live)
        except WholeFileError as exc:
            raise Failed(exc.cause, exc.detail, self._clock() - start) from None
        except CorruptSegment as exc:
            raise Failed(Cause.CORRUPT, exc.message, 0.0, "last_byte") from None
        end = self._clock()
        self._stage("seg_body", index)
        data = await self._seal(segment, index, progress, live, end, init)
        seconds = end - start
        if waited and seconds > 0:  # bytes that came from the network meanwhile
            self._policy.on_download_complete(rung, len(body), seconds, 0.0, end)
        net_log.debug("segment %d %s from %s's whole file: %d bytes", index, rendition, edge,
                      len(body))
        return Fetched(index, rung, rendition, data, edge, len(body), seconds, 0.0, failovers,
                       offset)


    def _progress(self, rung: int, so_far: int, total: int, elapsed_s: float, received: int,
                  ttfb_s: float, live: LiveSegment) -> None:
        now = self._clock()
        self._policy.on_progress(rung, so_far, total, elapsed_s, now)
        if live.handed_out:
            return  # mpv has some of these bytes: switching rendition now would cut it off
        lower = self._policy.should_abandon(rung, so_far, total, elapsed_s,
                                            self.buffer_level(), now)
        if lower is not None and lower < rung:
            self._policy.on_download_complete(rung, received, elapsed_s, ttfb_s, now)
            if live.edge:
                self.pool.report_throughput(live.edge, received, elapsed_s)
            raise AbandonFor(lower)


def _whole_encrypted(segment: Segment) -> bool:
    """AES-128 over the whole segment (its plaintext length is known only at the end); CENC
    keeps every length."""
    return segment.key is not None and not segment.key.cenc
