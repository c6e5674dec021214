"""The settings file is the user's alone."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from ui.config import Settings


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_settings_are_saved_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    Settings(start_in_tv=True).save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert Settings.load(path).start_in_tv is True
    path.chmod(0o644)  # an older file is tightened on the next save
    Settings().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
