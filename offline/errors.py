"""Why a download or an offline play failed, with a sentence a person can act on.

``code`` is stable (the UI and the tests branch on it): ``license_expired``, ``window_expired``,
``clock_rollback``, ``wrong_device``, ``license_invalid``, ``tampered``, ``disk_full``,
``quota``, ``not_downloaded``, ``incomplete``, ``unknown_download``.
"""

from __future__ import annotations

from player.errors import PlayerError


class OfflineError(PlayerError):
    default_code = "offline"
