"""The app's offline library: where downloads live and their limits, from the settings.

One library per data folder (a device): the journal and files under the settings' download
folder (default ``<data>/downloads``), the device key in the keyring under the data folder's
name, the quota from Settings → Downloads. The app, ``edgeplay download`` and ``edgeplay
downloads`` all open it here, so they agree.
"""

from __future__ import annotations

from pathlib import Path

from offline.library import OfflineConfig, OfflineLibrary
from ui.config import AppPaths, Settings


def library_root(paths: AppPaths, settings: Settings) -> Path:
    return Path(settings.download_dir).expanduser() if settings.download_dir \
        else paths.data / "downloads"


def open_library(paths: AppPaths, settings: Settings | None = None,
                 **config: object) -> OfflineLibrary:
    settings = settings or Settings.load(paths.settings_file)
    quota = int(settings.download_quota_gb * 1e9) if settings.download_quota_gb > 0 else None
    options = {"quota_bytes": quota, **config}
    return OfflineLibrary(library_root(paths, settings), device=str(paths.data.resolve()),
                          config=OfflineConfig(**options))  # type: ignore[arg-type]
