"""The offline path end to end, as a user drives it: ``edgeplay download`` killed with -9 and
resumed, a tampered file found and repaired, then ``edgeplay play --offline`` with the control
plane and every edge stopped (real libmpv), and the position synced once they are back."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bench.engine_media import make_media_catalog
from tests.conftest import REPO, StartControlPlane

pytestmark = [pytest.mark.mpv, pytest.mark.slow]

TITLE = "long"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("offline-media")
    make_media_catalog(root)
    return root


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def journal_done(data: Path) -> int:
    path = data / "data" / "downloads" / "downloads.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM segments WHERE done").fetchone()[0])
    except sqlite3.Error:
        return 0


def assert_files_match(data: Path, media: Path, rendition: str) -> int:
    """Every finished segment on disk is byte for byte the edge's; returns how many."""
    path = data / "data" / "downloads" / "downloads.sqlite3"
    with sqlite3.connect(path) as db:
        (download_id,) = db.execute("SELECT id FROM downloads").fetchone()
        done = [i for (i,) in db.execute(
            "SELECT idx FROM segments WHERE done AND download_id = ?", (download_id,))]
    folder = data / "data" / "downloads" / "media" / download_id / "seg"
    for index in done:
        stored = (folder / f"{index:06d}.ts").read_bytes()
        edge = (media / "titles" / TITLE / rendition / f"seg_{index:05d}.ts").read_bytes()
        assert stored == edge, f"segment {index} differs from the edge's"
    return len(done)


def last_json(out: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def test_download_killed_resumed_repaired_then_played_offline_and_synced(
        start_controlplane: StartControlPlane, media: Path, tmp_path: Path) -> None:
    state = tmp_path / "cp-state"
    fleet = start_controlplane(catalog_args=("--catalog-dir", str(media)), edges=2,
                               state_dir=state)
    url = fleet.ready.base_url
    data = tmp_path / "device"
    common = ("--control-plane", url, "--data-dir", str(data))
    admin = httpx.Client(base_url=fleet.ready.admin_url,
                         headers=fleet.ready.admin_headers, timeout=5)
    for name, _ in fleet.ready.edges:  # slow enough to be killed half-way
        admin.post(f"/admin/edges/{name}/faults", json={"kind": "slow", "rate_kbps": 3000})

    # 1. kill -9 half-way: what is marked done on disk is exactly the edge's bytes.
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "download", TITLE, "--quality", "1",
                             "--json", *common], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    while journal_done(data) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    killed_at = assert_files_match(data, media, "360p")
    assert 3 <= killed_at < 12

    # 2. resume: only what was missing is fetched; the whole title matches the edge.
    for name, _ in fleet.ready.edges:
        admin.delete(f"/admin/edges/{name}/faults")
    seen = {name: len(admin.get(f"/admin/edges/{name}/requests?limit=1000").json())
            for name, _ in fleet.ready.edges}
    resumed = cli("downloads", "resume", TITLE, "--json", *common)
    assert resumed.returncode == 0, resumed.stderr
    assert last_json(resumed.stdout)["state"] == "completed"
    assert assert_files_match(data, media, "360p") == 12
    refetched = set()
    for name, _ in fleet.ready.edges:
        log = admin.get(f"/admin/edges/{name}/requests?limit=1000").json()[seen[name]:]
        refetched |= {int(str(r["path"]).rsplit("seg_", 1)[1][:5]) for r in log
                      if "/seg_" in str(r["path"]) and r.get("range") is None}
    finished_before = set(range(killed_at))
    assert not refetched & finished_before, f"fetched again: {refetched & finished_before}"

    # 3. a tampered file: playing says so and what to do; repair fetches just that part.
    folder = next((data / "data" / "downloads" / "media").iterdir()) / "seg"
    victim = folder / "000005.ts"
    raw = bytearray(victim.read_bytes())
    raw[4000] ^= 0x55
    victim.write_bytes(bytes(raw))
    broken = cli("play", TITLE, "--offline", "--headless", "--json", "--data-dir", str(data),
                 "--start-over", "--speed", "8")
    assert broken.returncode == 1
    assert "damaged" in broken.stderr and "repair" in broken.stderr
    assert "Traceback" not in broken.stderr
    report = last_json(broken.stdout)  # the report names the cause, not "no edge"
    assert report["ok"] is False and report["error_code"] == "tampered", report
    assert "damaged" in report["error_message"] and report["edges_used"] == ["."]
    # The scheduler reads ahead and finds segment 5 long before 3 s have played: the run that
    # --duration ends first failed all the same.
    early = cli("play", TITLE, "--offline", "--headless", "--json", "--data-dir", str(data),
                "--start-over", "--duration", "3")
    assert early.returncode == 1, early.stderr
    report = last_json(early.stdout)
    assert report["ok"] is False and report["error_code"] == "tampered", report
    assert report["played_s"] >= 2.9 and "Traceback" not in early.stderr
    # No password store: the device key cannot be read; still one JSON report that says so.
    keyless = subprocess.run(
        [sys.executable, "-m", "ui.cli", "play", TITLE, "--offline", "--headless", "--json",
         "--data-dir", str(data)], capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO),
             "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert keyless.returncode == 1 and "Traceback" not in keyless.stderr
    report = last_json(keyless.stdout)
    assert report["ok"] is False and report["error_code"] == "keyring_unavailable", report
    repaired = cli("downloads", "repair", TITLE, *common)
    assert repaired.returncode == 0, repaired.stderr
    assert "1 damaged part" in repaired.stderr
    assert assert_files_match(data, media, "360p") == 12

    # 4. every server stopped: the download plays through the engine, from the start.
    fleet.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/v1/licenses/public-key", timeout=2)
    played = cli("play", TITLE, "--offline", "--headless", "--json", "--data-dir", str(data),
                 "--duration", "3", "--speed", "4", "--start-over")
    assert played.returncode == 0, played.stderr
    report = last_json(played.stdout)
    assert report["ok"] is True and report["played_s"] >= 3
    assert report["rebuffer_count"] == 0 and report["renditions_played"].keys() == {"360p"}
    listed = json.loads(cli("downloads", "list", "--json", "--data-dir", str(data)).stdout)
    (entry,) = listed["downloads"]
    assert entry["first_played_at"] is not None and entry["position_s"] >= 3
    assert entry["playable"] is True

    # 5. back online: the position played offline reaches the control plane.
    again = start_controlplane(catalog_args=("--catalog-dir", str(media)), edges=1,
                               state_dir=state)
    synced = cli("sync", "--control-plane", again.ready.base_url, "--data-dir", str(data))
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["pending"] == 0
    admin.close()
