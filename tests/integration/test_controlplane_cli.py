"""The control plane's command line: bad input ends in a message, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "controlplane", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_bad_policy_is_a_usage_error() -> None:
    r = _run("--policy", "nonsense=1")
    assert r.returncode == 2 and "unknown policy" in r.stderr and "Traceback" not in r.stderr


def test_missing_catalog_dir_is_named(tmp_path: Path) -> None:
    r = _run("--catalog-dir", str(tmp_path / "absent"), "--state-dir", str(tmp_path))
    assert r.returncode == 1
    assert "no catalog at" in r.stderr and "Traceback" not in r.stderr


def test_ingest_of_a_missing_file(tmp_path: Path) -> None:
    r = _run("ingest", str(tmp_path / "nope.mkv"))
    assert r.returncode == 2 and "is not a file" in r.stderr


def test_port_in_use_is_reported(tmp_path: Path, fake_catalog_dir: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = _run("--catalog-dir", str(fake_catalog_dir), "--state-dir", str(tmp_path),
                 "--port", str(port))
    assert r.returncode == 1 and "cannot listen" in r.stderr and "Traceback" not in r.stderr
