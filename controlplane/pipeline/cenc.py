"""CENC ``cbcs`` for CMAF titles: the key ID, the packager's key flags and the manifests' halves.

Shaka Packager encrypts the samples itself (raw key, ``--protection_scheme cbcs``), every
segment from the first (``--clear_lead 0``: a title that plays at all proves its key, and no
clear seconds give the start away). The title's 16-byte key is ``key.bin`` as before; its key ID
is derived from the title id (:func:`derive_kid`) and stored in ``catalog.json``
(``cenc_kid``), so titles sharing media share the KID with the key.

The manifests name the key by placeholder, filled at serve time with the control plane's
ClearKey licence URL: the HLS media playlists carry ``#EXT-X-KEY:METHOD=SAMPLE-AES`` with the
W3C ClearKey ``KEYFORMAT`` (:func:`cenc_key_line`), the MPD a ClearKey ``ContentProtection``
with ``dashif:laurl`` and ``clearkey:Laurl`` next to each ``cenc:default_KID``
(:func:`add_clearkey_to_mpd`).
"""

from __future__ import annotations

import hashlib
import re

from controlplane.catalog import KEY_URI_PLACEHOLDER
from controlplane.pipeline.errors import PipelineError

SCHEME = "cbcs"
CLEARKEY_SYSTEM_ID = "e2719d58-a985-b3c9-781a-b030af78d30e"
CLEARKEY_KEYFORMAT = f"urn:uuid:{CLEARKEY_SYSTEM_ID}"
"""W3C ClearKey: the HLS ``KEYFORMAT`` and the DASH ``ContentProtection`` scheme."""
_KID_INFO = b"edgeplay cenc kid v1\0"
_NAMESPACES = ('xmlns:dashif="https://dashif.org/CPS" '
               'xmlns:clearkey="http://dashif.org/guidelines/clearKey"')


def derive_kid(title_id: str) -> bytes:
    """The 16-byte key ID of a title's media: SHA-256 of the title id, cut to a UUID (version 8,
    RFC 9562: a custom hash-based UUID). Stable across regenerations; not secret."""
    kid = bytearray(hashlib.sha256(_KID_INFO + title_id.encode()).digest()[:16])
    kid[6] = (kid[6] & 0x0F) | 0x80
    kid[8] = (kid[8] & 0x3F) | 0x80
    return bytes(kid)


def packager_key_args(kid: bytes, key: bytes) -> list[str]:
    """Shaka Packager's flags for raw-key ``cbcs`` over every stream (one key, no labels)."""
    if len(kid) != 16 or len(key) != 16:
        raise PipelineError("a CENC key ID and key are 16 bytes each")
    return ["--enable_raw_key_encryption", "--keys", f"label=:key_id={kid.hex()}:key={key.hex()}",
            "--protection_scheme", SCHEME, "--clear_lead", "0",
            "--protection_systems", "CommonSystem"]


def cenc_key_line(licence_uri: str = KEY_URI_PLACEHOLDER) -> str:
    """The EXT-X-KEY of a ``cbcs`` media playlist: the ClearKey licence URL as the URI (the
    IV is the constant one of the init segment's ``tenc``)."""
    return (f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="{licence_uri}",'
            f'KEYFORMAT="{CLEARKEY_KEYFORMAT}",KEYFORMATVERSIONS="1"')


_DEFAULT_KID = re.compile(r'(<ContentProtection [^>]*cenc:default_KID="([0-9a-fA-F-]{36})"'
                          r'[^>]*/>)')


def add_clearkey_to_mpd(mpd: str, kid: bytes, licence_uri: str = KEY_URI_PLACEHOLDER) -> str:
    """Shaka Packager's MPD with a ClearKey ``ContentProtection`` (licence URL ``licence_uri``)
    after every ``mp4protection`` one; :class:`PipelineError` if it has none or names another
    KID."""
    kids = {m[2].replace("-", "").lower() for m in _DEFAULT_KID.finditer(mpd)}
    if kids != {kid.hex()}:
        raise PipelineError(f"the packager's MPD names key IDs {sorted(kids)}, not {kid.hex()}")
    clearkey = (f'\n      <ContentProtection schemeIdUri="urn:uuid:{CLEARKEY_SYSTEM_ID}" '
                f'value="ClearKey1.0">\n'
                f'        <dashif:laurl>{licence_uri}</dashif:laurl>\n'
                f'        <clearkey:Laurl Lic_type="EME-1.0">{licence_uri}</clearkey:Laurl>\n'
                f'      </ContentProtection>')
    out = _DEFAULT_KID.sub(lambda m: m[1] + clearkey, mpd)
    return out.replace("<MPD ", f"<MPD {_NAMESPACES} ", 1)
