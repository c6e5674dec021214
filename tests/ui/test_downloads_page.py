"""The Downloads page by keys alone: rows, buttons, live progress, countdowns, actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from offline.downloader import DownloadProgress
from offline.library import OfflineLibrary
from ui.aio import AsyncLoop, Runner
from ui.downloads import DownloadsController
from ui.nav import Action
from ui.pages.downloads import DownloadsPage


def row(i: int, state: str, **kw: Any) -> dict[str, Any]:
    complete = state == "completed"
    base = {"id": f"dl_{i}", "title_id": f"t{i}", "title": f"Title {i}", "state": state,
            "fraction": 1.0 if complete else 0.4, "bytes_done": 40_000_000,
            "bytes_total": 100_000_000, "rendition": "720p", "error": None, "error_code": None,
            "playable_for_s": 5 * 86400.0 if complete else None, "complete": complete,
            "blocked_code": None, "blocked": None, "position_s": 0.0, "duration_s": 60.0,
            "poster_url": None}
    return {**base, **kw}


class Recorder(DownloadsController):
    def __init__(self, runner: Runner, library: OfflineLibrary) -> None:
        super().__init__(runner, library)
        self.calls: list[tuple[str, str]] = []

    def pause(self, download_id: str) -> None:
        self.calls.append(("pause", download_id))

    def resume(self, download_id: str) -> None:
        self.calls.append(("resume", download_id))

    def renew(self, download_id: str) -> None:
        self.calls.append(("renew", download_id))

    def delete(self, download_id: str) -> None:
        self.calls.append(("delete", download_id))


def test_keys_reach_every_action_and_progress_updates_live(qtbot: Any, tmp_path: Path) -> None:
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    library = OfflineLibrary(tmp_path / "lib", device="ui-test")
    controller = Recorder(runner, library)
    page = DownloadsPage(controller)
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=2000)
    try:
        assert page.empty.isVisible() and page.back.isVisible()
        controller._set_rows([
            row(1, "completed"),
            row(2, "downloading"),
            row(3, "completed", blocked_code="license_expired", playable_for_s=-60.0,
                blocked="This download's license expired 1 minutes ago. Go online and renew "
                "it."),
        ])
        assert not page.empty.isVisible() and len(page.rows) == 3
        labels = [[b.text() for b in r.buttons] for r in page.rows]
        assert labels == [["Play", "Delete"], ["Pause", "Cancel"], ["Renew", "Delete"]]
        assert "plays for 5 days" in page.rows[0].status.text()
        assert "expired" in page.rows[2].status.text()
        page.focus_default()
        assert page.rows[0].buttons[0].hasFocus()
        played: list[dict[str, Any]] = []
        page.play.connect(played.append)
        assert page.on_action(Action.SELECT) and played[0]["id"] == "dl_1"
        assert page.on_action(Action.RIGHT) and page.rows[0].buttons[1].hasFocus()
        assert page.on_action(Action.DOWN) and page.rows[1].buttons[1].hasFocus()
        page.on_action(Action.LEFT)
        page.on_action(Action.SELECT)  # Pause
        page.on_action(Action.DOWN)
        page.on_action(Action.SELECT)  # Renew
        assert page.on_action(Action.DOWN) and page.rows[2].buttons[0].hasFocus()  # the end
        assert controller.calls == [("pause", "dl_2"), ("renew", "dl_3")]
        controller._progress(DownloadProgress("dl_2", "t2", "Title 2", "downloading", 6, 10,
                                              60_000_000, 100_000_000, 2_500_000.0, 16.0))
        text = page.rows[1].status.text()
        assert "60%" in text and "20.0 Mbit/s" in text and "16 s left" in text
        assert page.rows[1].bar.value() == 600
        # A rebuild (a state changed) keeps the focus on the same download and column.
        page.rows[2].buttons[1].setFocus()
        controller._set_rows([row(1, "completed"), row(3, "completed")])
        assert page.rows[1].buttons[1].hasFocus() and page.rows[1].row["id"] == "dl_3"
        assert page.rows[1].buttons[1].text() == "Delete"
        assert page.rows[0].buttons[0].focusPolicy() != Qt.FocusPolicy.NoFocus
    finally:
        runner.close()
        aio.stop()
        library.close()


def test_no_service_still_reaches_the_downloads_by_keys(qtbot: Any, harness: Any) -> None:
    w = harness.window
    w.show_page("splash", remember=False)
    w._start_failed("connection refused")
    assert w.splash.offline.isVisible() and w.splash.retry.hasFocus()
    assert w.splash.on_action(Action.DOWN) and w.splash.offline.hasFocus()
    w.splash.on_action(Action.SELECT)
    assert w.current_name() == "downloads"
    qtbot.waitUntil(lambda: w.downloads.empty.isVisible(), timeout=2000)
