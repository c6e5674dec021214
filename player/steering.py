"""HLS Content Steering (draft-pantos-hls-rfc8216bis §7): the manifest and its reload schedule.

``parse_steering`` validates one steering manifest; ``SteeringClient`` fetches it (adding
``_HLS_pathway`` and ``_HLS_throughput``), follows RELOAD-URI, and says when the next reload is
due by its TTL. A failed reload keeps the last good manifest and tries again after the TTL; an
answer of 410 Gone turns steering off for the session, as the spec says.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from player.errors import ManifestError, NotFoundError

log = logging.getLogger("net")

STEERING_VERSION = 1
_PATHWAY_ID = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class SteeringManifest:
    version: int
    ttl_s: float
    """Seconds until the client should reload (the manifest's TTL)."""
    reload_uri: str | None
    """Absolute URI of the next reload; None: reload the same URI."""
    pathway_priority: tuple[str, ...]
    """Pathway ids, most preferred first."""


def parse_steering(data: str | bytes | Mapping[str, Any], uri: str) -> SteeringManifest:
    """Validate a steering manifest fetched from ``uri`` (RELOAD-URI resolves against it)."""
    raw: Any = data
    if isinstance(data, str | bytes):
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise ManifestError(f"The steering manifest is not JSON ({exc}).") from None
    if not isinstance(raw, Mapping):
        raise ManifestError("The steering manifest is not a JSON object.")
    version = raw.get("VERSION")
    if version != STEERING_VERSION or isinstance(version, bool):
        raise ManifestError(f"The steering manifest has VERSION {version!r}; only "
                            f"{STEERING_VERSION} is supported.")
    ttl = raw.get("TTL")
    if not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl <= 0:
        raise ManifestError(f"The steering manifest's TTL must be a positive number of seconds, "
                            f"not {ttl!r}.")
    reload_uri = raw.get("RELOAD-URI")
    if reload_uri is not None and (not isinstance(reload_uri, str) or not reload_uri):
        raise ManifestError("The steering manifest's RELOAD-URI must be a non-empty string.")
    priority = raw.get("PATHWAY-PRIORITY")
    if not isinstance(priority, list) or not priority:
        raise ManifestError("The steering manifest's PATHWAY-PRIORITY must be a non-empty list.")
    for pathway in priority:
        if not isinstance(pathway, str) or not _PATHWAY_ID.match(pathway):
            raise ManifestError(f"The steering manifest names an invalid pathway {pathway!r}.")
    if len(set(priority)) != len(priority):
        raise ManifestError("The steering manifest lists a pathway twice in PATHWAY-PRIORITY.")
    return SteeringManifest(version, float(ttl),
                            urljoin(uri, reload_uri) if reload_uri else None, tuple(priority))


def with_steering_params(uri: str, pathway: str | None, throughput_bps: float | None) -> str:
    """``uri`` with ``_HLS_pathway`` and ``_HLS_throughput`` set (replacing any already there)."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in ("_HLS_pathway", "_HLS_throughput")]
    if pathway is not None:
        query.append(("_HLS_pathway", pathway))
    if throughput_bps is not None and throughput_bps > 0:
        query.append(("_HLS_throughput", str(int(throughput_bps))))
    return urlunsplit(parts._replace(query=urlencode(query)))


FetchJson = Callable[[str], Awaitable[Any]]
"""Fetch a URL and return its JSON (``ControlPlaneClient.fetch_json``)."""


class SteeringClient:
    """``SteeringClient(server_uri, fetch_json, clock=time.monotonic)``; ``await reload(...)``."""

    def __init__(self, server_uri: str, fetch_json: FetchJson, *, clock: Callable[[], float],
                 retry_after_s: float = 10.0) -> None:
        """``retry_after_s``: seconds to wait before retrying when no TTL is known yet."""
        self.server_uri = server_uri
        self._fetch = fetch_json
        self._clock = clock
        self._retry_after_s = retry_after_s
        self.manifest: SteeringManifest | None = None
        """The last good manifest, or None before the first success."""
        self.next_reload_at: float | None = None
        """Clock time at which a reload is due; None before the first attempt."""
        self.disabled = False
        """True after a 410 Gone: the session keeps its last pathway priority."""

    @property
    def reload_uri(self) -> str:
        if self.manifest is not None and self.manifest.reload_uri:
            return self.manifest.reload_uri
        return self.server_uri

    def reload_due(self) -> bool:
        if self.disabled:
            return False
        return self.next_reload_at is None or self._clock() >= self.next_reload_at

    def seconds_until_reload(self) -> float | None:
        if self.disabled:
            return None
        if self.next_reload_at is None:
            return 0.0
        return max(0.0, self.next_reload_at - self._clock())

    async def reload(self, pathway: str | None = None,
                     throughput_bps: float | None = None) -> SteeringManifest:
        """Fetch now (due or not: an early reload when edges fail is the caller's call)."""
        uri = with_steering_params(self.reload_uri, pathway, throughput_bps)
        ttl_s = self.manifest.ttl_s if self.manifest else self._retry_after_s
        try:
            manifest = parse_steering(await self._fetch(uri), self.reload_uri)
        except NotFoundError as exc:
            self.next_reload_at = self._clock() + ttl_s
            if exc.status == 410:
                self.disabled = True
                log.info("steering server answered 410 Gone: steering off for this session")
            raise
        except Exception:
            self.next_reload_at = self._clock() + ttl_s
            log.warning("steering reload failed: keeping the last priority, retry in %.0f s",
                        ttl_s)
            raise
        self.manifest = manifest
        self.next_reload_at = self._clock() + manifest.ttl_s
        log.info("steering: %s (TTL %.0f s)", ",".join(manifest.pathway_priority),
                 manifest.ttl_s)
        return manifest

    def priority(self, known: Sequence[str]) -> tuple[str, ...]:
        """The manifest's priority restricted to ``known`` pathways (unknown ones dropped)."""
        if self.manifest is None:
            return tuple(known)
        return tuple(p for p in self.manifest.pathway_priority if p in known)
