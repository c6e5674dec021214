"""Continue watching across devices: two data folders (two devices) against one real control plane,
real libmpv (vo/ao null) playing the encoded ``long`` title (48 s) of tests/bench/engine_media.py.

Device A plays and stops → device B's Continue Watching row has the position and B starts within
a second of it; the control plane goes down while A plays (restarted on the same state folder,
at a new URL) → the outbox replays in order; ``kill -9`` of a headless player keeps its last
periodic position; two devices writing at once resolve by event time; profiles stay apart.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from player.api import ControlPlaneClient
from player.bundled import ReadyInfo
from player.mpv_seam import create_mpv
from player.session import PlaybackSession, SessionConfig
from player.sync import Outbox, ProgressReporter, ProgressSync, SyncConfig, mark_watched
from player.tokens import MemoryStore
from tests.bench.engine_media import make_media_catalog
from tests.conftest import REPO, StartControlPlane

pytestmark = [pytest.mark.mpv, pytest.mark.slow]

PASSWORD = "edgeplay-pw"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sync-media")
    make_media_catalog(root)
    return root


@pytest.fixture(scope="module")
def fleet(start_module_controlplane: StartControlPlane, media: Path) -> ReadyInfo:
    return start_module_controlplane(catalog_args=("--catalog-dir", str(media)), edges=2).ready


@dataclass
class Device:
    """One app data folder: its own client (device id), outbox and replayer."""

    cp: ControlPlaneClient
    outbox: Outbox
    sync: ProgressSync
    profile_id: str

    @property
    def device_id(self) -> str:
        creds = self.cp.credentials
        assert creds is not None
        return creds.device_id

    def reporter(self, title_id: str, *, profile_id: str | None = None,
                 wall: Callable[[], float] = time.time) -> ProgressReporter:
        return ProgressReporter(self.outbox, profile_id=profile_id or self.profile_id,
                                title_id=title_id, device_id=self.device_id, wall=wall,
                                on_write=lambda _: self.sync.wake())


@asynccontextmanager
async def device(base_url: str, data_dir: Path, email: str, *,
                 create: bool = False) -> AsyncIterator[Device]:
    async with ControlPlaneClient(base_url, store=MemoryStore()) as cp:
        await cp.register_device(email, PASSWORD, data_dir.name, create_account=create)
        outbox = Outbox(data_dir / "data")
        sync = ProgressSync(outbox, cp, config=SyncConfig(backoff_initial_s=0.2,
                                                          backoff_max_s=1.0))
        task = asyncio.ensure_future(sync.run())
        try:
            yield Device(cp, outbox, sync, str((await cp.profiles())[0]["id"]))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            outbox.close()


async def until(condition: Callable[[], Any], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def account() -> str:
    return f"sync-{time.time_ns()}@edgeplay.test"


def test_a_plays_and_stops_b_sees_it_and_resumes_there(fleet: ReadyInfo, tmp_path: Path) -> None:
    email = account()

    async def main() -> tuple[float, float, dict[str, Any], float, str]:
        mpv = create_mpv(vo="null", ao="null")
        try:
            async with device(fleet.base_url, tmp_path / "A", email, create=True) as a:
                session = PlaybackSession(a.cp, "long", a.profile_id, mpv,
                                          config=SessionConfig(start_over=True),
                                          progress=a.reporter("long"))
                await session.play()
                mpv.set("speed", 4)
                await until(lambda: session.position_s >= 30, 20, "30 s of playback")
                await session.stop()
                stopped_at = session.position_s
                await until(lambda: a.outbox.pending_count() == 0, 5, "the sync")
                a_device = a.device_id
            async with device(fleet.base_url, tmp_path / "B", email) as b:
                assert b.profile_id and b.device_id != a_device
                rows = await b.cp.rows(b.profile_id)
                assert rows[0]["id"] == "continue-watching"
                item = rows[0]["items"][0]
                session = PlaybackSession(b.cp, "long", b.profile_id, mpv,
                                          progress=b.reporter("long"))
                await session.play()
                started_at = float(mpv.get("time-pos") or session.position_s)
                await session.stop()
                return stopped_at, started_at, item, float(session.position_s), a_device
        finally:
            mpv.terminate()

    stopped_at, started_at, item, _, a_device = asyncio.run(main())
    assert item["id"] == "long"
    assert item["progress"]["device_id"] == a_device
    assert stopped_at >= 30  # stopped once 30 s had played (later on a busy machine)
    assert item["progress"]["position_s"] == pytest.approx(stopped_at, abs=0.5)
    assert abs(started_at - stopped_at) <= 1.0, (started_at, stopped_at)


def test_control_plane_down_while_playing_then_back(start_controlplane: StartControlPlane,
                                                     media: Path, tmp_path: Path) -> None:
    state = tmp_path / "cp-state"
    state.mkdir()
    catalog = ("--catalog-dir", str(media))
    first = start_controlplane(catalog_args=catalog, state_dir=state, edges=1)
    email = account()
    sent: list[list[dict[str, Any]]] = []

    async def main() -> tuple[dict[str, Any], list[dict[str, Any]], int]:
        mpv = create_mpv(vo="null", ao="null")
        try:
            async with device(first.ready.base_url, tmp_path / "A", email, create=True) as a:
                real_batch = a.cp.progress_batch

                async def spy(items: Any) -> list[dict[str, Any]]:
                    sent.append(list(items))
                    return await real_batch(items)
                a.sync.cp = type("Spy", (), {"progress_batch": staticmethod(spy)})()
                session = PlaybackSession(a.cp, "long", a.profile_id, mpv,
                                          config=SessionConfig(start_over=True,
                                                               post_telemetry=False),
                                          progress=a.reporter("long"))
                await session.play()
                mpv.set("speed", 2)
                await until(lambda: session.position_s >= 6, 10, "6 s of playback")
                first.stop()  # down: the control plane and its edges
                await session.pause()  # played on from the buffer; this write must wait
                paused_at = session.position_s
                await session.stop()  # writes the same position again ("stop")
                mark_watched(a.outbox, profile_id=a.profile_id, title_id="short",
                             watched=True, device_id=a.device_id)
                a.sync.wake()
                await until(lambda: a.sync.online is False, 10, "a failed sync attempt")
                assert a.outbox.pending_count() == 2
                second = await asyncio.to_thread(start_controlplane, catalog_args=catalog,
                                                 state_dir=state, edges=1)
                assert second.ready.base_url != first.ready.base_url
                a.cp.set_base_url(second.ready.base_url)
                a.sync.wake(now=True)
                await until(lambda: a.outbox.pending_count() == 0, 10, "the replay")
                stored = await a.cp.progress(a.profile_id, "long")
                assert stored["position_s"] == pytest.approx(paused_at, abs=0.01)
                listing = await a.cp.progress_list(a.profile_id)
                second.stop()
                return stored, listing, int(paused_at * 1000)
        finally:
            mpv.terminate()

    stored, listing, _ = asyncio.run(main())
    assert stored["watched"] == 0
    replayed = [i for batch in sent for i in batch]
    assert [i["title_id"] for i in replayed][-2:] == ["long", "short"]  # the order of events
    times = [i["event_time_ms"] for i in replayed[-2:]]
    assert times == sorted(times)
    assert [i["title_id"] for i in listing] == ["short", "long"]  # most recent first
    assert listing[0]["watched"] == 1


def _outbox_row(path: Path) -> tuple[float, str] | None:
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT position_s, state FROM outbox WHERE title_id = 'long'"
                             ).fetchone()
    except sqlite3.Error:
        return None
    return (float(row[0]), str(row[1])) if row else None


def test_kill_9_keeps_the_last_periodic_position(fleet: ReadyInfo, tmp_path: Path) -> None:
    data = tmp_path / "A"
    env = {**os.environ, "PYTHONPATH": str(REPO), "EDGEPLAY_DATA_DIR": str(data),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    outbox_file = data / "data" / "progress.sqlite3"
    # --speed 2: the periodic write 10 s after the first frame is at ~20 s of the title.
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "play", "long", "--headless", "--duration", "40",
         "--start-over", "--speed", "2", "--control-plane", fleet.base_url],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        row = None
        while time.monotonic() < deadline:
            row = _outbox_row(outbox_file)
            if row is not None and row[0] >= 18:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        time.sleep(1.0)  # mid-play, between two periodic writes
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    row = _outbox_row(outbox_file)
    assert row is not None and 18 <= row[0] <= 30, row
    last_periodic = row[0]
    # The next start of A replays whatever the kill left pending (here: `edgeplay sync`).
    Outbox(outbox_file).close()
    with sqlite3.connect(outbox_file) as db:  # as if the send had not happened before the kill
        db.execute("UPDATE outbox SET state = 'pending'")
    replay = subprocess.run(
        [sys.executable, "-m", "ui.cli", "sync", "--control-plane", fleet.base_url],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stderr
    assert _outbox_row(outbox_file) == (last_periodic, "synced")

    async def server() -> dict[str, Any]:
        async with ControlPlaneClient(fleet.base_url, store=MemoryStore()) as cp:
            await cp.register_device("demo@edgeplay.test", "edgeplay", "checker")
            profile = (await cp.profiles())[0]["id"]
            return await cp.progress(profile, "long")
    stored = asyncio.run(server())
    assert stored["position_s"] == last_periodic


def test_two_devices_at_once_resolve_by_event_time(fleet: ReadyInfo, tmp_path: Path) -> None:
    email = account()

    async def main() -> list[dict[str, Any]]:
        async with device(fleet.base_url, tmp_path / "A", email, create=True) as a, \
                device(fleet.base_url, tmp_path / "B", email) as b:
            base = time.time()
            # Title "long": A's event is older but arrives last. Title "short": the reverse.
            a.reporter("long", wall=lambda: base).report(10.0, 48.0, "pause")
            b.reporter("long", wall=lambda: base + 0.5).report(20.0, 48.0, "pause")
            a.reporter("short", wall=lambda: base + 1).report(3.0, 12.0, "pause")
            b.reporter("short", wall=lambda: base + 0.9).report(5.0, 12.0, "pause")
            await asyncio.gather(b.sync.drain(), a.sync.drain())
            await asyncio.gather(a.sync.drain(), b.sync.drain())
            assert a.outbox.pending_count() == b.outbox.pending_count() == 0
            items = await a.cp.progress_list(a.profile_id)
            assert {i["title_id"]: i["device_id"] for i in items} == {
                "long": b.device_id, "short": a.device_id}
            return items

    items = {i["title_id"]: i for i in asyncio.run(main())}
    assert items["long"]["position_s"] == 20.0 and items["short"]["position_s"] == 3.0


def test_profiles_never_see_each_others_progress(fleet: ReadyInfo, tmp_path: Path) -> None:
    email = account()

    async def main() -> tuple[list[Any], list[Any], list[Any]]:
        async with device(fleet.base_url, tmp_path / "A", email, create=True) as a:
            kids = await a.cp.create_profile("Kids")
            a.reporter("long").report(12.0, 48.0, "pause")
            await until(lambda: a.outbox.pending_count() == 0, 5, "the sync")
            kid_rows = await a.cp.rows(str(kids["id"]))
            kid_progress = await a.cp.progress_list(str(kids["id"]))
            return kid_rows, kid_progress, a.outbox.for_profile(str(kids["id"]))

    rows, progress, local = asyncio.run(main())
    assert progress == [] and local == []
    assert all(r["id"] != "continue-watching" for r in rows)
