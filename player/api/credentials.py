"""``TokenKeeper``: the device's session tokens for :class:`player.api.client.ControlPlaneClient`.

It reads the :class:`player.tokens.CredentialStore` once, saves what sign-in and refresh return,
and refreshes an expired access token once for all concurrent requests. Refresh tokens are
single-use and shared by every process on the device (the download worker, ``edgeplay
download``), so before and after a refresh it looks for newer tokens another process saved.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from player.api.models import Tokens
from player.api.request import SIGN_IN_AGAIN, Requester, error_for, label
from player.errors import AuthError
from player.tokens import Credentials, CredentialStore

log = logging.getLogger("net")

__all__ = ["TokenKeeper"]


class TokenKeeper:
    """The session's tokens: ``credentials``, ``save``, ``keep``, ``access_token``, ``refresh``."""

    def __init__(self, store: CredentialStore, requester: Requester,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self._req = requester
        self._clock = clock
        self._refresh_lock = asyncio.Lock()
        self._creds: Credentials | None = None
        self._loaded = False

    @property
    def credentials(self) -> Credentials | None:
        """The session, read from the store once (a keyring read is a D-Bus round trip)."""
        if not self._loaded:
            self._creds, self._loaded = self.store.load(), True
        return self._creds

    def save(self, creds: Credentials) -> None:
        self._creds, self._loaded = creds, True
        self.store.save(creds)

    def keep(self, tokens: Tokens) -> Tokens:
        """Save what sign-in or a refresh returned; the access token's expiry in clock time."""
        self.save(Credentials(
            device_id=tokens.device_id, access_token=tokens.access_token,
            refresh_token=tokens.refresh_token, account_id=tokens.account_id,
            access_expires_at=self._clock() + tokens.expires_in_s))
        return tokens

    def access_token(self) -> str:
        creds = self.credentials
        if creds is None or not creds.access_token:
            raise AuthError("You are not signed in. Please sign in.")
        return creds.access_token

    async def refresh(self, used_token: str | None, url: str) -> str:
        """A fresh access token in place of ``used_token`` (POST ``url``, the refresh endpoint);
        :class:`AuthError` when the control plane refuses the refresh token."""
        async with self._refresh_lock:
            creds = self.credentials
            if creds is None or not creds.refresh_token:
                raise AuthError(SIGN_IN_AGAIN)
            if creds.access_token != used_token:  # another request refreshed meanwhile
                return creds.access_token
            newer = self._newer_in_store(creds)
            if newer is not None:
                creds = newer
                if newer.access_token != used_token and (
                        newer.access_expires_at or 0.0) > self._clock() + 30:
                    return newer.access_token
            response = await self._req.send(
                "POST", url, json={"refresh_token": creds.refresh_token}, idempotent=False)
            if not response.is_success:
                error = error_for(response, "POST")
                newer = self._newer_in_store(creds)
                if newer is not None and newer.access_token:  # that process won the race
                    return newer.access_token
                if response.status_code in (400, 401, 403, 404):
                    log.warning("token refresh refused (%s): the user must sign in again",
                                error.server_code)
                    self.save(Credentials(creds.device_id, "", "", creds.account_id))
                    raise AuthError(SIGN_IN_AGAIN, server_code=error.server_code,
                                    status=error.status, request=error.request) from error
                raise error
            tokens = self.keep(Tokens.parse(response.json(), label("POST", url)))
            log.info("access token refreshed (expires in %.0f s)", tokens.expires_in_s)
            return tokens.access_token

    def _newer_in_store(self, creds: Credentials) -> Credentials | None:
        """The store's credentials when another process saved a different refresh token
        (then adopted), else None."""
        try:
            stored = self.store.load()
        except Exception:  # the keyring went away: keep what we have
            return None
        if stored is None or not stored.refresh_token or (
                stored.refresh_token == creds.refresh_token):
            return None
        log.info("using the tokens another process on this device refreshed")
        self._creds = stored
        return stored
