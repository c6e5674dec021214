"""Downloads of what streaming services ship today, and a download's failover across edges.

* An fMP4 title with separate audio renditions in two languages and segmented WebVTT, packaged
  by ffmpeg and served by a plain HTTP server (the origin): downloaded by the real downloader
  (journal, store, the device key in the real keyring; the license from the real control plane,
  whose playback answer is pointed at the origin), init segments included, every clear part
  sealed at rest; a flipped byte in an init segment found and repaired; then played offline in
  real libmpv (video, both audio languages, the subtitles) without one request to the origin.
* A download whose edge dies mid-way goes on from the other edge (the edge request logs).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from offline.atrest import AtRest
from offline.downloader import DownloadManager
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.plan import Layout
from offline.playback import OfflineSession
from player.api.models import Playback
from player.bundled import ReadyInfo
from player.mpv_seam import create_mpv
from player.session import SessionConfig
from tests.helpers.fake_catalog import encrypt_segment
from tests.integration.test_offline import (
    assert_matches_edge,
    catalog,
    fleet,
    library,
    signed_in,
)
from tests.integration.test_packaged_hls import _RangeHandler, _serve

__all__ = ["catalog", "fleet", "library"]  # fixtures shared with test_offline.py

pytestmark = [pytest.mark.mpv, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")]

DURATION_S = 8
VTT = ["WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
       f"00:00:0{k * 3}.500 --> 00:00:0{k * 3 + 2}.000\n{word}\n"
       for k, word in enumerate(("Hello", "World", "Again"))]


def _package(root: Path) -> None:
    """fMP4 video in two renditions + separate AAC audio in English and French (ffmpeg's HLS
    muxer), and an English subtitle rendition of three WebVTT segments added to its master."""
    sep = root / "sep"
    sep.mkdir()
    var_map = ("v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud,language:en,default:yes "
               "a:1,agroup:aud,language:fr")
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=size=320x180:rate=25:duration={DURATION_S}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION_S}",
         "-f", "lavfi", "-i", f"sine=frequency=660:duration={DURATION_S}",
         "-map", "0:v", "-map", "0:v", "-map", "1:a", "-map", "2:a",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
         "-sc_threshold", "0", "-s:v:1", "640x360", "-c:a", "aac", "-b:a", "64k",
         "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
         "-hls_segment_type", "fmp4", "-master_pl_name", "master.m3u8",
         "-var_stream_map", var_map, "-hls_segment_filename", "%v/s%d.m4s", "%v/index.m3u8"],
        cwd=sep, check=True, timeout=120)
    (sep / "sub").mkdir()
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:3", "#EXT-X-MEDIA-SEQUENCE:0",
             "#EXT-X-PLAYLIST-TYPE:VOD"]
    for k, text in enumerate(VTT):
        (sep / "sub" / f"s{k}.vtt").write_text(text)
        lines += ["#EXTINF:3.0,", f"s{k}.vtt"]
    (sep / "sub" / "index.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
    master = (sep / "master.m3u8").read_text().replace(
        'AUDIO="group_aud"', 'AUDIO="group_aud",SUBTITLES="subs"')
    (sep / "master.m3u8").write_text(master.replace(
        "#EXT-X-STREAM-INF", '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",'
        'NAME="English",AUTOSELECT=YES,URI="sub/index.m3u8"\n#EXT-X-STREAM-INF', 1))


def _package_single(root: Path) -> None:
    """fMP4 in one file: the init segment and every media segment are byte ranges of it."""
    single = root / "single"
    single.mkdir()
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=size=320x180:rate=25:duration={DURATION_S}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION_S}",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
         "-sc_threshold", "0", "-c:a", "aac", "-f", "hls", "-hls_time", "2",
         "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", "-hls_flags", "single_file",
         "index.m3u8"], cwd=single, check=True, timeout=120)
    (single / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180\nindex.m3u8\n")


class _Counted(_RangeHandler):
    """The origin, counting the requests it answers."""

    served: ClassVar[list[str]] = []

    def send_head(self) -> Any:
        type(self).served.append(self.path)
        return super().send_head()


@pytest.fixture(scope="module")
def origin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fmp4-origin")
    _package(root)
    _package_single(root)
    return root


@pytest.fixture(scope="module")
def origin(origin_root: Path) -> Iterator[str]:
    yield from _serve(origin_root, _Counted)


def _origin_playback(cp: Any, monkeypatch: pytest.MonkeyPatch, master: str) -> None:
    """The control plane's playback answer (session, license) with the origin's manifest."""
    real = cp.start_playback

    async def start_playback(title_id: str, profile_id: str, *args: Any,
                             **kwargs: Any) -> Playback:
        answer = await real(title_id, profile_id, *args, **kwargs)
        return dataclasses.replace(answer, manifest_url=master, multivariant_playlist=None,
                                   pathways=(), steering_url=None)

    monkeypatch.setattr(cp, "start_playback", start_playback)


def _origin_file(root_url: str, uri: str) -> bytes:
    return httpx.get(f"{root_url}/sep/{uri}").content


def _set_info(library: OfflineLibrary, d: Download, info: dict[str, Any]) -> None:
    """What a hand edit of the journal would do (``info`` is not sealed)."""
    with library.journal.transaction() as db:
        db.execute("UPDATE downloads SET info = ? WHERE id = ?", (json.dumps(info), d.id))


def test_fmp4_with_separate_audio_downloads_and_plays_offline(
        fleet: ReadyInfo, origin: str, library: OfflineLibrary,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def fetch() -> tuple[Download, list[int], Download]:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            _origin_playback(cp, monkeypatch, f"{origin}/sep/master.m3u8")
            manager = DownloadManager(library, cp, "svc")
            try:
                with pytest.raises(OfflineError) as refused:
                    await manager.add("title0", profile, audio=["de"])
                assert refused.value.code == "bad_audio"
                assert "(it offers: en, fr)" in refused.value.message
                assert (await cp.offline_licenses())["licenses"] == []  # none used up
                d = await manager.add("title0", profile, quality="best", audio=["en", "fr"])
                manager.start(d.id)
                done = await manager.wait(d.id)
                # A flipped byte in the video's init segment: found, and only it fetched again.
                init = Layout.of(done.info, done.rendition, []).video.inits[0][0]
                path = library.store.segment_path(d.id, init)
                raw = bytearray(path.read_bytes())
                raw[len(raw) // 2] ^= 0x01
                path.write_bytes(bytes(raw))
                damaged = library.damaged_segments(done)
                library.mark_for_repair(done, damaged)
                manager.start(d.id)
                repaired = await manager.wait(d.id)
            finally:
                await manager.aclose()
            return done, damaged, repaired

    done, damaged, repaired = asyncio.run(fetch())
    assert done.state == "completed" and done.error is None
    layout = Layout.of(done.info, done.rendition, [])
    video, *audio = layout.tracks
    assert video.kind == "video" and video.container == "fmp4" and len(video.media) == 4
    assert [(t.language, t.default) for t in audio] == [("en", True), ("fr", False)]
    assert all(t.container == "fmp4" and len(t.inits) == 1 for t in layout.tracks)
    assert done.info["audio"] == ["en", "fr"]
    # every part: the video's 4 segments, the audio's 5 + 5, and their 3 init segments
    assert done.segment_count == done.segments_done == 4 + 5 + 5 + 3
    assert damaged == [video.inits[0][0]]
    assert repaired.state == "completed" and library.damaged_segments(repaired) == []

    # Sealed at rest: no clear MP4 box on disk; opened with the device-bound key, the bytes
    # are the origin's exactly.
    seal = AtRest(library.content_key(repaired), repaired.id)
    folder = video.rendition  # ffmpeg's "%v" folder: the rendition id is the URI's path
    names = {m.part: f"{folder}/s{m.segment}.m4s" for m in video.media}
    names[video.inits[0][0]] = f"{folder}/init_{folder}.mp4"
    for part, uri in names.items():
        stored = library.store.segment_path(repaired.id, part).read_bytes()
        assert b"moov" not in stored and b"moof" not in stored and b"mdat" not in stored
        assert seal.apply(stored, 0, part) == _origin_file(origin, uri), uri
    for row in library.journal.segments(repaired.id):
        stored = library.store.segment_path(repaired.id, row.index).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == row.sha256
    assert (library.store.subtitle_path(repaired.id, "en").read_text().count("WEBVTT")) == 1

    before = len(_Counted.served)
    seen = asyncio.run(_play_offline(library, repaired))
    assert len(_Counted.served) == before, "offline playback asked the origin"
    assert seen["types"].count("video") == 1 and seen["types"].count("audio") == 2
    assert seen["languages"] == ["en", "fr"]
    assert seen["selected_audio"] == [["audio", "1", "media.m3u8"]]  # the bridge's French
    assert seen["subtitles"] == ["en"] and seen["sub_selected"] == ["en"]
    assert seen["end"] == "eof" and seen["position_s"] >= DURATION_S - 2.5
    assert [a.rsplit(" ", 1)[-1] for a in seen["renditions"]] == ["(en)", "(fr)"]

    # Its audio parts gone from the layout (a hand edit): refused, never played silent.
    _set_info(library, repaired, {**repaired.info, "layout": Layout(
        layout.tracks[:1], separate_audio=True).to_json()})
    with pytest.raises(OfflineError) as silent:
        asyncio.run(_play_offline(library, library.get(repaired.id)))
    assert silent.value.code == "no_audio" and "no sound" in silent.value.message


def test_single_file_fmp4_with_byte_ranges_downloads_and_plays_offline(
        fleet: ReadyInfo, origin: str, library: OfflineLibrary,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """EXT-X-MAP with BYTERANGE and byte-range segments of one file: each range is one part."""
    async def fetch() -> Download:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            _origin_playback(cp, monkeypatch, f"{origin}/single/master.m3u8")
            manager = DownloadManager(library, cp, "svc")
            try:
                d = await manager.add("title2", profile)
                manager.start(d.id)
                return await manager.wait(d.id)
            finally:
                await manager.aclose()

    done = asyncio.run(fetch())
    assert done.state == "completed" and done.segment_count == done.segments_done == 4 + 1
    video = Layout.of(done.info, done.rendition, []).video
    assert video.container == "fmp4" and video.inits == ((4, 0),) and video.sealed
    whole = httpx.get(f"{origin}/single/index.m4s").content
    seal = AtRest(library.content_key(done), done.id)
    assert b"".join(seal.apply(library.store.segment_path(done.id, k).read_bytes(), 0, k)
                    for k in (4, 0, 1, 2, 3)) == whole  # the ranges, in order, are the file
    seen = asyncio.run(_play_offline(library, done, audio=False))
    assert sorted(seen["types"]) == ["audio", "video"]
    assert seen["end"] == "eof" and seen["position_s"] >= DURATION_S - 2.5


async def _play_offline(library: OfflineLibrary, d: Download,
                        audio: bool = True) -> dict[str, Any]:
    """Play ``d`` to the end; with ``audio``, switch to French and English subtitles."""
    seen: dict[str, Any] = {}
    mpv = create_mpv(vo="null", ao="null", untimed="yes", ao_null_untimed="yes")
    session = OfflineSession(library, d, mpv, config=SessionConfig(post_telemetry=False,
                                                                     progress_interval_s=None))
    try:
        await session.play()
        seen["languages"] = session.audio_languages
        seen["subtitles"] = session.subtitle_languages
        if audio:
            await session.set_audio("fr")
            await session.set_subtitles("en")
        tracks = await session._mpv_call(mpv.get, "track-list")
        seen["types"] = [t["type"] for t in tracks]
        seen["selected_audio"] = [str(t.get("external-filename")).rsplit("/", 3)[-3:]
                                  for t in tracks if t["type"] == "audio" and t.get("selected")]
        seen["sub_selected"] = [t.get("lang") for t in tracks
                                if t["type"] == "sub" and t.get("selected")]
        async with asyncio.timeout(60):
            seen["end"] = await session.wait_ended()
        seen["position_s"] = session.position_s
    finally:
        await session.stop()
        mpv.terminate()
    seen["renditions"] = session.report().audio_renditions
    return seen


def _edge_requests(fleet: ReadyInfo, title: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with httpx.Client(base_url=fleet.admin_url, headers=fleet.admin_headers,
                      timeout=5.0) as client:
        for name, _ in fleet.edges:
            answer = client.get(f"/admin/edges/{name}/requests").json()
            out += answer["requests"] if isinstance(answer, dict) else answer
    return sorted((r for r in out if "/seg_" in str(r.get("path"))
                   and f"/{title}/" in str(r.get("path"))), key=lambda r: float(r["ts"]))


def _segment(request: dict[str, Any]) -> int:
    return int(str(request["path"]).rsplit("seg_", 1)[1][:5])


def test_a_download_fails_over_when_its_edge_dies(fleet: ReadyInfo, catalog: Path,
                                                  library: OfflineLibrary,
                                                  admin: httpx.Client) -> None:
    """The download runs from one (slow) edge, the other answering 503; once two segments are
    done and a third is under way, that edge is killed and the other one healed: the download
    goes on from the other edge without a pause or an error, the segment cut off continued
    with a Range request, no finished one fetched again."""
    (victim, _), (other, _) = fleet.edges[:2]
    admin.post(f"/admin/edges/{victim}/faults", json={"kind": "slow", "rate_kbps": 400})
    admin.post(f"/admin/edges/{other}/faults", json={"kind": "error", "status": 503})
    killed: dict[str, Any] = {}

    async def main() -> tuple[Download, list[str]]:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            states: list[str] = []
            manager = DownloadManager(library, cp, "svc",
                                      on_event=lambda p: states.append(p.state))
            try:
                d = await manager.add("title5", profile, quality="0")
                manager.start(d.id)
                deadline = time.monotonic() + 30
                while not (held := _held(library, d)) and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                killed.update(at=time.time(), held=held, done={
                    r.index for r in library.journal.segments(d.id) if r.done})
                admin.post(f"/admin/edges/{victim}/faults", json={"kind": "kill"})
                admin.delete(f"/admin/edges/{other}/faults")
                return await manager.wait(d.id), states
            finally:
                await manager.aclose()

    done, states = asyncio.run(main())
    assert done.state == "completed" and done.error is None
    assert "paused" not in states and "failed" not in states
    assert killed["held"], "no segment was under way when the edge died"
    assert_matches_edge(library, catalog, done)
    served = [r for r in _edge_requests(fleet, "title5") if r.get("status") in (200, 206)]
    before = [r for r in served if float(r["ts"]) < killed["at"]]
    after = [r for r in served if float(r["ts"]) >= killed["at"]]
    assert {r["edge"] for r in before} == {victim}
    assert {r["edge"] for r in after} == {other}
    # every segment not finished when the edge died came from the other edge, and only those
    assert {_segment(r) for r in after} == set(range(done.segment_count)) - killed["done"]
    for index, size in killed["held"].items():
        resumed = [r.get("range") for r in after if _segment(r) == index]
        assert resumed and str(resumed[0]).startswith("bytes="), (index, resumed)
        assert int(str(resumed[0])[6:].rstrip("-")) >= size


def _held(library: OfflineLibrary, d: Download) -> dict[int, int]:
    """Bytes in the part files of unfinished segments, once two segments are done."""
    done = {r.index for r in library.journal.segments(d.id) if r.done}
    if len(done) < 2:
        return {}
    held = {int(p.name.split(".")[0]): p.stat().st_size
            for p in library.store.folder(d.id).glob("seg/*.part")}
    return {index: size for index, size in held.items() if size >= 4096 and index not in done}


def test_aes128_fmp4_keeps_the_edge_ciphertext_and_seals_the_clear_init(
        fleet: ReadyInfo, origin_root: Path, origin: str, library: OfflineLibrary,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole-segment AES-128 over fMP4 (the init segment clear, as packagers leave it), under
    the title's content key: the segments are stored as the origin serves them, the init
    segment sealed; it plays offline."""
    root = origin_root
    enc = root / "encfmp4"

    async def fetch() -> Download:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            key = await cp.streaming_key(cp.url("/v1/licenses/streaming/title3"))
            enc.mkdir(exist_ok=True)
            shutil.copy(root / "sep" / "0" / "init_0.mp4", enc / "init_0.mp4")
            for k in range(4):
                plain = (root / "sep" / "0" / f"s{k}.m4s").read_bytes()
                (enc / f"s{k}.m4s").write_bytes(encrypt_segment(plain, key, k))
            playlist = (root / "sep" / "0" / "index.m3u8").read_text()
            (enc / "index.m3u8").write_text(playlist.replace(
                "#EXTINF", '#EXT-X-KEY:METHOD=AES-128,URI="key.bin"\n#EXTINF', 1))
            (enc / "master.m3u8").write_text(
                "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180\nindex.m3u8\n")
            _origin_playback(cp, monkeypatch, f"{origin}/encfmp4/master.m3u8")
            manager = DownloadManager(library, cp, "svc")
            try:
                d = await manager.add("title3", profile)
                manager.start(d.id)
                return await manager.wait(d.id)
            finally:
                await manager.aclose()

    done = asyncio.run(fetch())
    assert done.state == "completed" and done.segment_count == 4 + 1
    video = Layout.of(done.info, done.rendition, []).video
    assert video.encrypted and not video.sealed and video.inits == ((4, 0),)
    for k in range(4):
        assert library.store.segment_path(done.id, k).read_bytes() == (
            enc / f"s{k}.m4s").read_bytes()
    init = library.store.segment_path(done.id, 4).read_bytes()
    assert b"moov" not in init and AtRest(library.content_key(done), done.id).apply(
        init, 0, 4) == (enc / "init_0.mp4").read_bytes()
    seen = asyncio.run(_play_offline(library, done, audio=False))
    assert seen["types"] == ["video"]  # this master lists no audio for the rendition
    assert seen["end"] == "eof" and seen["position_s"] >= DURATION_S - 2.5
