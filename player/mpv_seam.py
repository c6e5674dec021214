"""mpv behind a small Protocol: the real libmpv for playback, :class:`FakeMpv` for logic tests.

The engine uses only :class:`MpvLike`. :func:`create_mpv` builds the real ``mpv.MPV`` (imported
lazily: nothing happens at import) with read-ahead paced so that the engine's buffer stays the
truth: mpv holds a few seconds of demuxed packets, not the whole title. :class:`Waiter` and
:func:`wait_for_first_frame` wait for mpv events or property values with a timeout, for any
``MpvLike`` (tests, the benchmark, the engine's worker thread; never the UI thread).

mpv calls handlers on its own event thread; handlers here never raise into it.
"""

from __future__ import annotations

import contextlib
import locale
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("player.mpv")

EventHandler = Callable[["MpvEvent"], None]
PropertyHandler = Callable[[str, Any], None]
Unsubscribe = Callable[[], None]

PACED_OPTIONS: dict[str, str] = {
    # Embedded use: no user config, scripts, key bindings or youtube-dl hook (it slows startup).
    "config": "no",
    "load-scripts": "no",
    "ytdl": "no",
    "osc": "no",
    "input-default-bindings": "no",
    "input-vo-keyboard": "no",
    "idle": "yes",
    "keep-open": "no",
    # Read-ahead: the engine owns the buffer (30-60 s); mpv keeps ~2 s of packets beyond the
    # segment it is reading, in memory only. Measured with 2 s segments: mpv then asks for at most
    # 3 positions past the playhead's (mpv's defaults here: the whole title within a second).
    # cache=yes keeps the demuxer cache (and its seek-back range) on for a loopback URL.
    "cache": "yes",
    "cache-on-disk": "no",
    "cache-secs": "2",
    "demuxer-readahead-secs": "2",
    "demuxer-max-bytes": "16MiB",
    "demuxer-max-back-bytes": "8MiB",
    "cache-pause-initial": "no",
    # ffmpeg's HLS demuxer: one persistent connection, no second parallel segment download
    # (http_multiple would open segment k+1 while k plays), byte ranges for in-segment seeks.
    "demuxer-lavf-o": "http_persistent=1,http_multiple=0,http_seekable=1",
    "hr-seek": "yes",
}
"""libmpv options create_mpv() starts from (caller options override); see docs/engine.md."""

BRIDGE_FILE_OPTIONS: dict[str, str] = {
    # Per-file (loadfile) options for the bridge's playlist: open it with ffmpeg's HLS demuxer
    # only, without probing. Otherwise, when the first segment fails, mpv's own playlist demuxer
    # takes the .m3u8 for a plain playlist and tries every segment as a file of its own.
    "demuxer": "lavf",
    "demuxer-lavf-format": "hls",
}
"""Options RealMpv.play() passes to ``loadfile`` by default (create_mpv(file_options=…))."""

FIRST_FRAME_EVENT = "playback-restart"


class MpvError(Exception):
    """mpv could not play: the file failed to load or playback ended in error."""


class MpvTimeout(MpvError, TimeoutError):
    """What we waited for did not happen in time."""


@dataclass(frozen=True)
class MpvEvent:
    name: str
    """mpv's event name: 'start-file', 'file-loaded', 'playback-restart', 'seek', 'end-file', …"""
    reason: str | None = None
    """For 'end-file': 'eof', 'stop', 'quit', 'error' or 'redirect'."""
    error: str | None = None
    """For 'end-file' with reason 'error': mpv's error text."""


class MpvLike(Protocol):
    """The handful of mpv calls the engine makes."""

    def play(self, url: str) -> None:
        """Replace whatever is playing with ``url`` (mpv's ``loadfile``)."""

    def get(self, name: str) -> Any:
        """A property value (``time-pos``, ``pause``, ``video-params``…), None if unavailable."""

    def set(self, name: str, value: Any) -> None:
        """Set a property (``pause``, ``speed``…)."""

    def seek(self, position_s: float, *, exact: bool = True) -> None:
        """Seek to an absolute position; ``exact`` decodes up to the exact frame."""

    def command(self, name: str, *args: str) -> Any:
        """Any other mpv command (``stop``, ``frame-step``…)."""

    def observe(self, name: str, handler: PropertyHandler) -> Unsubscribe:
        """Call ``handler(name, value)`` on mpv's thread whenever the property changes."""

    def on_event(self, handler: EventHandler) -> Unsubscribe:
        """Call ``handler(event)`` on mpv's thread for every event (not property changes, logs)."""

    def terminate(self) -> None:
        """Shut the core down; the object is unusable afterwards."""


def _guarded(what: str, fn: Callable[..., None]) -> Callable[..., None]:
    def call(*args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("%s handler failed", what)
    return call


_LOG_LEVELS = {"fatal": logging.CRITICAL, "error": logging.ERROR, "warn": logging.WARNING,
               "info": logging.INFO, "v": logging.DEBUG, "debug": logging.DEBUG}


_BRIDGE_TOKEN = re.compile(r"(//127\.0\.0\.1:\d+/)[A-Za-z0-9_-]{16,}/")


def _log_mpv(level: str, prefix: str, text: str) -> None:
    line = _BRIDGE_TOKEN.sub(r"\1<token>/", str(text).rstrip())  # keep the bridge token out
    log.log(_LOG_LEVELS.get(level, logging.DEBUG), "[%s] %s", prefix, line)


class RealMpv:
    """:class:`MpvLike` over python-mpv's ``mpv.MPV``."""

    def __init__(self, player: Any, file_options: Mapping[str, str] | None = None) -> None:
        self.handle = player
        """The ``mpv.MPV`` itself, for what the seam does not cover (the UI's render context)."""
        self._file_options = {k.replace("-", "_"): v for k, v in (file_options or {}).items()}
        self._terminated = False

    def _alive(self) -> bool:
        return not self._terminated and not self.handle.core_shutdown

    def play(self, url: str) -> None:
        self.handle.loadfile(url, "replace", **self._file_options)

    def get(self, name: str) -> Any:
        import mpv
        return self.handle._get_property(name, mpv.lazy_decoder)

    def set(self, name: str, value: Any) -> None:
        self.handle._set_property(name, value)

    def seek(self, position_s: float, *, exact: bool = True) -> None:
        self.handle.seek(position_s, "absolute", "exact" if exact else "keyframes")

    def command(self, name: str, *args: str) -> Any:
        return self.handle.command(name, *args)

    def observe(self, name: str, handler: PropertyHandler) -> Unsubscribe:
        guarded = _guarded(f"property {name}", handler)
        self.handle.observe_property(name, guarded)

        def unsubscribe() -> None:
            if self._alive():  # after shutdown the event handle is freed: leave it alone
                with contextlib.suppress(ValueError):
                    self.handle.unobserve_property(name, guarded)
        return unsubscribe

    def on_event(self, handler: EventHandler) -> Unsubscribe:
        import mpv

        skip = {mpv.MpvEventID.PROPERTY_CHANGE, mpv.MpvEventID.LOG_MESSAGE,
                mpv.MpvEventID.NONE, mpv.MpvEventID.COMMAND_REPLY,
                mpv.MpvEventID.GET_PROPERTY_REPLY, mpv.MpvEventID.SET_PROPERTY_REPLY}
        guarded = _guarded("event", handler)

        def convert(event: Any) -> None:
            if event.event_id.value in skip:
                return
            info = event.as_dict(decoder=mpv.lazy_decoder)
            reason = info.get("reason")
            error = info.get("file_error") or info.get("error")
            guarded(MpvEvent(str(info.get("event", "")),
                             str(reason) if reason is not None else None,
                             str(error) if error is not None and reason == "error" else None))

        self.handle.register_event_callback(convert)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self.handle.unregister_event_callback(convert)
        return unsubscribe

    def terminate(self) -> None:
        if not self._terminated:
            self._terminated = True
            self.handle.terminate()


def create_mpv(*, vo: str = "null", ao: str = "null", loglevel: str = "warn",
               file_options: Mapping[str, str] | None = BRIDGE_FILE_OPTIONS,
               **options: Any) -> RealMpv:
    """A real libmpv player with :data:`PACED_OPTIONS`; ``options`` (``demuxer_max_bytes=…`` or
    ``**{"demuxer-max-bytes": …}``) override them. ``play()`` loads files with ``file_options``
    (default: the bridge's HLS playlist; None for anything else). mpv's log goes to the
    ``player.mpv`` logger at ``loglevel`` (mpv's names: 'error', 'warn', 'info', 'v')."""
    import mpv  # deferred: importing this module must not load libmpv

    locale.setlocale(locale.LC_NUMERIC, "C")  # libmpv refuses to start otherwise
    merged = dict(PACED_OPTIONS)
    for key, value in options.items():
        merged[key.replace("_", "-")] = value
    merged.update(vo=vo, ao=ao)
    kwargs = {key.replace("-", "_"): value for key, value in merged.items()}
    player = mpv.MPV(log_handler=_log_mpv, loglevel=loglevel, **kwargs)
    return RealMpv(player, file_options)


class Waiter:
    """Subscribe first, act, then wait: no event can slip between the action and the wait.

        with Waiter.for_event(player, "end-file") as done:
            player.play(url)
        event = done.wait(10.0)

    ``wait`` raises :class:`MpvTimeout` after ``timeout_s`` and :class:`MpvError` if mpv shuts
    down, or (``fail_on_end=True``) if the file ends before the condition holds.
    """

    def __init__(self, player: MpvLike, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._player = player
        self._clock = clock
        self._done = threading.Event()
        self._value: Any = None
        self._error: MpvError | None = None
        self._unsubscribe: list[Unsubscribe] = []
        self._seen_start = False
        self.started_at = clock()
        self.finished_at: float | None = None

    @classmethod
    def for_event(cls, player: MpvLike, *names: str,
                  cond: Callable[[MpvEvent], bool] = lambda e: True,
                  fail_on_end: bool = False) -> Waiter:
        waiter = cls(player)
        wanted = set(names)

        def handler(event: MpvEvent) -> None:
            if event.name in wanted and cond(event):
                waiter._resolve(event)
            else:
                waiter._check_end(event, fail_on_end)
        waiter._unsubscribe.append(player.on_event(handler))
        return waiter

    @classmethod
    def for_property(cls, player: MpvLike, name: str,
                     cond: Callable[[Any], bool] = bool, *, fail_on_end: bool = False) -> Waiter:
        waiter = cls(player)

        def changed(_name: str, value: Any) -> None:
            if cond(value):
                waiter._resolve(value)

        waiter._unsubscribe.append(player.on_event(lambda e: waiter._check_end(e, fail_on_end)))
        waiter._unsubscribe.append(player.observe(name, changed))
        return waiter

    def _check_end(self, event: MpvEvent, fail_on_end: bool) -> None:
        if event.name == "start-file":
            self._seen_start = True
        elif event.name == "shutdown":
            self._fail(MpvError("mpv shut down"))
        elif fail_on_end and event.name == "end-file":
            if not self._seen_start and event.reason in ("stop", "redirect"):
                return  # the end of what played before, replaced by our own file
            self._fail(MpvError(f"playback ended ({event.reason}: {event.error})"))

    def _resolve(self, value: Any) -> None:
        if not self._done.is_set():
            self._value = value
            self.finished_at = self._clock()
            self._done.set()

    def _fail(self, error: MpvError) -> None:
        if not self._done.is_set():
            self._error = error
            self.finished_at = self._clock()
            self._done.set()

    def wait(self, timeout_s: float) -> Any:
        try:
            if not self._done.wait(timeout_s):
                raise MpvTimeout(f"nothing after {timeout_s:.1f} s")
            if self._error is not None:
                raise self._error
            return self._value
        finally:
            self.close()

    @property
    def elapsed_s(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def __enter__(self) -> Waiter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def wait_for_first_frame(player: MpvLike, url: str, timeout_s: float = 10.0, *,
                         clock: Callable[[], float] = time.monotonic) -> float:
    """Play ``url`` and wait until mpv shows the first frame; returns seconds from ``play``.

    The first frame is mpv's ``playback-restart`` after loading (decoders primed, first video
    frame ready). Raises :class:`MpvError` if the file ends first, :class:`MpvTimeout` on timeout.
    """
    waiter = Waiter.for_event(player, FIRST_FRAME_EVENT, fail_on_end=True)
    started = clock()
    player.play(url)
    waiter.wait(timeout_s)
    return clock() - started


class FakeMpv:
    """An in-memory :class:`MpvLike` for logic tests: records calls, lets the test emit events.

    ``properties`` holds what ``get`` returns; ``set`` and ``emit_property`` update it and notify
    observers; ``emit(MpvEvent(...))`` delivers an event to every ``on_event`` handler. Handlers
    run on the caller's thread.
    """

    def __init__(self, properties: dict[str, Any] | None = None) -> None:
        self.properties: dict[str, Any] = dict(properties or {})
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._observers: dict[str, list[PropertyHandler]] = {}
        self._event_handlers: list[EventHandler] = []
        self.terminated = False

    def _record(self, name: str, *args: Any) -> None:
        if self.terminated:
            raise MpvError("mpv shut down")
        self.calls.append((name, args))

    def play(self, url: str) -> None:
        self._record("play", url)
        self.properties["path"] = url

    def get(self, name: str) -> Any:
        self._record("get", name)
        return self.properties.get(name)

    def set(self, name: str, value: Any) -> None:
        self._record("set", name, value)
        self.emit_property(name, value)

    def seek(self, position_s: float, *, exact: bool = True) -> None:
        self._record("seek", position_s, exact)

    def command(self, name: str, *args: str) -> Any:
        self._record("command", name, *args)
        return None

    def observe(self, name: str, handler: PropertyHandler) -> Unsubscribe:
        self._observers.setdefault(name, []).append(handler)
        handler(name, self.properties.get(name))  # mpv reports the current value at once

        def unsubscribe() -> None:
            if handler in self._observers.get(name, []):
                self._observers[name].remove(handler)
        return unsubscribe

    def on_event(self, handler: EventHandler) -> Unsubscribe:
        self._event_handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._event_handlers:
                self._event_handlers.remove(handler)
        return unsubscribe

    def emit(self, event: MpvEvent) -> None:
        for handler in list(self._event_handlers):
            handler(event)

    def emit_property(self, name: str, value: Any) -> None:
        self.properties[name] = value
        for handler in list(self._observers.get(name, [])):
            handler(name, value)

    def emit_events(self, events: Iterable[MpvEvent]) -> None:
        for event in events:
            self.emit(event)

    def terminate(self) -> None:
        self.terminated = True
        self.emit(MpvEvent("shutdown"))
