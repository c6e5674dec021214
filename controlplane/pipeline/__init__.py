"""The content pipeline: generates the bundled catalog with ffmpeg and ingests user videos.

Public API (everything else in this package is private to it)::

    ensure_catalog(profile, cache_dir, progress=None) -> Path   # one of PROFILE_NAMES
    ingest(source, catalog_root, *, name=None, progress=None) -> str
    find_ffmpeg() -> str
    PipelineError

The output format is described in :mod:`controlplane.catalog`; docs/catalog.md has the ladder,
the titles, the measurements and the decisions behind them.
"""

from __future__ import annotations

from controlplane.pipeline.cache import ensure_catalog
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ffmpeg import find_ffmpeg
from controlplane.pipeline.ingest import ingest
from controlplane.pipeline.profiles import PROFILES

PROFILE_NAMES = tuple(PROFILES)
"""``default``, ``test`` (CMAF) and ``default-ts``, ``test-ts`` (MPEG-TS)."""

__all__ = ["PROFILE_NAMES", "PipelineError", "ensure_catalog", "find_ffmpeg", "ingest"]
