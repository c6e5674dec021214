"""The ClearKey licence URL an MPD names (docs/engine.md, *DASH*): a ContentProtection's
``dashif:laurl`` (DASH-IF) or ``clearkey:Laurl`` (the older ClearKey namespace) child, which
``mpegdash``'s nodes drop, read from the parsed XML instead."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urljoin
from xml.dom import minidom

from player.presentation import ContentProtection

CLEARKEY_SCHEME = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
"""The W3C ClearKey system's ContentProtection ``schemeIdUri``."""
LAURL_NAMES = ("laurl", "Laurl")
"""Local names of the licence URL element (any namespace prefix)."""


def licence_urls(root: minidom.Document, url: str) -> tuple[str, ...]:
    """The ClearKey licence URLs of the MPD's ContentProtection elements, in document order,
    resolved against the MPD's ``url``; anything but ``http(s):``, ``data:`` or a relative
    reference is left out."""
    out: list[str] = []
    for cp in root.getElementsByTagNameNS("*", "ContentProtection"):
        for child in cp.childNodes:
            if child.nodeType == child.ELEMENT_NODE and child.localName in LAURL_NAMES:
                text = "".join(n.data for n in child.childNodes
                               if n.nodeType in (n.TEXT_NODE, n.CDATA_SECTION_NODE)).strip()
                if text.startswith(("http://", "https://", "data:")) or (
                        text and ":" not in text.split("/")[0]):
                    out.append(text if text.startswith("data:") else urljoin(url, text))
    return tuple(dict.fromkeys(out))


def with_licence_url(protection: tuple[ContentProtection, ...],
                     laurls: tuple[str, ...]) -> tuple[ContentProtection, ...]:
    """``protection`` with the first licence URL on the ClearKey descriptor (else the first
    descriptor); unchanged without one."""
    if not laurls or not protection:
        return protection
    at = next((i for i, c in enumerate(protection)
               if c.scheme_id_uri.lower() == CLEARKEY_SCHEME), 0)
    return (*protection[:at], replace(protection[at], licence_url=laurls[0]),
            *protection[at + 1:])
