"""What an edge serves: health, the throughput probe and signed media, as :class:`Reply` values.

Faults, pacing and logging are applied afterwards by :mod:`controlplane.edge.handler`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from controlplane.catalog import KEY_URI_PLACEHOLDER, Catalog
from controlplane.edge.body import BytesSource, FileSource, Source
from controlplane.edge.paths import (
    CONTENT_TYPES,
    MEDIA_PREFIX,
    SEGMENT_SUFFIXES,
    BadPath,
    NotServable,
    resolve_media_file,
    split_media_path,
)
from controlplane.edge.ranges import RangeNotSatisfiable, parse_range
from controlplane.edge.responses import Reply, error_reply, json_reply
from controlplane.signing import TokenCheck, UrlSigner

PROBE_DEFAULT_BYTES = 64 * 1024
PROBE_MAX_BYTES = 4 * 1024 * 1024
"""The probe answers at most 4 MiB (larger asks are capped)."""

_TOKEN_MESSAGES = {
    TokenCheck.MALFORMED: "the URL token is malformed",
    TokenCheck.BAD_SIGNATURE: "the URL signature does not match this title",
    TokenCheck.EXPIRED: "the signed URL has expired; ask the control plane for a fresh one",
}


class ContentRoutes:
    def __init__(
        self,
        name: str,
        catalog: Catalog,
        signer: UrlSigner,
        key_uri: Callable[[str], str],
        cached_titles: frozenset[str],
    ) -> None:
        self._name = name
        self._catalog = catalog
        self._signer = signer
        self._key_uri = key_uri
        self._cached = cached_titles
        self._probe_data: bytes | None = None

    def route(
        self, method: str, raw_path: str, query: Mapping[str, str], range_header: str | None
    ) -> Reply:
        """Answer ``method raw_path`` (raw target without its query string)."""
        known = raw_path in ("/health", "/v1/probe") or raw_path.startswith(MEDIA_PREFIX)
        if not known:
            return error_reply(404, "not_found", f"no route for {raw_path[:100]}")
        if method not in ("GET", "HEAD"):
            return error_reply(
                405, "method_not_allowed", f"{method} is not allowed here", {"Allow": "GET, HEAD"}
            )
        if raw_path == "/health":
            return json_reply(200, {"name": self._name, "status": "ok"})
        if raw_path == "/v1/probe":
            return self.probe(query.get("bytes"))
        return self.media(raw_path, range_header)

    def probe(self, requested: str | None) -> Reply:
        """Incompressible bytes for the client's throughput probe; never cached."""
        if requested is None:
            nbytes = PROBE_DEFAULT_BYTES
        elif requested.isdigit():
            nbytes = min(int(requested), PROBE_MAX_BYTES)
        else:
            return error_reply(400, "bad_request", "bytes must be a whole number >= 0")
        if self._probe_data is None:
            self._probe_data = os.urandom(PROBE_MAX_BYTES)
        source = BytesSource(self._probe_data[:nbytes])
        return Reply(200, "application/octet-stream", source, {"Cache-Control": "no-store"})

    def media(self, raw_path: str, range_header: str | None) -> Reply:
        try:
            media = split_media_path(raw_path)
        except BadPath as exc:
            return error_reply(400, "bad_path", str(exc))
        check = self._signer.check(media.token, media.title_id)
        if check is not TokenCheck.OK:
            return error_reply(403, check.value, _TOKEN_MESSAGES[check])
        if media.title_id not in self._catalog.titles:
            return error_reply(404, "unknown_title", f"no title {media.title_id!r}")
        try:
            path = resolve_media_file(self._catalog.title_dir(media.title_id), media)
        except NotServable as exc:
            return error_reply(404, "not_found", str(exc))
        source: Source
        if media.suffix == ".m3u8":
            text = path.read_bytes()
            key_uri = self._key_uri(media.title_id).encode()
            source = BytesSource(text.replace(KEY_URI_PLACEHOLDER.encode(), key_uri))
        else:
            source = FileSource(path)
        try:
            byte_range = parse_range(range_header, source.size)
        except RangeNotSatisfiable:
            source.close()
            return error_reply(
                416,
                "range_not_satisfiable",
                f"the range {range_header!r} misses the {source.size}-byte body",
                {"Content-Range": f"bytes */{source.size}"},
            )
        headers = {"Accept-Ranges": "bytes"}
        if byte_range is not None:
            headers["Content-Range"] = byte_range.content_range(source.size)
        return Reply(
            206 if byte_range else 200,
            CONTENT_TYPES[media.suffix],
            source,
            headers,
            cache="HIT" if media.title_id in self._cached else "MISS",
            byte_range=byte_range,
            is_ts=media.suffix in SEGMENT_SUFFIXES,
        )
