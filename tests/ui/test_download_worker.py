"""Downloads in the worker process, driven by the app's controller: a real
``python -m offline.worker`` against a real control plane and edges."""

from __future__ import annotations

import base64
import logging
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from offline import worker_ipc as ipc
from offline.downloader import DownloadProgress
from offline.journal import Download
from offline.library import OfflineLibrary
from player.api import ControlPlaneClient
from player.tokens import Credentials, MemoryStore, TokenStore
from tests.bench.engine_media import make_media_catalog
from tests.conftest import StartControlPlane
from ui.aio import AsyncLoop, Runner
from ui.downloads import DownloadsController
from ui.downloads_worker import WorkerProcess
from ui.signin import resolve_title, sign_in

TITLE = "long"
SEGMENTS = 12  # of "long" at 360p (make_media_catalog)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("worker-media")
    make_media_catalog(root)
    return root


class App:
    """A controller as the app has one: the engine loop, a signed-in client, the library."""

    def __init__(self, fleet: Any, tmp: Path) -> None:
        self.fleet = fleet
        self.aio = AsyncLoop()
        self.aio.start()
        self.runner = Runner(self.aio)
        self.library = OfflineLibrary(tmp / "lib", device=f"worker-test {tmp}")
        base = fleet.ready.base_url
        store = TokenStore(f"{base} {tmp}")
        assert store.persistent, "these tests need the session keyring (in-test-session.sh)"

        async def signed_in() -> tuple[ControlPlaneClient, str, str]:
            cp = ControlPlaneClient(base, store=store)
            profile = await sign_in(cp, public_key=self.library.device_key().public_raw)
            title = await resolve_title(cp, TITLE, profile)
            return cp, profile, str(title["id"])
        self.cp, self.profile, self.title_id = self.aio.submit(signed_in()).result(60)
        self.dl = DownloadsController(self.runner, self.library)
        self.progress: list[DownloadProgress] = []
        self.finished: list[Download] = []
        self.failed: list[str] = []
        self.dl.progress.connect(self.progress.append)
        self.dl.finished.connect(self.finished.append)
        self.dl.failed.connect(self.failed.append)
        self.dl.attach(self.cp, base, base64.b64decode(fleet.ready.license_public_key))

    def edges(self, slow: bool) -> None:
        r = self.fleet.ready
        with httpx.Client(base_url=r.admin_url, headers=r.admin_headers, timeout=5) as admin:
            for name, _ in r.edges:
                if slow:
                    admin.post(f"/admin/edges/{name}/faults",
                               json={"kind": "slow", "rate_kbps": 2000})
                else:
                    admin.delete(f"/admin/edges/{name}/faults")

    def segment_fetches(self) -> dict[int, int]:
        """How many times the edges served each 360p segment (any status)."""
        r = self.fleet.ready
        counts: dict[int, int] = {}
        with httpx.Client(base_url=r.admin_url, headers=r.admin_headers, timeout=5) as admin:
            for name, _ in r.edges:
                for e in admin.get(f"/admin/edges/{name}/requests?limit=1000").json():
                    m = re.search(r"/360p/seg_(\d+)\.", e["path"])
                    if m and e["method"] == "GET":
                        counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
        return counts

    def state(self) -> str | None:
        rows = self.dl.rows
        return rows[0]["state"] if rows else None

    def done(self) -> int:
        d = self.library.journal.all()
        return d[0].segments_done if d else 0

    def close(self) -> None:
        self.dl.close()
        assert self.dl.worker is None or not self.dl.worker.running
        self.aio.submit(self.cp.aclose()).result(10)
        self.runner.close()
        self.aio.stop()
        self.library.close()


@pytest.fixture()
def app(start_controlplane: StartControlPlane, media: Path, tmp_path: Path) -> Iterator[App]:
    fleet = start_controlplane(catalog_args=("--catalog-dir", str(media)), edges=2)
    a = App(fleet, tmp_path)
    try:
        yield a
    finally:
        a.close()


@pytest.mark.slow
def test_add_progress_pause_resume_finish_then_delete(qtbot: Any, app: App) -> None:
    app.edges(slow=True)
    qtbot.waitUntil(lambda: app.dl.manager is not None, timeout=30_000)
    app.dl.download(app.title_id, app.profile, "1")
    qtbot.waitUntil(lambda: any(p.state == "downloading" and p.segments_done >= 1
                                for p in app.progress), timeout=60_000)
    worker = app.dl.worker
    assert worker is not None and worker.running and worker.pid != os.getpid()
    assert app.dl.manager is not None and not app.dl.manager._tasks  # nothing runs in here

    app.dl.pause(app.dl.rows[0]["id"])
    qtbot.waitUntil(lambda: app.state() == "paused", timeout=30_000)
    paused_at = app.done()
    assert paused_at < SEGMENTS

    app.edges(slow=False)
    app.dl.resume(app.dl.rows[0]["id"])
    qtbot.waitUntil(lambda: len(app.finished) == 1, timeout=120_000)
    qtbot.waitUntil(lambda: app.state() == "completed", timeout=30_000)
    assert app.finished[0].complete and app.done() == SEGMENTS
    assert app.dl.rows[0]["complete"] and app.failed == []

    app.dl.delete(app.dl.rows[0]["id"])
    qtbot.waitUntil(lambda: app.dl.rows == [], timeout=30_000)
    assert app.library.journal.all() == []
    assert worker.restarts == 0


@pytest.mark.slow
def test_cancel_while_running_removes_it(qtbot: Any, app: App) -> None:
    app.edges(slow=True)
    qtbot.waitUntil(lambda: app.dl.manager is not None, timeout=30_000)
    app.dl.download(app.title_id, app.profile, "1")
    qtbot.waitUntil(lambda: app.done() >= 1, timeout=60_000)
    app.dl.cancel(app.dl.library.journal.all()[0].id)
    qtbot.waitUntil(lambda: app.library.journal.all() == [] and app.dl.rows == [],
                    timeout=30_000)
    assert app.finished == []


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_resumes_from_its_parts(
        qtbot: Any, app: App, caplog: pytest.LogCaptureFixture) -> None:
    app.edges(slow=True)
    qtbot.waitUntil(lambda: app.dl.manager is not None, timeout=30_000)
    app.dl.download(app.title_id, app.profile, "1")
    qtbot.waitUntil(lambda: app.done() >= 2, timeout=60_000)
    worker = app.dl.worker
    assert worker is not None
    first = worker.pid
    assert first is not None
    with caplog.at_level(logging.WARNING, logger="ui.downloads"):
        os.kill(first, signal.SIGKILL)
        qtbot.waitUntil(lambda: worker.restarts == 1 and worker.running, timeout=30_000)
    assert worker.pid != first
    assert "ended (killed by SIGKILL): starting it again" in caplog.text
    download_id = app.library.journal.all()[0].id
    kept = [s.index for s in app.library.journal.segments(download_id) if s.done]
    assert len(kept) >= 2
    app.edges(slow=False)
    qtbot.waitUntil(lambda: len(app.finished) == 1, timeout=120_000)
    assert app.done() == SEGMENTS and len(app.library.journal.all()) == 1
    assert app.failed == []
    fetched = app.segment_fetches()
    assert all(fetched.get(i) == 1 for i in kept), (kept, fetched)  # not fetched again
    assert set(fetched) == set(range(SEGMENTS))


# --- the process owner alone (no control plane) -------------------------------------------------

GARBAGE = ("import sys\n"
           "print('garbage from the worker', flush=True)\n"
           "print('{\"type\": \"Ready\", \"pid\": 7}', flush=True)\n"
           "sys.stdin.read()\n")
DIES = "import sys; sys.exit(3)\n"
OPEN = ipc.Open(root="r", device="d", base_url="u", store_key="k", service="s")


def _script(body: str) -> list[str]:
    return [sys.executable, "-c", body]


def test_a_garbage_line_from_the_worker_is_logged_and_skipped(
        qtbot: Any, caplog: pytest.LogCaptureFixture) -> None:
    events: list[ipc.Message] = []
    gave_up: list[str] = []
    worker = WorkerProcess(events.append, gave_up.append,
                           command=_script(GARBAGE))
    with caplog.at_level(logging.WARNING, logger="ui.downloads"):
        worker.start(OPEN)
        try:
            qtbot.waitUntil(lambda: events == [ipc.Ready(7)], timeout=30_000)
            assert worker.running
        finally:
            worker.stop()
    assert "not an event" in caplog.text and "garbage from the worker" in caplog.text
    assert gave_up == [] and not worker.running


def test_a_worker_that_keeps_dying_is_restarted_once_then_given_up(qtbot: Any) -> None:
    gave_up: list[str] = []
    worker = WorkerProcess(lambda e: None, gave_up.append, command=_script(DIES))
    try:
        worker.start(OPEN)
        qtbot.waitUntil(lambda: gave_up != [], timeout=30_000)
        assert worker.restarts == 1 and worker.gave_up
        assert "keeps ending (exit status 3)" in gave_up[0]
        assert "Restart Edgeplay" in gave_up[0]
        worker.start(OPEN)  # given up: not started again
        assert not worker.running and worker.restarts == 1
    finally:
        worker.stop()


class _Cp:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.base_url = "http://127.0.0.1:1"


def test_the_worker_is_used_only_with_the_sign_in_in_the_keyring(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    library = OfflineLibrary(tmp_path / "lib", device=f"worker-choice {tmp_path}")
    try:
        keyring_store = TokenStore(f"http://127.0.0.1:1 {tmp_path}")
        assert keyring_store.persistent
        opening = DownloadsController(runner, library)._worker_opening(
            _Cp(keyring_store), "svc", b"key")
        assert opening is not None and opening.store_key == keyring_store.key
        assert opening.device == library.device and opening.root == str(library.root)
        assert opening.license_key == base64.b64encode(b"key").decode()
        assert opening.config["concurrent_downloads"] == library.config.concurrent_downloads
        memory = MemoryStore(Credentials("d", "a", "r"))
        assert DownloadsController(runner, library)._worker_opening(
            _Cp(memory), "svc", None) is None
        assert DownloadsController(runner, library, worker=False)._worker_opening(
            _Cp(keyring_store), "svc", None) is None
        monkeypatch.setenv("EDGEPLAY_DOWNLOAD_WORKER", "0")
        assert DownloadsController(runner, library)._worker_opening(
            _Cp(keyring_store), "svc", None) is None
    finally:
        runner.close()
        aio.stop()
        library.close()
