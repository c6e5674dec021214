"""The durable progress outbox: coalescing, order, states, crash safety, profile separation."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from player.sync.outbox import DROPPED, PENDING, SYNCED, Outbox, ProgressEvent
from tests.conftest import REPO


def ev(title: str, position_s: float, t_ms: int, *, profile: str = "p1", device: str = "devA",
       **kw: object) -> ProgressEvent:
    return ProgressEvent(profile_id=profile, title_id=title, position_s=position_s,
                         event_time_ms=t_ms, device_id=device, duration_s=100.0,
                         account_id="acc", **kw)  # type: ignore[arg-type]


def test_wal_file_and_coalescing_per_title(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    assert box.path == tmp_path / "progress.sqlite3"
    with sqlite3.connect(box.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for i in range(1, 6):
        assert box.put(ev("t1", 10.0 * i, 1000 * i))
    box.put(ev("t2", 5.0, 2500))
    pending = box.pending()
    assert [(e.title_id, e.position_s) for e in pending] == [("t1", 50.0), ("t2", 5.0)]
    assert box.pending_count() == 2


def test_replay_order_is_the_order_of_the_latest_events(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.put(ev("a", 1, 1000))
    box.put(ev("b", 1, 2000))
    box.put(ev("c", 1, 3000))
    box.put(ev("a", 2, 4000))  # a moves behind c
    assert [e.title_id for e in box.pending()] == ["b", "c", "a"]
    assert [e.title_id for e in box.pending(limit=2)] == ["b", "c"]


def test_an_older_event_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    assert box.put(ev("t", 30, 5000))
    assert not box.put(ev("t", 10, 4000))
    assert box.put(ev("t", 20, 5000, device="devB"))  # a tie goes to the larger device id
    got = box.get("p1", "t")
    assert got is not None and got.position_s == 20 and got.device_id == "devB"


def test_mark_synced_only_if_no_newer_event_arrived(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.put(ev("t", 10, 1000))
    box.put(ev("u", 10, 1000))
    sent = box.pending()
    box.put(ev("t", 20, 2000))  # written while the batch was on its way
    box.mark([(e, SYNCED, None) for e in sent])
    assert [(e.title_id, e.position_s) for e in box.pending()] == [("t", 20)]
    u = box.get("p1", "u")
    assert u is not None and u.state == SYNCED
    box.mark([(box.pending()[0], DROPPED, "unknown_title")])
    t = box.get("p1", "t")
    assert t is not None and t.state == DROPPED and t.error == "unknown_title"
    box.put(ev("t", 30, 3000))
    t = box.get("p1", "t")
    assert t is not None and t.state == PENDING and t.error is None


def test_profiles_and_accounts_stay_apart(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.put(ev("t", 10, 1000, profile="kids"))
    box.put(ev("t", 50, 2000, profile="adult"))
    assert [e.position_s for e in box.for_profile("kids")] == [10]
    assert box.get("kids", "t").position_s == 10  # type: ignore[union-attr]
    other = ProgressEvent(profile_id="x", title_id="t", position_s=1, event_time_ms=1,
                          device_id="d", account_id="other")
    box.put(other)
    assert {e.profile_id for e in box.pending(account_id="acc")} == {"kids", "adult"}


def test_wire_items_follow_the_protocol() -> None:
    assert ev("t", 12.3456, 7).wire() == {"profile_id": "p1", "title_id": "t",
                                          "event_time_ms": 7, "device_id": "devA",
                                          "position_s": 12.346, "duration_s": 100.0}
    watched = ProgressEvent(profile_id="p", title_id="t", position_s=0, event_time_ms=9,
                            device_id="d", kind="watched", watched=True)
    assert watched.wire() == {"profile_id": "p", "title_id": "t", "event_time_ms": 9,
                              "device_id": "d", "watched": True}


def test_a_process_killed_between_write_and_send_keeps_the_event(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal
        from player.sync.outbox import Outbox, ProgressEvent
        box = Outbox({str(tmp_path)!r})
        for i in range(1, 4):
            box.put(ProgressEvent(profile_id="p", title_id="t", position_s=10.0 * i,
                                  event_time_ms=1000 * i, device_id="d"))
        print("written", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # before anything is sent
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == -signal.SIGKILL and "written" in proc.stdout
    box = Outbox(tmp_path)
    assert [(e.title_id, e.position_s, e.state) for e in box.pending()] == [("t", 30.0, PENDING)]
