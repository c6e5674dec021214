"""Post-play's More like this, with the keys only: the finished title's similar titles (never the
title itself, nor the one up next) under the card; ↓ reaches the row, → moves in it, Enter opens
that title's details and the countdown stops; ↑ goes back to the card; any key stops the
countdown; Back still goes to the finished title's details; no row (and no gap) without similar
titles."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.keys import press
from ui.models import Role
from ui.widgets import RowView

from .conftest import FakeControlPlane, Harness, make_title

K = Qt.Key


class SimilarControlPlane(FakeControlPlane):
    """Details carry ``more_like_this``; it lists the title itself too, which post-play must
    leave out (the real control plane never sends it: the row must not depend on that), and
    the one after it, which is up next on the card already."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def title(self, title_id: str, profile_id: str) -> dict[str, Any]:
        self.asked.append(title_id)
        title = await super().title(title_id, profile_id)
        n = int(title_id[1:])
        title["more_like_this"] = [make_title(n + 10), make_title(n), make_title(n + 1),
                                   make_title(n + 20)]
        return title


def focused_tile() -> str:
    view = QApplication.focusWidget()
    assert isinstance(view, RowView), view
    return str(view.currentIndex().data(Role.ID))


def _play_to_the_end(qtbot: Any, h: Harness) -> None:
    """Home → the t1 tile → details (its More like this loaded) → Play → the end, by keys."""
    w = h.window
    w.resize(1920, 1080)  # the TV's screen: the card and the row fit inside the overscan margin
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Right)
    assert focused_tile() == "t1"
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: w.details.more.isVisible(), timeout=3000)
    assert w.details.buttons.contains_focus()
    press(qtbot, K.Key_Return)  # Play
    assert w.current_name() == "player"
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)
    w.player.postplay._tick.setInterval(60_000)  # the countdown runs, but no tick while we look
    h.aio.loop.call_soon_threadsafe(h.sessions[-1].finish)
    qtbot.waitUntil(lambda: w.player.postplay.isVisible(), timeout=3000)


def test_down_right_enter_opens_the_similar_titles_details(qtbot: Any,
                                                           harness: Harness) -> None:
    w = harness.window
    w.backend.client = SimilarControlPlane()  # type: ignore[assignment]
    _play_to_the_end(qtbot, harness)
    post = w.player.postplay
    assert post.heading.text() == "Up next: Title 2"
    assert post.similar_ids() == ["t11", "t21"]  # the finished title's, without it or t2
    assert post.more is not None and post.more.label.text() == "More like this"
    assert post.counting() and post.play_now.hasFocus()
    m = w.theme.margin_px  # overscan-safe: inside the margin on every side
    page = w.player.rect().adjusted(m, m, -m, -m)
    assert page.contains(post.geometry()), (post.geometry(), page)
    press(qtbot, K.Key_Down)
    assert QApplication.focusWidget() is post.more.view and focused_tile() == "t11"
    assert not post.counting()  # the viewer is choosing: nothing starts by itself
    press(qtbot, K.Key_Right)
    assert focused_tile() == "t21"
    press(qtbot, K.Key_Return)
    assert w.current_name() == "details" and not post.isVisible()
    assert w.details.title_json.get("id") == "t21"
    qtbot.waitUntil(lambda: "more_like_this" in w.details.title_json, timeout=3000)
    assert w.details.name.text() == "Title 21"
    assert len(harness.sessions) == 1 and not post.counting()  # Title 2 never started
    press(qtbot, K.Key_Escape)  # the way back: the finished title, on the tile opened
    qtbot.waitUntil(lambda: w.details.title_json.get("id") == "t1", timeout=3000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.details.more.view, timeout=3000)
    assert focused_tile() == "t21"
    press(qtbot, K.Key_Escape)
    assert w.current_name() == "home"


def test_up_goes_back_to_the_card_and_back_to_the_finished_details(qtbot: Any,
                                                                   harness: Harness) -> None:
    w = harness.window
    w.backend.client = SimilarControlPlane()  # type: ignore[assignment]
    _play_to_the_end(qtbot, harness)
    post = w.player.postplay
    press(qtbot, K.Key_Right)  # Back to details
    assert post.details.hasFocus()
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Left)  # the row's first tile: stays
    assert focused_tile() == "t11"
    press(qtbot, K.Key_Up)
    assert post.details.hasFocus()  # the button ↓ left from
    press(qtbot, K.Key_Escape)
    assert w.current_name() == "details" and w.details.title_json.get("id") == "t1"
    assert len(harness.sessions) == 1


def test_any_key_stops_the_countdown(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    w.backend.client = SimilarControlPlane()  # type: ignore[assignment]
    _play_to_the_end(qtbot, harness)
    post = w.player.postplay
    post._count()
    assert post.counting() and post.countdown.text() == "Starts in 9 s"
    press(qtbot, K.Key_I)  # not a D-pad key (the stats): still someone at the remote
    assert not post.counting() and not post.countdown.isVisible()
    assert post.play_now.hasFocus()
    press(qtbot, K.Key_Return)  # Play now still plays
    qtbot.waitUntil(lambda: len(harness.sessions) == 2, timeout=3000)
    assert w.controller.title.get("id") == "t2"


def test_the_row_is_asked_for_when_the_title_played_has_none(qtbot: Any,
                                                             harness: Harness) -> None:
    w = harness.window
    cp = SimilarControlPlane()
    w.backend.client = cp  # type: ignore[assignment]
    w.resize(1920, 1080)
    w.play(make_title(3), True)  # a row's title: no more_like_this of its own
    qtbot.waitUntil(lambda: "t3" in cp.asked, timeout=3000)
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)
    w.player.postplay._tick.setInterval(60_000)
    harness.aio.loop.call_soon_threadsafe(harness.sessions[-1].finish)
    qtbot.waitUntil(lambda: w.player.postplay.isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: w.player.postplay.similar_ids() == ["t13", "t23"], timeout=3000)


def test_no_similar_titles_no_row_and_no_gap(qtbot: Any, harness: Harness) -> None:
    w = harness.window  # the plain fake: details without more_like_this
    _play_to_the_end_without_row(qtbot, harness)
    post = w.player.postplay
    assert post.more is not None and post.more.isHidden() and post.similar_ids() == []
    margins = post.layout().contentsMargins()
    assert post.height() == post.card.height() + margins.top() + margins.bottom()
    m = w.theme.margin_px
    assert post.geometry().bottom() == w.player.height() - m - 1  # at the foot, no gap under
    press(qtbot, K.Key_Down)  # nowhere to go: the focus stays on the card
    assert post.play_now.hasFocus()


def _play_to_the_end_without_row(qtbot: Any, h: Harness) -> None:
    w = h.window
    w.resize(1920, 1080)
    w.play(make_title(1), True)
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)
    w.player.postplay._tick.setInterval(60_000)
    h.aio.loop.call_soon_threadsafe(h.sessions[-1].finish)
    qtbot.waitUntil(lambda: w.player.postplay.isVisible(), timeout=3000)


def test_down_reaches_the_row_before_a_message_under_it(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    w.backend.client = SimilarControlPlane()  # type: ignore[assignment]
    _play_to_the_end(qtbot, harness)
    post = w.player.postplay
    w.messages.error("Downloads are paused.", ("Resume", lambda: None))
    qtbot.waitUntil(lambda: w.toast.isVisible(), timeout=3000)
    if w.toast.contains_focus():  # an actionable message takes the focus at once
        press(qtbot, K.Key_Up)
    assert post.play_now.hasFocus() and w.toast.waiting()
    press(qtbot, K.Key_Down)
    assert post.more is not None and QApplication.focusWidget() is post.more.view
    press(qtbot, K.Key_Down)  # past the row: the message
    assert w.toast.contains_focus()
