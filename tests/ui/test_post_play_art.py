"""Post-play never ends on a dead end or the last frame: a title whose first row holds only it
(Continue Watching) still gets a next title from another row (or any other title on home),
and with no next title the finished one's backdrop is behind the card."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import Harness, make_title


def _finish(qtbot: Any, h: Harness, title: dict[str, Any]) -> None:
    w = h.window
    w.play(title, True)
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)
    w.player.postplay._tick.setInterval(60_000)  # no countdown while this looks
    h.aio.loop.call_soon_threadsafe(h.sessions[-1].finish)
    qtbot.waitUntil(lambda: w.player.postplay.isVisible(), timeout=3000)


def test_next_comes_from_another_row_when_continue_watching_has_only_it(
        qtbot: Any, harness: Harness) -> None:
    w = harness.window
    t1, t2 = make_title(1, progress=60.0), make_title(2)
    t1["backdrop_url"] = "http://127.0.0.1:9/art/b1.jpg"
    t2["backdrop_url"] = "http://127.0.0.1:9/art/b2.jpg"
    w.home.set_rows([{"id": "continue-watching", "title": "Continue Watching", "items": [t1]},
                     {"id": "genre-0", "title": "Drama", "items": [dict(t1), t2]}])
    assert w.home.next_after("t1") == t2
    _finish(qtbot, harness, t1)
    page = w.player
    assert page.postplay.heading.text() == "Up next: Title 2"
    assert page.post_backdrop is not None and page.post_backdrop.isVisible()
    assert page.post_backdrop.url == t2["backdrop_url"]
    assert page.postplay.property("onart") is True  # no box over the backdrop's fade


def test_next_from_another_row_when_no_row_has_more(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    w.home.set_rows([{"id": "genre-0", "title": "Drama", "items": [make_title(1)]},
                     {"id": "genre-1", "title": "Crime", "items": [make_title(2)]}])
    assert (w.home.next_after("t1") or {}).get("id") == "t2"
    assert (w.home.next_after("t2") or {}).get("id") == "t1"


def test_no_next_title_shows_the_finished_ones_backdrop(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    only = make_title(7)
    only["backdrop_url"] = "http://127.0.0.1:9/art/b7.jpg"
    other = make_title(8)
    other["playable"] = False
    w.home.set_rows([{"id": "genre-0", "title": "Drama", "items": [only]},
                     {"id": "genre-1", "title": "Crime", "items": [other]}])
    assert w.home.next_after("t7") is None
    _finish(qtbot, harness, only)
    page = w.player
    assert page.postplay.heading.text() == "That was the last one here"
    assert page.postplay.details.hasFocus()
    assert page.post_backdrop is not None and page.post_backdrop.isVisible()
    assert page.post_backdrop.url == only["backdrop_url"]
