"""Children die with their parent: the bundled control plane of every entry point (headless
play, the window, ``edgeplay serve``) is gone within 2 s of a SIGKILL of the client, and a closed
lifeline (the portable path: stdin at end of file) stops it cleanly on its own."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from player.lifeline import lifeline_env
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has exited; only its reaping is left to init)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def listening(pid: int) -> bool:
    """The process holds a listening TCP socket (it is serving)."""
    try:
        inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and f"socket:[{fields[9]}]" in inodes:
                    return True
    return False


def processes_mentioning(text: str) -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir()
            if e.name.isdigit() and int(e.name) != os.getpid() and text in cmdline(int(e.name))
            and running(int(e.name))]


def wait_for(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"{what} (waited {timeout_s:.0f} s)")
        time.sleep(0.05)


@pytest.fixture
def client_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen",
           "EDGEPLAY_AO": "null"}


ENTRY_POINTS = {
    "headless": ["play", "t1", "--headless", "--catalog-dir", "{catalog}",
                 "--data-dir", "{data}"],
    "window": ["--catalog-dir", "{catalog}", "--data-dir", "{data}"],
    "serve": ["--catalog-dir", "{catalog}", "serve"],
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_killed_client_leaves_no_control_plane(entry: str, tmp_path: Path,
                                                 fake_catalog_dir: Path,
                                                 client_env: dict[str, str]) -> None:
    data = tmp_path / "device"
    catalog = tmp_path / "catalog"  # a path of its own: other tests' control planes serve the
    shutil.copytree(fake_catalog_dir, catalog)  # shared one
    args = [a.format(catalog=catalog, data=data) for a in ENTRY_POINTS[entry]]
    client = subprocess.Popen([sys.executable, "-m", "ui.cli", *args], cwd=REPO, env=client_env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        def control_planes() -> list[int]:  # a child just forked has not exec'd yet
            return [c for c in children_of(client.pid) if "controlplane" in cmdline(c)]

        wait_for(control_planes, 120, f"{entry}: no control plane started")
        children = children_of(client.pid)
        # As far as a user's session gets: the control plane serves.
        wait_for(lambda: any(listening(c) for c in children), 120,
                 f"{entry}: the control plane never listened")
        os.kill(client.pid, signal.SIGKILL)
        client.wait(10)
        killed_at = time.monotonic()
        while any(running(c) for c in children) and time.monotonic() - killed_at < 2.0:
            time.sleep(0.02)
        left = [c for c in children if running(c)]
        assert not left, f"{entry}: still running 2 s after the client was killed: {left}"
        assert not processes_mentioning(str(catalog) + " "), "a grandchild is left"
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(10)


def test_a_closed_lifeline_stops_the_control_plane_cleanly(fake_catalog_dir: Path,
                                                           tmp_path: Path) -> None:
    """The portable path (macOS, Windows): no signal from the kernel, only the pipe's end."""
    env = lifeline_env({**os.environ, "PYTHONPATH": str(REPO)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "controlplane", "--catalog-dir", str(fake_catalog_dir),
         "--state-dir", str(tmp_path / "state"), "--edges", "1"],
        cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert '"event": "ready"' in proc.stdout.readline()
        proc.stdin.close()
        proc.wait(30)
        err = proc.stderr.read() if proc.stderr is not None else ""
        assert proc.returncode == 0, err
        assert "the parent closed the lifeline" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
