"""Where the app keeps its files, and its settings (one JSON file in the config folder).

``AppPaths.default()`` follows platformdirs (config, data, cache); ``AppPaths.under(DIR)`` keeps
everything in one folder (``edgeplay --data-dir DIR``, or ``EDGEPLAY_DATA_DIR=DIR``; two folders
are two devices). Secrets never go here: tokens live in the OS keyring (:mod:`player.tokens`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from player.private import private_file

log = logging.getLogger("ui")
APP = "edgeplay"
DATA_DIR_ENV = "EDGEPLAY_DATA_DIR"
"""The environment variable equivalent to ``--data-dir``."""


@dataclass(frozen=True)
class AppPaths:
    config: Path
    data: Path
    cache: Path

    @classmethod
    def default(cls) -> AppPaths:
        return cls(Path(platformdirs.user_config_dir(APP)), Path(platformdirs.user_data_dir(APP)),
                   Path(platformdirs.user_cache_dir(APP)))

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        return cls(root / "config", root / "data", root / "cache")

    @classmethod
    def resolve(cls, data_dir: str | None = None) -> AppPaths:
        """``--data-dir`` if given, else ``$EDGEPLAY_DATA_DIR``, else the platformdirs folders."""
        root = data_dir or os.environ.get(DATA_DIR_ENV) or ""
        return cls.under(Path(root).expanduser()) if root else cls.default()

    @property
    def custom(self) -> bool:
        """True for a ``--data-dir`` folder (a device of its own on this machine)."""
        return self != AppPaths.default()

    @property
    def progress_outbox(self) -> Path:
        """The durable progress outbox (SQLite, WAL; :mod:`player.sync`)."""
        return self.data / "progress.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def art_cache(self) -> Path:
        return self.cache / "art"

    @property
    def throughput_estimate(self) -> Path:
        """The last session's throughput estimate (:mod:`player.estimate_store`)."""
        return self.data / "throughput.json"

    @property
    def controlplane_state(self) -> Path:
        return self.data / "controlplane"


@dataclass
class Settings:
    """User settings; every field has its default here."""

    control_plane_url: str = ""
    """Empty: start the bundled control plane."""
    quality_cap: int | None = None
    """Highest rendition index the ABR may pick (None: Auto)."""
    data_saver: bool = False
    """Caps streaming at the second rung (480p on the bundled ladder)."""
    stream_format: str = "hls"
    """``hls`` (default) or ``dash``: what playback asks the control plane for (a title
    without DASH plays HLS)."""
    subtitle_size: int = 55
    """mpv ``sub-font-size`` (scaled to a 720-line screen)."""
    volume: int = 100
    download_dir: str = ""
    download_quota_gb: float = 20.0
    start_in_tv: bool = False
    profile_id: str = ""
    """The profile picked last (later runs go straight home)."""
    my_list: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """My List per profile id: the titles (as the catalog sent them, without progress), newest
    first. Kept on this device only."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Settings:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("settings unreadable (%s): using the defaults", exc)
            return cls()
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names}) if isinstance(raw, dict) \
            else cls()

    def save(self, path: Path) -> None:
        """Write atomically, readable by this user only (0600 in a 0700 folder)."""
        tmp = private_file(path.with_suffix(".tmp"))
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)

    def in_my_list(self, profile_id: str, title_id: str) -> bool:
        return any(str(t.get("id")) == title_id for t in self.my_list.get(profile_id, []))

    def toggle_my_list(self, profile_id: str, title: dict[str, Any]) -> bool:
        """Add ``title`` to the profile's list, or take it off; True when it is on it now."""
        tid = str(title.get("id", ""))
        items = [t for t in self.my_list.get(profile_id, []) if str(t.get("id")) != tid]
        added = len(items) == len(self.my_list.get(profile_id, []))
        if added:
            keep = {k: v for k, v in title.items() if k not in ("progress", "sync_state")}
            items.insert(0, keep)
        self.my_list[profile_id] = items
        return added

    def effective_max_rung(self) -> int | None:
        caps = [c for c in (self.quality_cap, 1 if self.data_saver else None) if c is not None]
        return min(caps) if caps else None
