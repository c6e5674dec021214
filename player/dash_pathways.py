"""DASH BaseURLs as pathways: several BaseURLs at the MPD or Period level are one pathway each
(the edge pool fails over between them), named by ``serviceLocation`` or the host; inner levels
join onto them (relative references per RFC 3986, an absolute one replacing what is above)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from player.dash_model import join_url
from player.errors import ManifestError
from player.presentation import DEFAULT_PATHWAY

log = logging.getLogger("player.dash")


class Pathways:
    """BaseURLs → pathways: a level with as many BaseURLs as there are pathways gives each
    its own; a level with one gives it to all."""

    def __init__(self, mpd: Any, url: str) -> None:
        self.url = url
        levels = [mpd.base_urls or []] + [p.base_urls or [] for p in mpd.periods or []]
        self.count = max([len(level) for level in levels] + [1])
        labels = ["the MPD"] + [f"Period {n + 1}" for n in range(len(levels) - 1)]
        multiple = [(label, len(level)) for label, level in zip(labels, levels, strict=True)
                    if len(level) > 1]
        for label, count in multiple[1:]:
            if count != multiple[0][1]:
                raise ManifestError(f"{label} lists {count} BaseURLs but {multiple[0][0]} lists "
                                    f"{multiple[0][1]}: they must line up, one per pathway.")
        names: list[str] = []
        widest = next((level for level in levels if len(level) == self.count), [])
        for n, base in enumerate(widest):
            joined = join_url(url, base.base_url_value or "", "BaseURL")
            name = base.service_location or urlsplit(joined).netloc or f"base{n}"
            names.append(name if name not in names else f"{name}#{n}")
        self.names = tuple(names) if self.count > 1 else (DEFAULT_PATHWAY,)

    def pick(self, bases: list[object] | None, p: int, where: str,
             outer: bool) -> str | None:
        """The BaseURL of pathway ``p`` at one level (None: the level has none)."""
        if not bases:
            return None
        if outer and len(bases) > 1:  # as many as there are pathways (checked above)
            return getattr(bases[p], "base_url_value", None) or ""
        if len(bases) > 1:
            log.info("%s lists %d BaseURLs: the first one is used", where, len(bases))
        return getattr(bases[0], "base_url_value", None) or ""

    def bases(self, chain: list[tuple[object, bool]], where: str) -> tuple[str, ...]:
        """The base URL on each pathway down ``chain``: (node, whether it is an outer level,
        MPD or Period, whose BaseURLs are the pathways)."""
        out = []
        for p in range(self.count):
            url = self.url
            for node, outer in chain:
                ref = self.pick(getattr(node, "base_urls", None), p, where, outer)
                if ref is not None:
                    url = join_url(url, ref, where)
            out.append(url)
        return tuple(out)
