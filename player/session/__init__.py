"""``PlaybackSession``: one title from ``play()`` to ``stop()``, the whole play path tied together.

``await play()`` (ordered for the time to first frame; docs/engine.md, *Session*): the
:class:`~player.bridge.LoopbackBridge` listens while ``POST /v1/playback`` is under way → when
the answer announces the title's timeline (``segment_durations_s``), the bridge's playlist is
built from it and mpv opens the bridge URL at once, while the multivariant playlist (inline in
the answer, or fetched), the :class:`~player.scheduler.Scheduler` (ABR:
:class:`abr.hysteresis.HysteresisPolicy`, the lowest rung first when nothing is measured; start
position from the control plane's resume position unless ``start_over``) reading the start
rung's media playlist (checked against the announced timeline) and the streaming key follow; the
bridge holds mpv's segment request until the scheduler streams the first segment. Without an
announced timeline mpv waits for the manifest and the key. Steering and edge probes run after
the first frame. ``play()`` returns at the first frame (``first_frame`` event with
``ttff_ms``; ``startup_ms`` has the time of every stage) or raises the typed error
(:mod:`player.errors`; a failure after mpv was opened stops it first).

Then: :meth:`pause`, :meth:`resume`, :meth:`seek` (exact; the scheduler follows mpv's requests),
:meth:`set_audio` (mpv ``aid``: a muxed track, or a separate audio rendition's external track,
whose segments are then fetched), :meth:`set_subtitles`
(the WebVTT fetched from the edges and handed to mpv as ``memory://``: never on disk),
:attr:`max_rung`, :meth:`wait_ended` (``eof``, ``stopped``; raises on ``error``), :meth:`stop`
(tears everything down and sends the last telemetry) and :meth:`report` (the QoE report).

**Threads.** Everything runs on one asyncio loop (the caller's). mpv calls back on its own
thread; those callbacks only ``loop.call_soon_threadsafe`` into the loop. Commands to mpv run on
one worker thread of the session's own (a synchronous libmpv command must never block the loop,
which serves mpv's segment requests through the bridge). A Qt UI drives a session from its engine
thread with ``asyncio.run_coroutine_threadsafe``.

**Errors mid-stream.** When the scheduler's stream dies (every edge down after the steering and
manifest reloads, the key refused), mpv plays out what it already holds and ends (stopped after
``error_play_out_s`` if not), and :meth:`wait_ended` raises the scheduler's typed error
(``NoEdgeError``…), also sent as an ``error`` event.
**Modules.** :mod:`~player.session.config` (``SessionConfig``, ``tls_context``),
:mod:`~player.session.served` (the scheduler as the bridge sees it),
:mod:`~player.session.state` (the session's state and the plumbing every part shares: the mpv
thread, owned tasks, start-up marks, HTTP fetches), :mod:`~player.session.loops` (steering
reloads, progress), :mod:`~player.session.mpv` (mpv's callbacks, audio and subtitle tracks),
:mod:`~player.session.start` (``play()`` and the start-up path) and
:mod:`~player.session.playback` (``PlaybackSession``: controls, ``stop()``, the report).
"""

from player.session.config import SessionConfig, tls_context
from player.session.playback import PlaybackSession
from player.session.snapshot import EdgeView, Session, SessionSnapshot, ThumbnailSource

__all__ = ["EdgeView", "PlaybackSession", "Session", "SessionConfig", "SessionSnapshot",
           "ThumbnailSource", "tls_context"]
