"""Which files a media URL may reach: strict names inside ``titles/{id}/``, six file kinds.

The edge works on the raw request target, before any percent-decoding or dot-segment removal, and
refuses anything a legitimate URL never contains: percent escapes, backslashes, NUL, empty or
dot-leading components (so ``.``, ``..`` and hidden files). Only ``.m3u8``, ``.ts``, ``.mp4`` (CMAF
init segments), ``.m4s`` (CMAF media segments), ``.vtt`` and ``.jpg`` files are served;
``key.bin`` never is. A resolved path must still lie inside the title's
folder (no symlink escapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MEDIA_PREFIX = "/v1/media/"
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp4": "video/mp4",
    ".m4s": "video/iso.segment",
    ".vtt": "text/vtt",
    ".jpg": "image/jpeg",
}
SEGMENT_SUFFIXES = (".ts", ".m4s")
"""Media segments (MPEG-TS, CMAF): what the ``"segments"`` fault scope and corruption touch."""
_COMPONENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z", re.ASCII)
_MAX_COMPONENT_CHARS = 200


class BadPath(Exception):
    """The URL path is malformed or tries to leave its folder (400)."""


class NotServable(Exception):
    """The path is well-formed but names nothing the edge serves (404)."""


@dataclass(frozen=True)
class MediaPath:
    token: str
    title_id: str
    parts: tuple[str, ...]

    @property
    def suffix(self) -> str:
        return Path(self.parts[-1]).suffix.lower()


def split_media_path(raw_path: str) -> MediaPath:
    """Split a raw ``/v1/media/{token}/{title_id}/{path}`` target (query already removed)."""
    if not raw_path.startswith(MEDIA_PREFIX):
        raise BadPath("not a media path")
    tail = raw_path[len(MEDIA_PREFIX) :]
    for bad, what in (("%", "percent escapes"), ("\\", "backslashes"), ("\x00", "NUL bytes")):
        if bad in tail:
            raise BadPath(f"media paths may not contain {what}")
    parts = tail.split("/")
    if len(parts) < 3:
        raise BadPath("expected /v1/media/{token}/{title_id}/{path}")
    for part in parts:
        if len(part) > _MAX_COMPONENT_CHARS or not _COMPONENT.match(part):
            raise BadPath(f"invalid path component {part[:40]!r}")
    return MediaPath(token=parts[0], title_id=parts[1], parts=tuple(parts[2:]))


def resolve_media_file(title_dir: Path, media: MediaPath) -> Path:
    """The file to serve, inside ``title_dir``; raise :class:`NotServable` otherwise."""
    if media.suffix not in CONTENT_TYPES:
        raise NotServable(f"{'/'.join(media.parts)} is not a servable file")
    root = title_dir.resolve()
    target = root.joinpath(*media.parts).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotServable(f"{'/'.join(media.parts)} does not exist")
    return target
