"""``ControlPlaneClient``: every control-plane endpoint the engine uses (docs/protocol.md).

Bearer tokens come from a :class:`player.tokens.CredentialStore` and go only to URLs under the
control plane's base URL. A 401 ``token_expired``/``invalid_token`` triggers one refresh (shared by
concurrent requests) and one retry; a failed refresh is :class:`AuthError` ("sign in again").
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from player.api.credentials import TokenKeeper
from player.api.models import JSON, STREAM_FORMATS, Playback, Tokens
from player.api.request import Requester, error_for, label, server_error_body
from player.api.retry import RetryPolicy
from player.errors import (
    AuthError,
    ConflictError,
    EntitlementError,
    LicenseError,
    ManifestError,
    PlayerError,
    ServerError,
)
from player.tokens import Credentials, CredentialStore, MemoryStore

log = logging.getLogger("net")

AES128_KEY_BYTES = 16
_REFRESHABLE = frozenset({"token_expired", "invalid_token"})


class ControlPlaneClient:
    """``async with ControlPlaneClient(base_url, store=TokenStore(base_url)) as cp: ...``.

    ``transport``, ``sleep``, ``clock`` (Unix seconds) and ``rng`` are injectable for tests.
    """

    def __init__(self, base_url: str, *, store: CredentialStore | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 retry: RetryPolicy | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.store: CredentialStore = store if store is not None else MemoryStore()
        self.retry = retry or RetryPolicy()
        timeout = httpx.Timeout(self.retry.read_timeout_s, connect=self.retry.connect_timeout_s)
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout,
                                       headers={"User-Agent": "Edgeplay/0.1"})
        self._req = Requester(self._http, self.retry, sleep, rng or random.Random())
        self._tokens = TokenKeeper(self.store, self._req, clock)
        self._format_fallbacks: set[str] = set()
        """Titles whose DASH fallback to HLS was logged (once each)."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ControlPlaneClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    # --- state ---------------------------------------------------------------------------------

    @property
    def last_server_time(self) -> float | None:
        """``X-Server-Time`` of the latest answer (Unix seconds), for clock-rollback checks."""
        return self._req.last_server_time

    @property
    def credentials(self) -> Credentials | None:
        """The session, read from the store once (a keyring read is a D-Bus round trip)."""
        return self._tokens.credentials

    def _save(self, creds: Credentials) -> None:
        self._tokens.save(creds)

    @property
    def signed_in(self) -> bool:
        creds = self.credentials
        return creds is not None and bool(creds.refresh_token)

    def _keep(self, tokens: Tokens) -> Tokens:
        return self._tokens.keep(tokens)

    # --- plumbing ------------------------------------------------------------------------------

    def set_base_url(self, base_url: str) -> None:
        """Talk to the control plane at a new address from now on (a bundled control plane
        restarted on its state folder listens on a new port; the session stays valid)."""
        self.base_url = base_url.rstrip("/")

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + path_or_url

    def _ours(self, url: str) -> bool:
        return url == self.base_url or url.startswith(self.base_url + "/")

    async def _send(self, method: str, path_or_url: str, *, json: Any = None,
                    params: Mapping[str, str] | None = None, auth: bool = True,
                    idempotent: bool | None = None) -> httpx.Response:
        url = self.url(path_or_url)
        if auth and not self._ours(url):
            raise ValueError(f"refusing to send the bearer token outside {self.base_url}: {url}")
        token = self._tokens.access_token() if auth else None
        response = await self._req.send(method, url, json=json, params=params,
                                        headers=self._auth(token), idempotent=idempotent)
        if auth and response.status_code == 401 and self._code(response) in _REFRESHABLE:
            log.info("%s: %s, refreshing the access token once", label(method, url),
                     self._code(response))
            token = await self._tokens.refresh(token, self.url("/v1/auth/refresh"))
            response = await self._req.send(method, url, json=json, params=params,
                                            headers=self._auth(token), idempotent=idempotent)
        if response.is_success:
            return response
        raise error_for(response, method)

    @staticmethod
    def _auth(token: str | None) -> dict[str, str] | None:
        return None if token is None else {"Authorization": f"Bearer {token}"}

    @staticmethod
    def _code(response: httpx.Response) -> str | None:
        header = response.headers.get("www-authenticate", "")
        for code in _REFRESHABLE:
            if f'error="{code}"' in header:
                return code
        return server_error_body(response)[0]

    async def _json(self, method: str, path: str, **kw: Any) -> JSON:
        response = await self._send(method, path, **kw)
        try:
            body = response.json()
        except ValueError as exc:
            raise ServerError("The server sent an answer that is not JSON.",
                              status=response.status_code, request=label(method, path)) from exc
        if not isinstance(body, dict):
            raise ServerError("The server sent JSON that is not an object.",
                              status=response.status_code, request=label(method, path))
        return body

    # --- accounts and devices ------------------------------------------------------------------

    async def create_account(self, email: str, password: str, *, plan: str | None = None,
                             region: str | None = None) -> JSON:
        body: JSON = {"email": email, "password": password}
        if plan is not None:
            body["plan"] = plan
        if region is not None:
            body["region"] = region
        return await self._json("POST", "/v1/accounts", json=body, auth=False, idempotent=False)

    async def register_device(self, email: str, password: str, name: str, *,
                              platform: str | None = None, region: str | None = None,
                              public_key: bytes | None = None, create_account: bool = False,
                              plan: str | None = None) -> Tokens:
        """Register this device (creating the account first when asked) and keep its tokens."""
        if create_account:
            try:
                await self.create_account(email, password, plan=plan, region=region)
            except ConflictError as exc:
                if exc.server_code != "account_exists":
                    raise
                log.info("account exists: registering the device with the given password")
        body: JSON = {"email": email, "password": password, "name": name}
        if platform is not None:
            body["platform"] = platform
        if region is not None:
            body["region"] = region
        if public_key is not None:
            body["public_key"] = base64.b64encode(public_key).decode("ascii")
        raw = await self._json("POST", "/v1/devices", json=body, auth=False, idempotent=False)
        return self._keep(Tokens.parse(raw, "POST /v1/devices"))

    async def login(self, email: str, password: str, device_id: str | None = None) -> Tokens:
        """Sign this (already registered) device in again; ``device_id`` defaults to the stored."""
        creds = self.credentials
        device = device_id or (creds.device_id if creds else None)
        if not device:
            raise AuthError("This device is not registered yet. Please sign in.")
        raw = await self._json("POST", "/v1/auth/login", auth=False, idempotent=False,
                               json={"email": email, "password": password, "device_id": device})
        return self._keep(Tokens.parse(raw, "POST /v1/auth/login"))

    async def logout(self) -> None:
        """Revoke the device's tokens on the server (best effort) and forget them here."""
        try:
            await self._send("POST", "/v1/auth/logout", idempotent=True)
        except PlayerError as exc:
            log.info("logout on the server failed (%s); forgetting the tokens anyway", exc.code)
        creds = self.credentials
        if creds is not None:
            self._save(Credentials(creds.device_id, "", "", creds.account_id))

    async def me(self) -> JSON:
        return await self._json("GET", "/v1/me")

    # --- profiles and catalog ------------------------------------------------------------------

    async def profiles(self) -> list[JSON]:
        return list((await self._json("GET", "/v1/profiles")).get("profiles", []))

    async def create_profile(self, name: str, *, avatar_color: str | None = None,
                             kids: bool = False) -> JSON:
        body: JSON = {"name": name, "kids": kids}
        if avatar_color is not None:
            body["avatar_color"] = avatar_color
        return await self._json("POST", "/v1/profiles", json=body, idempotent=False)

    async def update_profile(self, profile_id: str, *, name: str | None = None,
                             avatar_color: str | None = None, kids: bool | None = None) -> JSON:
        """``PATCH /v1/profiles/{id}`` with the fields given; returns the profile."""
        body: JSON = {key: value for key, value in
                      (("name", name), ("avatar_color", avatar_color), ("kids", kids))
                      if value is not None}
        return await self._json("PATCH", f"/v1/profiles/{quote(profile_id, safe='')}",
                                json=body, idempotent=True)

    async def delete_profile(self, profile_id: str) -> JSON:
        """``DELETE /v1/profiles/{id}`` (and its progress); ``ConflictError`` with
        ``server_code`` ``last_profile`` for the account's last one."""
        return await self._json("DELETE", f"/v1/profiles/{quote(profile_id, safe='')}",
                                idempotent=True)

    async def rows(self, profile_id: str) -> list[JSON]:
        raw = await self._json("GET", "/v1/catalog/rows", params={"profile_id": profile_id})
        return list(raw.get("rows", []))

    async def titles(self, profile_id: str) -> list[JSON]:
        raw = await self._json("GET", "/v1/catalog/titles", params={"profile_id": profile_id})
        return list(raw.get("titles", []))

    async def title(self, title_id: str, profile_id: str) -> JSON:
        return await self._json("GET", f"/v1/catalog/titles/{quote(title_id, safe='')}",
                                params={"profile_id": profile_id})

    async def search(self, query: str, profile_id: str) -> list[JSON]:
        raw = await self._json("GET", "/v1/catalog/search",
                               params={"q": query, "profile_id": profile_id})
        return list(raw.get("results", []))

    # --- playback ------------------------------------------------------------------------------

    async def start_playback(self, title_id: str, profile_id: str,
                             format: str = "hls") -> Playback:
        """A new playback session; refusals raise :class:`EntitlementError` with the reason.
        ``format``: ``hls`` (default) or ``dash``; a title the control plane has no DASH
        manifest for (``format_unavailable``) falls back to HLS, logged once per title
        (:attr:`Playback.format` says what was served)."""
        if format not in STREAM_FORMATS:
            raise ValueError(f"stream format {format!r} is not one of {', '.join(STREAM_FORMATS)}")
        body: dict[str, str] = {"title_id": title_id, "profile_id": profile_id}
        if format != "hls":
            body["format"] = format
        try:
            raw = await self._json("POST", "/v1/playback", idempotent=False, json=body)
        except PlayerError as exc:
            if format == "hls" or exc.server_code != "format_unavailable":
                raise
            if title_id not in self._format_fallbacks:
                self._format_fallbacks.add(title_id)
                log.info("stream format %s unavailable for %s, playing HLS: %s", format,
                         title_id, exc.message)
            raw = await self._json("POST", "/v1/playback", idempotent=False,
                                   json={"title_id": title_id, "profile_id": profile_id})
        return replace(Playback.parse(raw, "POST /v1/playback"), requested_format=format)

    async def fetch_text(self, url: str) -> str:
        """A playlist by absolute URL, without the bearer token (the URL is the capability)."""
        response = await self._send("GET", url, auth=False)
        return response.text

    async def fetch_json(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        """A JSON document by absolute URL (the steering manifest), without the bearer token."""
        response = await self._send("GET", url, params=params, auth=False)
        try:
            return response.json()
        except ValueError as exc:
            raise ManifestError(f"{label('GET', url)} did not answer JSON.",
                                request=label("GET", url)) from exc

    async def streaming_key(self, license_url: str) -> bytes:
        """The 16-byte AES-128 key of EXT-X-KEY; any refusal is :class:`LicenseError`."""
        what = label("GET", license_url)
        try:
            response = await self._send("GET", license_url)
        except (AuthError, EntitlementError) as exc:
            raise LicenseError(f"The decryption key was refused: {exc.message}",
                               server_code=exc.server_code or exc.code, status=exc.status,
                               request=what) from exc
        key = response.content
        if len(key) != AES128_KEY_BYTES:
            raise LicenseError(
                f"The decryption key is {len(key)} bytes long, not {AES128_KEY_BYTES}.",
                status=response.status_code, request=what)
        return key

    def owns(self, url: str) -> bool:
        """Whether ``url`` is this control plane's (the bearer token may go there)."""
        return self._ours(self.url(url))

    async def clearkey_licence(self, licence_url: str, body: bytes) -> bytes:
        """POST an EME ClearKey licence request (JSON ``body``) with the bearer token; the
        answer's body (keys: never logged). Any refusal is :class:`LicenseError`."""
        what = label("POST", licence_url)
        try:
            request = json.loads(body)
            response = await self._send("POST", licence_url, json=request, idempotent=True)
        except ValueError as exc:
            raise LicenseError(f"The ClearKey licence request is not JSON ({exc}).",
                               request=what) from None
        except (AuthError, EntitlementError) as exc:
            raise LicenseError(f"The decryption key was refused: {exc.message}",
                               server_code=exc.server_code or exc.code, status=exc.status,
                               request=what) from exc
        return response.content

    # --- offline licenses (raw JSON; offline/ verifies them) ------------------------------------

    async def issue_offline_license(self, title_id: str, profile_id: str) -> JSON:
        return await self._json("POST", "/v1/licenses/offline", idempotent=False,
                                json={"title_id": title_id, "profile_id": profile_id})

    async def renew_offline_license(self, license_id: str,
                                    first_played_at: float | None = None) -> JSON:
        body: JSON = {} if first_played_at is None else {"first_played_at": first_played_at}
        return await self._json("POST", f"/v1/licenses/offline/{quote(license_id, safe='')}/renew",
                                json=body, idempotent=True)

    async def report_first_play(self, license_id: str, first_played_at: float) -> JSON:
        """The first offline play of a license: the server keeps the earliest, re-signs."""
        return await self._json(
            "POST", f"/v1/licenses/offline/{quote(license_id, safe='')}/first-play",
            json={"first_played_at": first_played_at}, idempotent=True)

    async def release_offline_license(self, license_id: str) -> JSON:
        return await self._json(
            "POST", f"/v1/licenses/offline/{quote(license_id, safe='')}/release", idempotent=True)

    async def offline_licenses(self) -> JSON:
        return await self._json("GET", "/v1/licenses/offline")

    async def license_public_key(self) -> JSON:
        return await self._json("GET", "/v1/licenses/public-key", auth=False)

    # --- progress and telemetry ----------------------------------------------------------------

    def _progress_path(self, profile_id: str, title_id: str | None = None) -> str:
        path = f"/v1/profiles/{quote(profile_id, safe='')}/progress"
        return path if title_id is None else f"{path}/{quote(title_id, safe='')}"

    async def put_progress(self, profile_id: str, title_id: str, *, position_s: float,
                           event_time_ms: int, duration_s: float | None = None,
                           device_id: str | None = None) -> JSON:
        body: JSON = {"position_s": position_s, "event_time_ms": event_time_ms}
        if duration_s is not None:
            body["duration_s"] = duration_s
        device = device_id or (self.credentials.device_id if self.credentials else None)
        if device:
            body["device_id"] = device
        return await self._json("PUT", self._progress_path(profile_id, title_id), json=body)

    async def mark_watched(self, profile_id: str, title_id: str, *, watched: bool,
                           event_time_ms: int) -> JSON:
        return await self._json("POST", self._progress_path(profile_id, title_id) + "/watched",
                                json={"watched": watched, "event_time_ms": event_time_ms},
                                idempotent=True)

    async def progress_batch(self, items: Sequence[JSON]) -> list[JSON]:
        raw = await self._json("POST", "/v1/progress/batch", json={"items": list(items)},
                               idempotent=True)
        return list(raw.get("results", []))

    async def progress_list(self, profile_id: str) -> list[JSON]:
        return list((await self._json("GET", self._progress_path(profile_id))).get("items", []))

    async def progress(self, profile_id: str, title_id: str) -> JSON:
        return await self._json("GET", self._progress_path(profile_id, title_id))

    async def post_telemetry(self, events: Sequence[JSON]) -> int:
        """Send events (not retried after the server may have them: duplicates skew QoE)."""
        raw = await self._json("POST", "/v1/telemetry", json={"events": list(events)},
                               idempotent=False)
        return int(raw.get("accepted", 0))
