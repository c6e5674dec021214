"""What one headless run was asked for (:class:`HeadlessOptions`) and the engine settings it gives.

A new option of ``edgeplay play`` is a field here, its argument in ``ui/cli.py``, and (when the
engine must know it) one line in :func:`session_config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from player.session import SessionConfig

Mode = Literal["title", "url", "offline"]
"""How the run plays: a catalog title from the control plane, a plain HLS URL, a download."""


@dataclass(frozen=True)
class HeadlessOptions:
    title: str
    control_plane: str | None = None
    catalog: str = "default"
    catalog_dir: str | None = None
    json: bool = False
    duration_s: float | None = None
    start_over: bool = False
    max_rung: int | None = None
    speed: float = 1.0
    verbose: bool = False
    data_dir: str | None = None
    """The app data folder (one per device); None: ``$EDGEPLAY_DATA_DIR`` or platformdirs."""
    sync_only: bool = False
    """``edgeplay sync``: replay the progress outbox and exit."""
    flush_timeout_s: float = 5.0
    """How long the last progress may take to reach the control plane at exit, seconds."""
    prefetch: bool = False
    """Prefetch the start first (what the details page does), then play from it."""
    offline: bool = False
    """``--offline``: play the title's download; no control plane, no network."""
    keys: tuple[tuple[bytes, bytes], ...] = ()
    """``--key KID:KEY``: CENC ClearKey content keys, (KID, key) pairs."""
    audio: str | None = None
    """``--audio LANG``: switch to this audio language once playing (None: the default)."""
    stream_format: str = "hls"
    """``--format``: ``hls`` or ``dash`` asked of the control plane (HLS when unavailable)."""


def is_url(title: str) -> bool:
    """``edgeplay play URL``: a plain HLS URL instead of a title."""
    return title.startswith(("http://", "https://"))


def session_config(options: HeadlessOptions, mode: Mode,
                   initial_estimate_bps: float | None = None) -> SessionConfig:
    """The engine's settings for this run. Only a title from the control plane resumes, starts
    from the last run's throughput estimate and posts telemetry; a download plays as it was
    stored (no rung cap, its own keys)."""
    if mode == "offline":
        return SessionConfig(post_telemetry=False, start_over=options.start_over)
    if mode == "url":
        return SessionConfig(max_rung=options.max_rung, post_telemetry=False,
                             clear_keys=options.keys)
    return SessionConfig(start_over=options.start_over, max_rung=options.max_rung,
                         initial_estimate_bps=initial_estimate_bps, clear_keys=options.keys,
                         stream_format=options.stream_format)
