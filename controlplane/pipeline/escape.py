"""Quoting values for an ffmpeg filtergraph (``-filter_complex``).

A value passes two parsers: the filter's option parser (``:`` separates options, ``\\`` and ``'``
escape) and the graph parser (``,`` ``;`` ``[`` ``]`` separate filters and labels). Escaping
each level in turn makes any text or path safe, including Windows paths with a drive colon.
"""

from __future__ import annotations

import re

_OPTION_SPECIALS = re.compile(r"([\\':])")
_GRAPH_SPECIALS = re.compile(r"([\\'\[\],;])")


def filter_value(value: str) -> str:
    """``value`` escaped for use as ``option=value`` inside a filtergraph."""
    return _GRAPH_SPECIALS.sub(r"\\\1", _OPTION_SPECIALS.sub(r"\\\1", value))


def drawtext_literal(text: str) -> str:
    """Plain text for drawtext's ``text=`` (with ``expansion=none``), escaped for the graph."""
    return filter_value(text)


def filter_path(path: str) -> str:
    """A file path for a filter option (``fontfile=``, ``movie=``), forward slashes everywhere."""
    return filter_value(path.replace("\\", "/"))
