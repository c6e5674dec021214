"""Policy knobs of the bundled control plane.

Every duration is configurable (``--policy NAME=VALUE`` on the command line) so that tests can
run a thirty-day license in seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    access_token_ttl_s: int = 900
    """Lifetime of an access token, in seconds (default 900)."""
    refresh_token_ttl_s: int = 30 * 86400
    """Lifetime of a refresh token, in seconds (default 30 days). Refreshing rotates it."""
    signed_url_ttl_s: int = 600
    """Lifetime of a signed edge URL, in seconds (default 600)."""
    offline_license_ttl_s: int = 30 * 86400
    """Absolute expiry of an offline license after issue or renewal, in seconds (default 30 d)."""
    offline_playback_window_s: int = 48 * 3600
    """How long an offline title stays playable after its first play, in seconds (default 48 h)."""
    download_limit: int = 5
    """Offline licenses an account may hold at once (default 5)."""
    steering_ttl_s: int = 10
    """TTL of a steering manifest, in seconds (default 10)."""
    health_interval_s: float = 1.0
    """How often the control plane checks each edge, in seconds (default 1.0)."""
    health_timeout_s: float = 0.5
    """How long an edge health check may take before it counts as failed (default 0.5 s)."""
    health_failures_to_down: int = 2
    """Consecutive failed checks before an edge is ranked last (default 2)."""
    max_profiles: int = 5
    """Profiles per account (default 5)."""
    watched_fraction: float = 0.95
    """A position past this fraction of the duration marks the title watched (default 0.95)."""
    device_code_ttl_s: int = 600
    """How long a TV's sign-in code (device-code pairing) can be confirmed, in s (default 600)."""
    device_code_interval_s: int = 5
    """Least time between two polls of one pairing, in seconds (default 5); polling faster is
    answered ``slow_down`` and adds 5 s to the interval (RFC 8628 section 3.5)."""


def policy_with_overrides(overrides: list[str]) -> Policy:
    """Apply ``NAME=VALUE`` strings to the default policy; ValueError names a bad one."""
    fields = {f.name: f for f in dataclasses.fields(Policy)}
    values: dict[str, object] = {}
    for item in overrides:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in fields:
            known = ", ".join(sorted(fields))
            raise ValueError(f"unknown policy {item!r}; known: {known}")
        kind = fields[name].type
        try:
            values[name] = float(text) if kind == "float" else int(text)
        except ValueError as exc:
            raise ValueError(f"policy {name} needs a number, got {text!r}") from exc
    return dataclasses.replace(Policy(), **values)  # type: ignore[arg-type]
