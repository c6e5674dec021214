"""Continue watching in the UI: recency order, the pending marker, "Watched on …", Mark as watched,
and that the player controller hands sessions the backend's reporter."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt

from player.sync import SYNCED, ProgressEvent
from ui.models import Role, TitleRowModel, merge_local, merge_title
from ui.pages.details import watched_on

from .conftest import Harness, make_rows, make_title


def local(title_id: str, position_s: float, t_ms: int, state: str = "pending",
          **kw: Any) -> ProgressEvent:
    return ProgressEvent(profile_id="p1", title_id=title_id, position_s=position_s,
                         event_time_ms=t_ms, device_id="devA", duration_s=600.0, state=state,
                         **kw)


def server_rows() -> list[dict[str, Any]]:
    rows = make_rows()
    for i, item in enumerate(rows[0]["items"]):  # t100 newer than t101
        item["progress"].update(event_time_ms=2000 - i, device_id="devB")
    return rows


def test_continue_watching_orders_by_recency_and_marks_pending(qtmodeltester: Any) -> None:
    merged = merge_local(server_rows(), {"t3": local("t3", 60.0, 5000),
                                         "t101": local("t101", 300.0, 1000, state=SYNCED)})
    cw = merged[0]
    assert cw["id"] == "continue-watching"
    assert [t["id"] for t in cw["items"]] == ["t3", "t100", "t101"]
    model = TitleRowModel(cw["id"], cw["title"], cw["items"])
    qtmodeltester.check(model)
    assert model.index(0, 0).data(Role.SYNC) == "pending"
    assert model.index(0, 0).data(Role.PROGRESS) == 0.1
    assert "not synced" in model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(1, 0).data(Role.SYNC) == "synced"
    # t101's local event is older than the server's: the server's position stays.
    assert model.index(2, 0).data(Role.TITLE)["progress"]["position_s"] == 120.0
    assert merge_local(server_rows(), {})[0]["items"][0]["id"] == "t100"


def test_a_watched_title_leaves_continue_watching() -> None:
    merged = merge_local(server_rows(), {
        "t100": local("t100", 0.0, 9000, kind="watched", watched=True)})
    assert [t["id"] for t in merged[0]["items"]] == ["t101"]
    only = merge_local(server_rows()[:1], {
        "t100": local("t100", 0.0, 9000, kind="watched", watched=True),
        "t101": local("t101", 599.0, 9001, watched=True)})
    assert only == []


def test_watched_on_names_the_device_and_the_age() -> None:
    now = time.time()
    title = merge_title(make_title(1), {"t1": local("t1", 60.0, int((now - 120) * 1000))})
    assert watched_on(title, "devA", now) == "Watched on this device · 2 min ago · not synced yet"
    other = {**make_title(2), "progress": {"position_s": 5, "event_time_ms": now * 1000,
                                           "device_id": "dev_123456789abcdef"}}
    assert watched_on(other, "devA", now) == "Watched on another device (dev_12345678) · just now"
    named = {**other, "progress": {**other["progress"], "device_name": "Living-room TV"}}
    assert watched_on(named, "devA", now) == "Watched on Living-room TV · just now"
    assert watched_on(make_title(3), "devA") == ""


def test_home_shows_the_pending_marker_and_details_mark_watched(harness: Harness,
                                                                qtbot: Any) -> None:
    window = harness.window
    outbox = window.backend.outbox
    outbox.put(local("t101", 200.0, int(time.time() * 1000)))
    window._rows(make_rows())
    section = window.home.sections[0]
    assert section.model.row_id == "continue-watching"
    first = section.model.index(0, 0)
    assert first.data(Role.ID) == "t101" and first.data(Role.SYNC) == "pending"
    section.view.grab()  # the delegate paints the marker without errors
    window.open_title(first.data(Role.TITLE))
    details = window.details
    assert "not synced yet" in details.watched_on.text()
    assert details.watched.text() == "Mark as watched"
    details.watched.click()
    event = outbox.get("p1", "t101")
    assert event is not None and event.kind == "watched" and event.watched
    assert details.watched.text() == "Mark as unwatched"
    details.watched.click()
    event = outbox.get("p1", "t101")
    assert event is not None and event.kind == "watched" and not event.watched


def test_sessions_get_the_backends_reporter(harness: Harness, qtbot: Any) -> None:
    window = harness.window
    window.play(make_title(4), False)
    qtbot.waitUntil(lambda: bool(harness.sessions), timeout=3000)
    reporter = harness.sessions[0].progress  # type: ignore[attr-defined]
    assert reporter.title_id == "t4" and reporter.profile_id == "p1"
    assert reporter.report(42.0, 600.0, "pause")
    event = window.backend.outbox.get("p1", "t4")
    assert event is not None and event.position_s == 42.0 and event.state == "pending"
