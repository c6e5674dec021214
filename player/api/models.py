"""Typed views of the control plane's answers the engine relies on (the rest stays JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from player.errors import ServerError

JSON = dict[str, Any]

STREAM_FORMATS = ("hls", "dash")
"""What ``POST /v1/playback`` may ask for (``format``); ``hls`` is the default."""


def _field(raw: JSON, name: str, kind: type | tuple[type, ...], request: str) -> Any:
    value = raw.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ServerError(f"The server's answer is missing a valid {name!r}.", request=request)
    return value


@dataclass(frozen=True)
class Tokens:
    """``POST /v1/devices``, ``/v1/auth/login`` and ``/v1/auth/refresh`` answers."""

    access_token: str
    refresh_token: str
    expires_in_s: float
    device_id: str
    account_id: str

    @classmethod
    def parse(cls, raw: JSON, request: str) -> Tokens:
        return cls(
            access_token=_field(raw, "access_token", str, request),
            refresh_token=_field(raw, "refresh_token", str, request),
            expires_in_s=float(_field(raw, "expires_in", (int, float), request)),
            device_id=_field(raw, "device_id", str, request),
            account_id=str(raw.get("account_id", "")),
        )


@dataclass(frozen=True)
class Playback:
    """``POST /v1/playback``: where the manifest, steering and key of one session are."""

    session_id: str
    title_id: str
    manifest_url: str
    steering_url: str | None
    license_url: str
    resume_position_s: float
    duration_s: float
    segment_duration_s: float
    pathways: tuple[tuple[str, str], ...]
    """(pathway id, edge base URL) in the server's order."""
    expires_at: float | None
    raw: JSON = field(repr=False, compare=False)
    multivariant_playlist: str | None = field(default=None, repr=False, compare=False)
    """The multivariant playlist inline, as ``manifest_url`` answered at that moment (saves a
    round trip at start-up); None when the server does not send it."""
    segment_durations_s: tuple[float, ...] | None = field(default=None, repr=False,
                                                          compare=False)
    """The title's timeline (seconds per segment, from media sequence 0; the same in every
    rendition): the engine lays out mpv's playlist before it has read a media playlist. None
    when the server does not send it (or sends something that is not a list of positive
    numbers)."""
    drm: str = "aes-128"
    """``clearkey``: CENC, keys from the ClearKey licence endpoint at ``license_url`` (POST,
    bearer token); ``aes-128`` (or not said): ``GET license_url`` is the 16-byte key."""
    format: str = "hls"
    """What ``manifest_url`` is: ``hls`` (a multivariant playlist; also when the server does
    not say) or ``dash`` (an MPD)."""
    requested_format: str = "hls"
    """The format the client asked for; differs from :attr:`format` after a fallback (the
    control plane answered ``format_unavailable`` to ``dash``)."""

    @classmethod
    def plain(cls, url: str, session_id: str = "") -> Playback:
        """A start without a control plane: ``url`` (a multivariant or a media playlist) is
        the manifest; no steering, no license URL (keys come from each EXT-X-KEY URI), no resume
        position and no announced timeline."""
        return cls(session_id=session_id, title_id=url, manifest_url=url, steering_url=None,
                   license_url="", resume_position_s=0.0, duration_s=0.0,
                   segment_duration_s=0.0, pathways=(), expires_at=None, raw={})

    @classmethod
    def parse(cls, raw: JSON, request: str) -> Playback:
        pathways = tuple((str(p["id"]), str(p["url"])) for p in raw.get("pathways") or ()
                         if isinstance(p, dict) and "id" in p and "url" in p)
        steering = raw.get("steering_url")
        expires = raw.get("expires_at")
        return cls(
            session_id=_field(raw, "session_id", str, request),
            title_id=_field(raw, "title_id", str, request),
            manifest_url=_field(raw, "manifest_url", str, request),
            steering_url=steering if isinstance(steering, str) else None,
            license_url=_field(raw, "license_url", str, request),
            resume_position_s=float(raw.get("resume_position_s") or 0.0),
            duration_s=float(raw.get("duration_s") or 0.0),
            segment_duration_s=float(raw.get("segment_duration_s") or 0.0),
            pathways=pathways,
            expires_at=float(expires) if isinstance(expires, int | float) else None,
            raw=raw,
            multivariant_playlist=inline if isinstance(inline := raw.get("multivariant_playlist"),
                                                       str) else None,
            segment_durations_s=_durations(raw.get("segment_durations_s")),
            drm="clearkey" if raw.get("drm") == "clearkey" else "aes-128",
            format="dash" if raw.get("format") == "dash" else "hls",
        )


def _durations(value: Any) -> tuple[float, ...] | None:
    """A non-empty list of positive finite numbers as floats; anything else: None."""
    if not isinstance(value, list) or not value:
        return None
    out: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            return None
        number = float(item)
        if not 0.0 < number < float("inf"):
            return None
        out.append(number)
    return tuple(out)
