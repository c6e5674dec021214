"""The services every handler shares, reachable as ``request.app[BACKEND]``."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from controlplane.catalog import Catalog
from controlplane.clock import Clock
from controlplane.config import Policy
from controlplane.health import EdgeHealth
from controlplane.keys import ServerKeys
from controlplane.signing import UrlSigner

if TYPE_CHECKING:
    from controlplane.edge import EdgeFleet


@dataclass
class Backend:
    catalog: Catalog
    db: sqlite3.Connection
    policy: Policy
    clock: Clock
    signer: UrlSigner
    keys: ServerKeys
    health: EdgeHealth = field(default_factory=EdgeHealth)
    fleet: EdgeFleet | None = None
    base_url: str = ""
    art_tags: dict[tuple[str, str], str] = field(default_factory=dict)
    """(title id, kind) → the art's version tag (see :meth:`art_url`), stat'ed once."""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def key_uri(self, title_id: str) -> str:
        """What a title's key lines name: the ClearKey licence endpoint (CENC titles) or the
        title's AES-128 key."""
        title = self.catalog.titles.get(title_id)
        if title is not None and title.cenc:
            return self.url(CLEARKEY_PATH)
        return self.url(f"/v1/licenses/streaming/{title_id}")

    def art_url(self, title_id: str, kind: str) -> str:
        """The art's URL, with a tag that changes when the picture does (a catalog whose art
        was redrawn): clients cache art by URL, so they fetch the new one."""
        key = (title_id, kind)
        tag = self.art_tags.get(key)
        if tag is None:
            try:
                st = (self.catalog.title_dir(title_id) / f"{kind}.jpg").stat()
                tag = hashlib.sha1(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:10]
            except OSError:
                tag = "0"
            self.art_tags[key] = tag
        return self.url(f"/v1/art/{title_id}/{kind}.jpg?v={tag}")


CLEARKEY_PATH = "/v1/licenses/clearkey"
"""The W3C ClearKey licence endpoint (:mod:`controlplane.api.clearkey`)."""

BACKEND = web.AppKey("backend", Backend)
