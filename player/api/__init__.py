"""The control-plane client: ``ControlPlaneClient`` and the answers it types."""

from player.api.client import AES128_KEY_BYTES, ControlPlaneClient
from player.api.models import JSON, Playback, Tokens
from player.api.retry import RetryPolicy

__all__ = ["AES128_KEY_BYTES", "JSON", "ControlPlaneClient", "Playback", "RetryPolicy", "Tokens"]
