"""Sign this device in to the control plane (the demo account) and find the title asked for.

Shared by the command-line runs (``edgeplay play``, ``edgeplay download``): first use registers
a device with the demo account; a title is an id, else the best search match.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from player.api import ControlPlaneClient
from player.errors import AuthError, NotFoundError

DEMO_EMAIL = "demo@edgeplay.test"
DEMO_PASSWORD = "edgeplay"


class HeadlessError(Exception):
    """A setup failure with a one-line message for the user."""


def device_name() -> str:
    """How this device names itself to the control plane."""
    return f"edgeplay headless ({socket.gethostname()})"


async def sign_in(cp: ControlPlaneClient, public_key: bytes | None = None) -> str:
    """Make sure the device is signed in (registering it on first use); returns a profile id.

    ``public_key``: the device's key for offline licenses; a device registered without one is
    registered again with it (the control plane only wraps licenses to a registered key)."""
    if not cp.signed_in:
        await cp.register_device(DEMO_EMAIL, DEMO_PASSWORD, device_name(),
                                 public_key=public_key)
    try:
        profiles = await cp.profiles()
    except AuthError:
        await cp.login(DEMO_EMAIL, DEMO_PASSWORD)
        profiles = await cp.profiles()
    if public_key is not None and not (await cp.me()).get("device", {}).get("has_public_key"):
        await cp.register_device(DEMO_EMAIL, DEMO_PASSWORD, device_name(),
                                 public_key=public_key)
        profiles = await cp.profiles()
    if not profiles:
        raise HeadlessError("the account has no profile")
    return str(profiles[0]["id"])


async def resolve_title(cp: ControlPlaneClient, title: str, profile_id: str) -> dict[str, Any]:
    """``title`` as an id, else the best search match (an exact name first)."""
    with contextlib.suppress(NotFoundError):
        return await cp.title(title, profile_id)
    results = await cp.search(title, profile_id)
    if not results:
        raise HeadlessError(f"no title matches {title!r}")
    exact = [r for r in results if str(r.get("name", "")).casefold() == title.casefold()]
    return (exact or results)[0]
