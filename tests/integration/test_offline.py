"""Offline downloads against the real control plane and edges (no mpv): the downloader, the
journal and files, license policy, integrity, quota and the disk filling up."""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from offline.downloader import DownloadManager, DownloadProgress
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineConfig, OfflineLibrary
from player.api import ControlPlaneClient
from player.bundled import ReadyInfo
from player.errors import EntitlementError
from player.tokens import MemoryStore
from tests.conftest import StartControlPlane
from tests.helpers.fake_catalog import make_fake_catalog
from tests.integration.cp_client import advance_clock

PASSWORD = "edgeplay-pw"
PLAYABLE = ("title0", "title2", "title3", "title5")  # for a premium account in the US
SEGMENTS = 8


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("offline-catalog")
    make_fake_catalog(root, titles=6, segments=SEGMENTS, encrypted=True)
    return root


@pytest.fixture(scope="module")
def fleet(start_module_controlplane: StartControlPlane, catalog: Path) -> ReadyInfo:
    return start_module_controlplane(catalog_args=("--catalog-dir", str(catalog)), edges=2,
                              policy=("download_limit=2",)).ready


@pytest.fixture()
def library(tmp_path: Path) -> Iterator[OfflineLibrary]:
    lib = OfflineLibrary(tmp_path / "downloads", device=f"test-{uuid.uuid4().hex}",
                         config=OfflineConfig(min_free_bytes=0))
    yield lib
    lib.keys.delete()
    lib.close()


@asynccontextmanager
async def signed_in(base_url: str, lib: OfflineLibrary, email: str | None = None
                    ) -> AsyncIterator[tuple[ControlPlaneClient, str]]:
    async with ControlPlaneClient(base_url, store=MemoryStore()) as cp:
        await cp.register_device(email or f"{uuid.uuid4().hex[:10]}@offline.test", PASSWORD,
                                 "offline test", create_account=True, plan="premium",
                                 public_key=lib.device_key().public_raw)
        yield cp, str((await cp.profiles())[0]["id"])


def edge_bytes(catalog: Path, d: Download, index: int) -> bytes:
    return (catalog / "titles" / d.title_id / d.rendition / f"seg_{index:05d}.ts").read_bytes()


def assert_matches_edge(lib: OfflineLibrary, catalog: Path, d: Download) -> None:
    for row in lib.journal.segments(d.id):
        assert row.done
        stored = lib.store.segment_path(d.id, row.index).read_bytes()
        assert stored == edge_bytes(catalog, d, row.index), f"segment {row.index}"
        assert hashlib.sha256(stored).hexdigest() == row.sha256
    assert not list(lib.store.folder(d.id).rglob("*.part"))


async def download(lib: OfflineLibrary, cp: ControlPlaneClient, profile: str, title: str,
                   **kw: object) -> tuple[Download, list[DownloadProgress]]:
    events: list[DownloadProgress] = []
    manager = DownloadManager(lib, cp, "svc", on_event=events.append)
    try:
        d = await manager.add(title, profile, **kw)  # type: ignore[arg-type]
        manager.start(d.id)
        return await manager.wait(d.id), events
    finally:
        await manager.aclose()


def test_download_is_encrypted_hashed_and_matches_the_edge(fleet: ReadyInfo, catalog: Path,
                                                           library: OfflineLibrary) -> None:
    async def main() -> tuple[Download, list[DownloadProgress], bytes]:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            d, events = await download(library, cp, profile, "title0", quality="1")
            return d, events, await cp.streaming_key(cp.url("/v1/licenses/streaming/title0"))

    d, events, streaming_key = asyncio.run(main())
    assert d.state == "completed" and d.segments_done == SEGMENTS == d.segment_count
    assert d.rung == 1
    assert_matches_edge(library, catalog, d)
    assert events[-1].state == "completed" and events[-1].bytes_done == d.bytes_done
    assert any(e.state == "downloading" for e in events)
    # The files are the edge's ciphertext (not plaintext TS); the key is only in the license.
    first = library.store.segment_path(d.id, 0).read_bytes()
    assert first[0] != 0x47 or first[188] != 0x47
    assert library.content_key(d) == streaming_key
    assert streaming_key not in b"".join(p.read_bytes() for p in
                                         library.root.rglob("*") if p.is_file())
    subtitles = sorted(p.name for p in (library.store.folder(d.id) / "sub").iterdir())
    assert subtitles == ["en.vtt", "fr.vtt"]


def test_pause_resume_and_a_dead_edge(fleet: ReadyInfo, catalog: Path, library: OfflineLibrary,
                                      admin: httpx.Client) -> None:
    """Paused mid-way (the edge is slow), then one edge dies: the resume finishes from the
    other edge and fetches no finished segment again."""
    admin.post("/admin/edges/edge-1/faults", json={"kind": "slow", "rate_kbps": 600})
    admin.post("/admin/edges/edge-2/faults", json={"kind": "slow", "rate_kbps": 600})

    seen_at_pause: list[int] = []

    async def main() -> tuple[Download, Download]:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            manager = DownloadManager(library, cp, "svc")
            d = await manager.add("title3", profile, quality="0")
            manager.start(d.id)
            deadline = time.monotonic() + 20
            while library.get(d.id).segments_done < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await manager.pause(d.id)
            paused = library.get(d.id)
            seen_at_pause.append(len(requests_for(fleet)))
            for name in ("edge-1", "edge-2"):
                admin.delete(f"/admin/edges/{name}/faults")
            admin.post("/admin/edges/edge-1/faults", json={"kind": "kill"})
            await manager.resume(d.id)
            done = await manager.wait(d.id)
            await manager.aclose()
            return paused, done

    paused, done = asyncio.run(main())
    assert paused.state == "paused" and 2 <= paused.segments_done < SEGMENTS
    assert done.state == "completed"
    assert_matches_edge(library, catalog, done)
    finished = {i for i in range(SEGMENTS) if i < paused.segments_done}
    after = [r for r in requests_for(fleet)[seen_at_pause[0]:]
             if "/seg_" in str(r.get("path")) and "title3" in str(r.get("path"))]
    again = {int(str(r["path"]).rsplit("seg_", 1)[1][:5]) for r in after}
    assert after and not again & finished, f"finished segments fetched again: {again}"


def requests_for(fleet: ReadyInfo) -> list[dict[str, object]]:
    with httpx.Client(base_url=fleet.admin_url, headers=fleet.admin_headers, timeout=5.0) as admin:
        out: list[dict[str, object]] = []
        for name, _ in fleet.edges:
            answer = admin.get(f"/admin/edges/{name}/requests").json()
            out += answer["requests"] if isinstance(answer, dict) else answer
        return sorted(out, key=lambda r: float(str(r.get("ts") or r.get("time") or 0)))


def test_tampered_segment_is_found_and_repaired(fleet: ReadyInfo, catalog: Path,
                                                library: OfflineLibrary) -> None:
    async def main() -> Download:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            d, _ = await download(library, cp, profile, "title0", quality="0")
            path = library.store.segment_path(d.id, 3)
            data = bytearray(path.read_bytes())
            data[1000] ^= 0xFF
            path.write_bytes(bytes(data))
            assert library.damaged_segments(d) == [3]
            with pytest.raises(OfflineError) as caught:
                library.store.read_segment(d.id, 3, data and len(data),
                                           library.journal.segments(d.id)[3].sha256)
            assert caught.value.code == "tampered" and "Repair" in caught.value.message
            library.mark_for_repair(d, [3])
            manager = DownloadManager(library, cp, "svc")
            manager.start(d.id)
            repaired = await manager.wait(d.id)
            await manager.aclose()
            return repaired

    repaired = asyncio.run(main())
    assert repaired.state == "completed"
    assert library.damaged_segments(repaired) == []
    assert_matches_edge(library, catalog, repaired)


def test_download_limit_and_release_on_delete(fleet: ReadyInfo, library: OfflineLibrary) -> None:
    async def main() -> tuple[EntitlementError, int, int, Download]:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            manager = DownloadManager(library, cp, "svc")
            first = await manager.add("title0", profile, quality="0")
            await manager.add("title3", profile, quality="0")
            with pytest.raises(EntitlementError) as caught:
                await manager.add("title5", profile, quality="0")
            assert library.for_title("title5") is None  # nothing half-made
            active_before = len((await cp.offline_licenses())["licenses"])
            await manager.delete(first.id)
            active_after = len((await cp.offline_licenses())["licenses"])
            third = await manager.add("title5", profile, quality="0")
            await manager.aclose()
            return caught.value, active_before, active_after, third

    refused, before, after, third = asyncio.run(main())
    assert refused.code == "download_limit" and "delete one" in refused.message
    assert (before, after) == (2, 1)
    assert third.state == "queued"
    assert library.for_title("title0") is None
    assert not (library.store.root / "title0").exists()


def test_delete_while_offline_releases_on_the_next_contact(fleet: ReadyInfo,
                                                           library: OfflineLibrary) -> None:
    async def main() -> tuple[int, int]:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            manager = DownloadManager(library, cp, "svc")
            d = await manager.add("title0", profile, quality="0")
            cp.set_base_url("http://127.0.0.1:9")  # unreachable
            await manager.delete(d.id)
            owed = len(library.journal.releases_owed("svc"))
            cp.set_base_url(fleet.base_url)
            released = await manager.release_owed()
            await manager.aclose()
            assert (await cp.offline_licenses())["licenses"] == []
            return owed, released

    assert asyncio.run(main()) == (1, 1)


def test_wrong_device_key_cannot_play_a_copied_download(fleet: ReadyInfo, tmp_path: Path,
                                                        library: OfflineLibrary) -> None:
    async def main() -> Download:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            d, _ = await download(library, cp, profile, "title0", quality="0")
            return d

    d = asyncio.run(main())
    library.pin("svc", library.pinned_key("svc") or b"")
    copy = tmp_path / "copied"
    shutil.copytree(library.root, copy)
    other = OfflineLibrary(copy, device=f"other-{uuid.uuid4().hex}")
    try:
        with pytest.raises(OfflineError) as caught:
            other.content_key(other.get(d.id))
        assert caught.value.code == "wrong_device"
        assert "another device" in caught.value.message
        assert library.content_key(d)  # the original still plays
    finally:
        other.keys.delete()
        other.close()


def test_expiry_window_renewal_and_clock_rollback(start_controlplane: StartControlPlane,
                                                  catalog: Path, library: OfflineLibrary
                                                  ) -> None:
    """Policy in seconds: licenses expire 3 s after issue, play for 1 s after the first play.
    Time passes on both clocks that judge it, the device's and the control plane's (admin
    API), never in a sleep."""
    short = start_controlplane(catalog_args=("--catalog-dir", str(catalog)), edges=1,
                               policy=("offline_license_ttl_s=3",
                                       "offline_playback_window_s=1")).ready
    offset_s = 0.0

    def wall() -> float:
        return time.time() + offset_s

    def later(seconds: float) -> None:
        nonlocal offset_s
        offset_s += seconds
        with httpx.Client() as admin:
            advance_clock(admin, short, seconds)

    # the fixture's folder and device, on the clock above
    lib = OfflineLibrary(library.root, device=library.keys.device,
                         config=OfflineConfig(min_free_bytes=0), wall=wall)

    async def main() -> None:
        async with signed_in(short.base_url, lib) as (cp, profile):
            manager = DownloadManager(lib, cp, "svc")
            a = await manager.add("title0", profile, quality="0")
            b = await manager.add("title3", profile, quality="0")
            for d in (a, b):
                manager.start(d.id)
                await manager.wait(d.id)
            a, b = lib.get(a.id), lib.get(b.id)
            lib.content_key(a, first_play=True)  # the window of a starts
            later(1.2)
            with pytest.raises(OfflineError) as window:
                lib.content_key(lib.get(a.id))
            assert window.value.code == "window_expired" and "renew" in window.value.message
            assert lib.content_key(b)  # b was never played: only its expiry counts
            later(max(0.0, (b.expires_at or 0) - wall()) + 0.3)
            with pytest.raises(OfflineError) as expired:
                lib.content_key(lib.get(b.id))
            assert expired.value.code == "license_expired"
            assert "renew" in expired.value.message.lower()
            renewed = await manager.renew(b.id)
            assert lib.content_key(renewed)
            await manager.renew(a.id)  # the window stays closed: first play is remembered
            with pytest.raises(OfflineError) as still:
                lib.content_key(lib.get(a.id))
            assert still.value.code == "window_expired"
            await manager.aclose()

    try:
        asyncio.run(main())
        d = lib.for_title("title3")
        assert d is not None
        rolled = OfflineLibrary(lib.root, device=lib.keys.device,
                                wall=lambda: time.time() - 3600)
        try:
            with pytest.raises(OfflineError) as caught:
                rolled.content_key(d)
            assert caught.value.code == "clock_rollback" and "clock" in caught.value.message
        finally:
            rolled.close()
        assert lib.content_key(d)  # the right clock: plays again
    finally:
        lib.close()


def test_full_disk_pauses_and_loses_nothing(fleet: ReadyInfo, catalog: Path, tmp_path: Path,
                                            library: OfflineLibrary,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A real full disk (a 1 MiB tmpfs holding the media, filled up; the journal is on another
    disk, as with a download folder on a card): the download pauses with ``disk_full``, every
    finished segment is intact, and it completes once there is room."""
    root = tmp_path / "small"
    mount = root / "media"
    mount.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    small = OfflineLibrary(root, device=library.keys.device,
                           config=OfflineConfig(min_free_bytes=0))
    try:
        # The planning estimate is told there is room, so the write itself meets the full disk.
        for module in ("offline.adding", "offline.downloader"):
            monkeypatch.setattr(f"{module}.free_bytes", lambda _: 10**9)
        free = shutil.disk_usage(mount).free
        (mount / "filler").write_bytes(b"\0" * (free - 3 * 37_648 - 20_000))

        async def main() -> tuple[Download, Download]:
            async with signed_in(fleet.base_url, small) as (cp, profile):
                manager = DownloadManager(small, cp, "svc")
                d = await manager.add("title0", profile, quality="0")
                manager.start(d.id)
                paused = await manager.wait(d.id)
                (mount / "filler").unlink()
                manager.start(d.id)
                finished = await manager.wait(d.id)
                await manager.aclose()
                return paused, finished

        paused, finished = asyncio.run(main())
        assert paused.state == "paused" and paused.error_code == "disk_full"
        assert "full" in (paused.error or "") and "resume" in (paused.error or "")
        # The free space when the write failed, in a unit that does not round it away (it said
        # "0 MB", or the room its dropped part freed again).
        shown = re.search(r"\((\d+) (KiB|bytes) free\)", paused.error or "")
        assert shown is not None, paused.error
        assert int(shown[1]) * (1024 if shown[2] == "KiB" else 1) < 37_648
        assert 0 < paused.segments_done < SEGMENTS
        assert finished.state == "completed"
        assert_matches_edge(small, catalog, finished)
    finally:
        small.close()
        subprocess.run(["umount", str(mount)], check=False)


def test_no_room_is_refused_before_anything_is_fetched(fleet: ReadyInfo,
                                                       library: OfflineLibrary,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("offline.adding.free_bytes", lambda _: 1000)

    async def main() -> OfflineError:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            manager = DownloadManager(library, cp, "svc")
            with pytest.raises(OfflineError) as caught:
                await manager.add("title0", profile, quality="0")
            assert (await cp.offline_licenses())["licenses"] == []  # no license used up
            await manager.aclose()
            return caught.value

    error = asyncio.run(main())
    assert error.code == "disk_full" and "free" in error.message
    assert library.all() == []


def test_leftover_parts_are_continued_checked_or_dropped(fleet: ReadyInfo, catalog: Path,
                                                         library: OfflineLibrary) -> None:
    """What a crash leaves: a whole part not yet renamed (kept after a check), a half part
    (continued with a Range request), and a part longer than its segment (dropped)."""
    async def main() -> Download:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            d, _ = await download(library, cp, profile, "title0", quality="0")
            library.mark_for_repair(d, [1, 2, 3])
            whole = edge_bytes(catalog, d, 1)
            library.store.part_path(d.id, 1).write_bytes(whole)
            library.store.part_path(d.id, 2).write_bytes(edge_bytes(catalog, d, 2)[:5000])
            library.store.part_path(d.id, 3).write_bytes(b"\0" * (len(whole) + 100))
            manager = DownloadManager(library, cp, "svc")
            manager.start(d.id)
            repaired = await manager.wait(d.id)
            await manager.aclose()
            return repaired

    before = len(requests_for(fleet))
    repaired = asyncio.run(main())
    assert repaired.state == "completed"
    assert_matches_edge(library, catalog, repaired)
    ranges = {str(r["path"]).rsplit("seg_", 1)[1][:5]: r.get("range")
              for r in requests_for(fleet)[before:] if "/seg_" in str(r.get("path"))}
    assert ranges["00002"] == "bytes=5000-"
    assert ranges["00003"] is None  # dropped, fetched whole
