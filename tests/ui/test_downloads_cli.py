"""``edgeplay downloads`` errors that need no network: one plain line, exit status 1."""

from __future__ import annotations

import io
from pathlib import Path

from ui.downloads_cli import DownloadOptions, run_downloads


def run(tmp_path: Path, action: str, title: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_downloads(DownloadOptions(action=action, title=title,
                                           data_dir=str(tmp_path / "d")), out, err)
    return status, out.getvalue(), err.getvalue()


def test_missing_and_unknown_titles_say_what_to_do(tmp_path: Path) -> None:
    assert run(tmp_path, "resume") == (
        1, "", "edgeplay: say which download to resume (a title or a download id)\n")
    status, _, err = run(tmp_path, "delete", "Nowhere Film")
    assert status == 1
    assert err == ("edgeplay: Nothing called 'Nowhere Film' is downloaded. "
                   "`edgeplay downloads list` shows what is.\n")
    assert run(tmp_path, "list") == (
        0, "No downloads. `edgeplay download TITLE` downloads one.\n", "")
