"""``edgeplay download TITLE`` after a crash resumes the interrupted download; while another
``edgeplay download`` of it is alive, a second one is refused (real control plane and edges)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.bench.engine_media import make_media_catalog
from tests.conftest import REPO, StartControlPlane
from tests.integration.test_offline_cli import (
    TITLE,
    assert_files_match,
    cli,
    journal_done,
    last_json,
)

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("owner-media")
    make_media_catalog(root)
    return root


def test_download_again_after_kill_9_resumes_but_a_live_one_is_respected(
        start_controlplane: StartControlPlane, media: Path, tmp_path: Path) -> None:
    fleet = start_controlplane(catalog_args=("--catalog-dir", str(media)), edges=2,
                               state_dir=tmp_path / "cp-state")
    data = tmp_path / "device"
    common = ("--control-plane", fleet.ready.base_url, "--data-dir", str(data))
    with httpx.Client(base_url=fleet.ready.admin_url, headers=fleet.ready.admin_headers,
                      timeout=5) as admin:
        for name, _ in fleet.ready.edges:  # slow enough to be caught half-way
            admin.post(f"/admin/edges/{name}/faults", json={"kind": "slow", "rate_kbps": 2000})
        first = subprocess.Popen([sys.executable, "-m", "ui.cli", "download", TITLE, "--quality",
                                  "1", *common], cwd=REPO, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            done = 0
            while done < 2 and first.poll() is None:  # the journal is polled, nothing timed
                time.sleep(0.05)
                done = journal_done(data)
            assert first.poll() is None, first.communicate()[1]

            # a live owner: a second `edgeplay download` refuses, and says why
            second = cli("download", TITLE, "--quality", "1", *common)
            assert second.returncode == 1
            assert "already downloading" in second.stderr and str(first.pid) in second.stderr
            assert "Traceback" not in second.stderr
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.communicate(timeout=10)
        killed_at = assert_files_match(data, media, "360p")
        assert killed_at < 12

        # the owner is gone: the same command resumes the interrupted download to the end
        for name, _ in fleet.ready.edges:
            admin.delete(f"/admin/edges/{name}/faults")
        again = cli("download", TITLE, "--quality", "1", "--json", *common)
        assert again.returncode == 0, again.stderr
        assert last_json(again.stdout)["state"] == "completed"
        assert assert_files_match(data, media, "360p") == 12
        listed = cli("downloads", "list", "--json", "--data-dir", str(data))
        assert len(last_json(listed.stdout)["downloads"]) == 1  # resumed, not added twice
