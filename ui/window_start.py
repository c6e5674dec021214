"""The window's start-up flow: the control plane (retry, or the downloads without it), sign-in
(the form on a desktop, a code to confirm elsewhere on a TV), profiles (pick, create, rename,
delete) and Settings → Pair a TV. A part of :class:`ui.window.MainWindow`."""

from __future__ import annotations

from typing import Any

from player.api.pairing import confirm_pairing
from player.errors import NetworkError
from ui.window_router import JSON, Router


class StartFlow(Router):
    """From the splash to the home page."""

    def _retry_start(self) -> None:
        self.splash.retry.hide()
        self.splash.offline.hide()
        self.backend.start()

    def _service_back(self) -> None:
        """The bundled control plane restarted (new port, same accounts): reload what shows."""
        self.messages.info("The built-in service is running again.")
        if not self.profile:
            return
        self.load_home()
        if self.current_name() == "details" and self.details.title_json:
            self.open_title_refresh()

    def _start_failed(self, text: str) -> None:
        self.splash.set_status(f"Edgeplay could not reach its service: {text}")
        self.splash.retry.show()
        self.splash.offline.show()
        self.splash.retry.setFocus()

    def show_downloads_offline(self) -> None:
        """The service is out of reach: the Downloads page still lists and plays."""
        self.dl.refresh()
        self.show_page("downloads")

    # --- sign-in and profiles ------------------------------------------------------------------

    def _backend_ready(self) -> None:
        self.dl.attach(self.backend.cp, self.backend.service_key, self.backend.license_key)
        if self.backend.keyring_note:
            self.signin.note.setText(self.backend.keyring_note)
        if self.auto_sign_in:
            self.backend.runner.run(self.backend.ensure_demo(), self._have_profiles,
                                    self._auth_failed, key="auth")
        elif self.backend.signed_in:
            self.splash.set_status("Signing in…")
            self.backend.runner.run(self.backend.resume_session(), self._have_profiles,
                                    self._auth_failed, key="auth")
        else:
            self.show_sign_in()

    def show_sign_in(self) -> None:
        """TV: the code to confirm elsewhere (nothing to type); desktop: the form."""
        if self.tv and self.current_name() != "signin":
            self.show_page("pair", remember=False)
            self.tv_signin.start()
        else:
            self.show_page("signin", remember=False)

    def _auth_failed(self, exc: BaseException) -> None:
        text = getattr(exc, "message", None) or str(exc)
        if self.tv and self.current_name() != "signin" and not isinstance(exc, NetworkError):
            self.show_sign_in()
        else:
            self.show_page("signin", remember=False)
        self.signin.failed(text)
        if isinstance(exc, NetworkError):  # no service: the downloads still play
            self.messages.error(text, ("Watch downloads", self.show_downloads_offline))

    def _sign_in(self, email: str, password: str, create: bool) -> None:
        self.backend.runner.run(self.backend.sign_in(email, password, create),
                                self._signed_in, self._auth_failed, key="auth")

    def _signed_in(self, profiles: list[JSON]) -> None:
        self.settings.profile_id = ""
        self._have_profiles(profiles)

    def _have_profiles(self, profiles: list[JSON]) -> None:
        self.profiles.set_profiles(profiles)
        remembered = [p for p in profiles if p.get("id") == self.settings.profile_id]
        if remembered or (self.auto_sign_in and profiles):
            self._pick_profile((remembered or profiles)[0])
        else:
            self.show_page("profiles", remember=False)

    def _pick_profile(self, profile: JSON) -> None:
        self.profile = profile
        self.settings.profile_id = str(profile.get("id", ""))
        self.settings.save(self.paths.settings_file)
        self.home.top.set_profile(profile)
        self.home.last = ("", "")
        self.history.clear()
        self.show_page("home", remember=False)
        self.load_home()

    def _profile_call(self, coro: Any) -> None:
        async def then_list() -> list[JSON]:
            await coro
            return await self.backend.cp.profiles()
        self.backend.runner.run(then_list(), self.profiles.set_profiles,
                                lambda exc: self.messages.engine_error(exc), key="profiles")

    def _create_profile(self, name: str, color: str) -> None:
        self._profile_call(self.backend.cp.create_profile(name, avatar_color=color))

    def _rename_profile(self, pid: str, name: str, color: str) -> None:
        self._profile_call(self.backend.update_profile(pid, name=name, avatar_color=color))

    def _delete_profile(self, pid: str) -> None:
        self._profile_call(self.backend.delete_profile(pid))

    def _pair_tv(self, code: str) -> None:
        """Settings → Pair a TV: confirm the code a TV shows, for this app's account."""
        self.backend.call(lambda cp: confirm_pairing(cp, code), self.settings_page.paired,
                          lambda exc: self.settings_page.pair_failed(
                              getattr(exc, "message", None) or str(exc)), key="pair-tv")
