"""The mpv seam without libmpv: FakeMpv, the waiting helpers, and how create_mpv builds mpv."""

from __future__ import annotations

import locale
import logging
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest

from player.mpv_seam import (
    BRIDGE_FILE_OPTIONS,
    PACED_OPTIONS,
    FakeMpv,
    MpvError,
    MpvEvent,
    MpvLike,
    MpvTimeout,
    Waiter,
    create_mpv,
    wait_for_first_frame,
)

REPO = Path(__file__).resolve().parents[3]


class AutoPlayMpv(FakeMpv):
    """Answers play() like mpv would, from another thread."""

    def __init__(self, events: list[MpvEvent]) -> None:
        super().__init__()
        self.script = events

    def play(self, url: str) -> None:
        super().play(url)
        threading.Timer(0.01, self.emit_events, [self.script]).start()


def test_fake_records_calls_and_notifies_observers() -> None:
    fake: MpvLike = FakeMpv({"pause": False})
    seen: list[tuple[str, Any]] = []
    unsubscribe = fake.observe("pause", lambda name, value: seen.append((name, value)))
    fake.set("pause", True)
    unsubscribe()
    fake.set("pause", False)
    fake.play("http://x/media.m3u8")
    fake.seek(7.0)
    assert seen == [("pause", False), ("pause", True)]
    assert fake.get("pause") is False
    assert isinstance(fake, FakeMpv)
    assert ("seek", (7.0, True)) in fake.calls
    assert ("play", ("http://x/media.m3u8",)) in fake.calls
    fake.terminate()
    with pytest.raises(MpvError):
        fake.play("again")


def test_waiter_for_event_subscribes_before_the_action() -> None:
    fake = FakeMpv()
    waiter = Waiter.for_event(fake, "end-file")
    fake.emit(MpvEvent("end-file", "eof"))  # arrives before anyone waits
    assert waiter.wait(1.0) == MpvEvent("end-file", "eof")
    assert waiter.elapsed_s is not None and waiter.elapsed_s >= 0


def test_waiter_times_out_and_unsubscribes() -> None:
    fake = FakeMpv()
    with pytest.raises(MpvTimeout):
        Waiter.for_event(fake, "end-file").wait(0.05)
    assert fake._event_handlers == []


def test_waiter_fails_on_shutdown() -> None:
    fake = FakeMpv()
    waiter = Waiter.for_event(fake, "playback-restart")
    fake.terminate()
    with pytest.raises(MpvError, match="shut down"):
        waiter.wait(1.0)


def test_waiter_fail_on_end_ignores_the_previous_file() -> None:
    fake = FakeMpv()
    waiter = Waiter.for_event(fake, "playback-restart", fail_on_end=True)
    fake.emit_events([MpvEvent("end-file", "stop"), MpvEvent("start-file"),
                      MpvEvent("end-file", "error", "loading failed")])
    with pytest.raises(MpvError, match="error: loading failed"):
        waiter.wait(1.0)


def test_waiter_for_property_sees_current_and_later_values() -> None:
    fake = FakeMpv({"time-pos": 1.0})
    assert Waiter.for_property(fake, "time-pos", lambda v: v >= 1.0).wait(1.0) == 1.0
    waiter = Waiter.for_property(fake, "time-pos", lambda v: v is not None and v > 5.0,
                                 fail_on_end=True)
    fake.emit_property("time-pos", 3.0)
    fake.emit_property("time-pos", 6.0)
    assert waiter.wait(1.0) == 6.0
    waiter = Waiter.for_property(fake, "video-params", fail_on_end=True)
    fake.emit_events([MpvEvent("start-file"), MpvEvent("end-file", "eof")])
    with pytest.raises(MpvError, match="eof"):
        waiter.wait(1.0)


def test_wait_for_first_frame() -> None:
    good = AutoPlayMpv([MpvEvent("start-file"), MpvEvent("file-loaded"),
                        MpvEvent("playback-restart")])
    assert 0 <= wait_for_first_frame(good, "http://x/m.m3u8", 2.0) < 2.0
    bad = AutoPlayMpv([MpvEvent("start-file"), MpvEvent("end-file", "error", "loading failed")])
    with pytest.raises(MpvError, match="loading failed"):
        wait_for_first_frame(bad, "http://x/m.m3u8", 2.0)
    with pytest.raises(MpvTimeout):
        wait_for_first_frame(AutoPlayMpv([]), "http://x/m.m3u8", 0.05)


def test_create_mpv_paces_read_ahead_and_sets_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {}
    calls: list[tuple[Any, ...]] = []

    class StubMPV:
        def __init__(self, **kwargs: Any) -> None:
            made.update(kwargs)
            made["locale"] = locale.setlocale(locale.LC_NUMERIC)

        def loadfile(self, *args: Any, **kwargs: Any) -> None:
            calls.append((args, kwargs))

    monkeypatch.setitem(sys.modules, "mpv", types.SimpleNamespace(MPV=StubMPV))
    dashed: dict[str, Any] = {"cache-secs": "9"}
    player = create_mpv(vo="libmpv", demuxer_max_bytes="1MiB", **dashed)
    player.play("http://127.0.0.1:1/t/media.m3u8")
    assert made["locale"] == "C"
    assert made["vo"] == "libmpv" and made["ao"] == "null"
    assert made["demuxer_max_bytes"] == "1MiB" and made["cache_secs"] == "9"
    assert made["demuxer_readahead_secs"] == PACED_OPTIONS["demuxer-readahead-secs"]
    assert made["cache_on_disk"] == "no" and made["ytdl"] == "no"
    assert "http_multiple=0" in made["demuxer_lavf_o"]
    assert callable(made["log_handler"])
    expected = {k.replace("-", "_"): v for k, v in BRIDGE_FILE_OPTIONS.items()}
    assert calls == [(("http://127.0.0.1:1/t/media.m3u8", "replace"), expected)]


def test_importing_the_seam_loads_no_libmpv() -> None:
    code = "import sys, player.mpv_seam, player.bridge; sys.exit('mpv' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_mpv_log_lines_go_to_player_mpv_without_the_bridge_token(
        caplog: pytest.LogCaptureFixture) -> None:
    from player.mpv_seam import _log_mpv

    with caplog.at_level(logging.DEBUG, logger="player.mpv"):
        _log_mpv("v", "ffmpeg", "Opening http://127.0.0.1:4567/abcdefghijklmnopqrstuvwxyz012345/seg/3.ts\n")
        _log_mpv("error", "cplayer", "boom")
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert lines == [(logging.DEBUG, "[ffmpeg] Opening http://127.0.0.1:4567/<token>/seg/3.ts"),
                     (logging.ERROR, "[cplayer] boom")]
