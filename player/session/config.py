"""``SessionConfig`` (a session's tunables) and the TLS context every session shares."""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass, field

import httpx

from abr.config import HysteresisConfig
from player.edgepool import EdgePoolConfig
from player.failover import FetchConfig
from player.scheduler_config import SchedulerConfig
from player.telemetry import TelemetryConfig


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context every session's HTTP client shares: building one (the CA bundle) takes
    ~20 ms, which would otherwise land on every time to first frame. Call it early (e.g. when
    the app starts) to take even the first session's cost off the play path."""
    return httpx.create_ssl_context()  # httpx's own default: certifi, or SSL_CERT_FILE/DIR


@dataclass(frozen=True)
class SessionConfig:
    start_over: bool = False
    """Start at 0 instead of the control plane's resume position. Default False."""
    max_rung: int | None = None
    """Highest rung the ABR may pick (index, 0 = lowest); None: no cap. Default None."""
    initial_estimate_bps: float | None = None
    """Throughput persisted from the last session, bit/s; None: the policy's default."""
    abr: HysteresisConfig = field(default_factory=HysteresisConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    edges: EdgePoolConfig = field(default_factory=lambda: EdgePoolConfig(probe_bytes=65536))
    """Edge pool tunables; probes run after the first frame, 64 KiB per edge (3 × 256 KiB
    take over a second of a 5 Mbit/s link)."""
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    post_telemetry: bool = True
    """Send events to the control plane (``POST /v1/telemetry``). Default True."""
    start_max_rung: int | None = 0
    """Rung of the first segment when the start is blind (the session's own policy and no
    ``initial_estimate_bps``): its whole download is on the time to first frame, so the lowest
    rung by default; the policy (``HysteresisConfig.blind_start_rung``) climbs from the first
    download, which is its probe. None: the policy's default estimate. Default 0."""
    first_frame_timeout_s: float = 20.0
    """play() gives up when mpv shows nothing for this long, seconds. Default 20."""
    steering_check_s: float = 1.0
    """How often the steering task looks at the TTL and ``pool.degraded``, seconds. Default 1."""
    degraded_reload_min_s: float = 3.0
    """Least time between two early steering reloads while the pool is degraded, s. Default 3."""
    progress_interval_s: float | None = 10.0
    """Write the position to the control plane this often while playing (and on pause, seek and
    stop), seconds; None: never. Default 10."""
    hold_readahead_until_first_frame: bool = True
    """Until the first frame, fetch at most one segment past the one mpv is reading, at no more
    than the start rung (when capped): a full-rate read-ahead download would slow mpv's start
    on two cores. The ABR climbs from the first frame on. Default True."""
    warm_edge: bool = True
    """Open the connection to the default pathway's edge (``GET /health``, from the playback
    answer's ``pathways``) while the multivariant playlist is fetched (only when the playback
    answer does not carry it inline: otherwise the timeline's request opens it at once).
    Default True."""
    clear_keys: tuple[tuple[bytes, bytes], ...] = ()
    """CENC content keys known up front, (KID, key) pairs of 16 bytes (``--key KID:KEY``); tried
    before any ClearKey licence URL. Default none."""
    stream_format: str = "hls"
    """What ``POST /v1/playback`` asks for: ``hls`` or ``dash`` (the same CMAF segments
    described by an MPD); a title without DASH plays HLS (logged once). No effect on a plain
    URL, whose content decides. Default ``hls``."""
    stop_timeout_s: float = 3.0
    """How long stop() waits for mpv to acknowledge, seconds. Default 3."""
    error_play_out_s: float = 10.0
    """When the stream dies mid-play (every edge down, the key refused), mpv first plays out
    what it already holds (~2 s of read-ahead and the segment under way), then the error shows;
    it is stopped after this long if it has not ended by itself (paused). Seconds, default 10."""
