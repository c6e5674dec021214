"""The window's playback: play a title (its download when there is one), leave the player,
post-play's next title and More like this, playback errors; downloads from the details and
Downloads pages, and renewing an expired download's license. A part of
:class:`ui.window.MainWindow`."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QTimer

from player.errors import AuthError
from player.session import SessionConfig
from ui.models import merge_title
from ui.window_router import JSON, Router

log = logging.getLogger("ui")
SIMILAR_KEY = "post-play-similar"


class PlaybackFlow(Router):
    """The player page's comings and goings, and downloads."""

    _pending_play: tuple[JSON, bool]
    """What :meth:`play` starts once the video output is ready."""

    # --- playback ------------------------------------------------------------------------------

    def play(self, title: JSON, start_over: bool) -> None:
        progress = title.get("progress") or {}
        resume_s = 0.0 if start_over else float(progress.get("position_s") or 0)
        self.show_page("player")
        self.player.up_next = self.home.next_after(str(title.get("id", "")))
        self._post_play_similar(title)
        self.player.begin(title, resume_s)
        self._pending_play = (title, start_over)
        self._try_play(0)

    def _try_play(self, attempt: int) -> None:
        video = self.player.video
        if not getattr(video, "ready", True):  # the GL context comes with the first paint
            if attempt < 40:
                QTimer.singleShot(50, lambda: self._try_play(attempt + 1))
                return
            self.messages.error("Video output could not start (no OpenGL).")
            return
        title, start_over = self._pending_play
        row = self.dl.playable(str(title.get("id", "")))
        offline = None
        if row is not None:  # downloaded: play the download, online or not
            def offline(cp: Any, title_id: str, profile_id: str, mpv: Any,
                        config: SessionConfig) -> Any:
                return self.dl.session_for(row["id"], mpv, config)
        profile_id = str(self.profile.get("id", "") or (row or {}).get("profile_id", ""))
        self.controller.stream_format = self.settings.stream_format
        self.controller.play(self.backend.client, title,  # type: ignore[arg-type]
                             profile_id,
                             start_over=start_over, make_session=offline,
                             max_rung=self.settings.effective_max_rung())
        self.controller.set_mpv("sub-font-size", self.settings.subtitle_size)

    # --- downloads -----------------------------------------------------------------------------

    def download_title(self, title: JSON) -> None:
        """Download on the details page: start it, or show it on the Downloads page."""
        tid, pid = str(title.get("id", "")), str(self.profile.get("id", ""))
        if not tid or not pid:
            return
        if self.dl.row_for_title(tid) is not None:
            self.show_page("downloads")
            return
        self.dl.download(tid, pid)
        self.details.set_download({"state": "queued", "fraction": 0.0})
        self.messages.info(f"Downloading {title.get('name', 'the title')}…")

    def play_download(self, row: JSON) -> None:
        """Play on the Downloads page: the download, with the catalog's facts when known."""
        title = {"id": row["title_id"], "name": row["title"],
                 "duration_s": row["duration_s"],
                 "progress": {"position_s": row["position_s"]}}
        self.play(title, False)

    def _download_changed(self) -> None:
        tid = str(self.details.title_json.get("id", ""))
        if tid:
            self.details.set_download(self.dl.row_for_title(tid))

    def _download_progress(self, p: Any) -> None:
        if p.title_id == self.details.title_json.get("id"):
            self.details.set_download(self.dl.row_for_title(p.title_id) or
                                      {"state": p.state}, p.fraction)

    async def _renew_playing_download(self, exc: BaseException) -> None:
        """"Renew" on an expired download: a new license from the control plane."""
        manager = self.dl.manager
        title_id = str(self.controller.title.get("id", "")) or str(
            self.details.title_json.get("id", ""))
        download = self.dl.library.for_title(title_id)
        if manager is None or download is None:
            raise RuntimeError("there is no download of this title to renew")
        await manager.renew(download.id)
        self.dl.refresh()

    def _playback_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        title = self.controller.title
        self.messages.engine_error(
            exc, retry=lambda: self.play(title, False) if title else None,
            sign_in=self.show_sign_in)
        if isinstance(exc, AuthError):
            self.show_sign_in()

    def _play_next(self, title: JSON) -> None:
        """Post-play's next title: its details behind the player (Back lands there), then play."""
        self.home.remember_title(title)
        self.details.device_id = self.backend.device_id
        self.details.show_title(merge_title(title, self._local()))
        self.play(title, True)

    def _leave_player(self) -> None:
        self._exit_player()
        if self.details.title_json:
            self.open_title_refresh()
        self.load_home()

    def _exit_player(self) -> None:
        self.controller.stop()
        if self.isFullScreen() and not self.tv:
            self.showNormal()
        self.go_back()

    def _post_play_similar(self, title: JSON) -> None:
        """Post-play's More like this: the title's ``more_like_this``, from the title played or
        its details page, else asked for now (a row's title does not carry it)."""
        tid = str(title.get("id", ""))
        similar = title.get("more_like_this")
        if similar is None and self.details.title_json.get("id") == tid:
            similar = self.details.title_json.get("more_like_this")
        self.player.postplay.set_similar(similar or [], tid)
        self.backend.runner.invalidate(SIMILAR_KEY)  # an answer for the title before is stale
        if similar is not None or not tid or self.backend.client is None:
            return
        pid = str(self.profile.get("id", ""))
        self.backend.call(
            lambda cp: cp.title(tid, pid),
            lambda full: self.player.postplay.set_similar(full.get("more_like_this") or [], tid),
            lambda exc: log.info("no More like this for post-play: %s", exc), key=SIMILAR_KEY)

    def _open_similar(self, title: JSON) -> None:
        """Post-play's More like this tile: the player goes, and the finished title's details
        open the tile as its own More like this would (Back returns there, on that tile)."""
        finished = str(self.controller.title.get("id", ""))
        self._exit_player()
        if self.current_name() == "details" and self.details.title_json.get("id") == finished:
            self.details.follow(title)
        else:
            self.open_title(title)
        self.load_home()

    def _renew_license(self, exc: BaseException) -> None:
        """"Renew" on an expired license: the downloads code's hook on the engine loop, then
        playback again if that is what failed."""
        renew = self.renew_license
        if renew is None:
            self.messages.error("This version cannot renew download licenses yet.")
            return
        replay = self.current_name() == "player" and bool(self.controller.title)
        title = self.controller.title

        async def go() -> None:
            await renew(exc)

        def done(_: None) -> None:
            self.messages.info("License renewed.")
            if replay:
                self.play(title, False)
        self.backend.runner.run(go(), done, lambda e: self.messages.engine_error(e),
                                key="renew")
