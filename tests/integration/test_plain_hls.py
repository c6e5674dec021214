"""A plain HLS VOD URL plays with no control plane: stdlib http.server, the real libmpv."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from player.errors import ManifestError
from player.mpv_seam import create_mpv
from player.prefetch import prefetch_start
from player.session import PlaybackSession, SessionConfig
from tests.helpers.fake_catalog import encrypt_segment
from tests.integration.test_bridge_mpv import RENDITIONS, SEGMENT_S, make_renditions

pytestmark = [pytest.mark.mpv, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SEGMENTS = 4
KEY = bytes(range(16))
BANDWIDTH = {"180p": 400_000, "360p": 1_000_000}


def _multivariant(prefix: str = "") -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for name, size in RENDITIONS.items():
        lines += [f"#EXT-X-STREAM-INF:BANDWIDTH={BANDWIDTH[name]},RESOLUTION={size}",
                  f"{prefix}{name}/index.m3u8"]
    return "\n".join([*lines, ""])


def _write_media_set(root: Path) -> None:
    """Clear renditions (``master.m3u8``), AES-128 copies (``enc/master.m3u8``, the key at
    ``/key.bin``, IV = sequence number) and a live playlist (``live/index.m3u8``)."""
    make_renditions(root, segments=SEGMENTS)
    (root / "master.m3u8").write_text(_multivariant())
    (root / "key.bin").write_bytes(KEY)
    for name in RENDITIONS:
        out = root / "enc" / name
        out.mkdir(parents=True)
        playlist = (root / name / "index.m3u8").read_text()
        for k in range(SEGMENTS):
            plain = (root / name / f"s{k}.ts").read_bytes()
            (out / f"s{k}.ts").write_bytes(encrypt_segment(plain, KEY, k))
        playlist = playlist.replace("#EXTINF", '#EXT-X-KEY:METHOD=AES-128,URI="/key.bin"\n#EXTINF',
                                    1)
        (out / "index.m3u8").write_text(playlist)
    (root / "enc" / "master.m3u8").write_text(_multivariant())
    live = root / "live"
    live.mkdir()
    text = (root / "180p" / "index.m3u8").read_text()
    text = "\n".join(line for line in text.splitlines()
                     if line not in ("#EXT-X-ENDLIST", "#EXT-X-PLAYLIST-TYPE:VOD"))
    (live / "index.m3u8").write_text(text.replace("s0.ts", "../180p/s0.ts") + "\n")


class _Quiet(SimpleHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012  (the origin's request log: every path asked)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        _Quiet.requests.append(self.path)
        super().do_GET()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("plain-hls")
    _write_media_set(root)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, name="plain-hls", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _play_to_end(url: str) -> PlaybackSession:
    async def main() -> PlaybackSession:
        mpv = create_mpv(vo="null", ao="null", untimed="yes", ao_null_untimed="yes")
        session = PlaybackSession.from_url(url, mpv, config=SessionConfig(progress_interval_s=1))
        try:
            await session.play()
            async with asyncio.timeout(60):
                assert await session.wait_ended() == "eof"
        finally:
            await session.stop()
            mpv.terminate()
        return session
    return asyncio.run(main())


def _assert_played_everything(session: PlaybackSession) -> None:
    assert session.error is None
    assert session.playback is not None and session.playback.license_url == ""
    assert session.steering is None and session.pool is not None
    assert session.pool.names == (".",)
    assert session.duration_s == pytest.approx(SEGMENTS * SEGMENT_S)
    assert session.scheduler is not None
    assert {k for k, _, _ in session.scheduler.fetched} == set(range(SEGMENTS))
    assert session.position_s >= (SEGMENTS - 1) * SEGMENT_S
    report = session.report()
    assert report.to_json()["ttff_ms"] is not None
    types = [e["type"] for e in session.telemetry.events]
    assert "first_frame" in types and types[-1] == "session_end"
    assert session.telemetry.events[-1]["reason"] == "eof"


@pytest.mark.parametrize("path", ["master.m3u8", "enc/master.m3u8", "180p/index.m3u8"],
                         ids=["multivariant", "aes128", "media-playlist"])
def test_a_plain_url_plays_to_the_end_without_a_control_plane(
        server: str, path: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    session = _play_to_end(f"{server}/{path}")
    _assert_played_everything(session)
    expected = 1 if path.startswith("180p") else 2
    assert session.multivariant is not None
    assert len(session.multivariant.pathways[0].variants) == expected
    assert not [r for r in caplog.records if r.name.startswith("player.mpv")
                and r.levelno >= logging.ERROR]


def test_a_live_playlist_is_refused_with_a_clear_error(server: str) -> None:
    async def main() -> None:
        mpv = create_mpv(vo="null", ao="null")
        session = PlaybackSession.from_url(f"{server}/live/index.m3u8", mpv)
        try:
            await session.play()
        finally:
            await session.stop()
            mpv.terminate()
    with pytest.raises(ManifestError, match="Live playlists are not supported"):
        asyncio.run(main())


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui.cli", "play", *args, "--headless"],
                          cwd=REPO, capture_output=True, text=True, timeout=90)


def test_the_cli_plays_a_url_and_prints_a_json_report(server: str) -> None:
    result = _cli(f"{server}/enc/master.m3u8", "--json", "--duration", "2")
    assert result.returncode == 0, result.stderr
    assert "control plane" not in result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert report["ttff_ms"] > 0


def test_the_cli_refuses_a_live_playlist_in_one_line(server: str) -> None:
    result = _cli(f"{server}/live/index.m3u8")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("edgeplay:")]
    assert len(errors) == 1 and "Live playlists are not supported" in errors[0]


def test_the_cli_reports_an_unknown_average_bitrate_as_null(server: str) -> None:
    """A bare media playlist says nothing of its bitrate: the average is unknown (null), not 0;
    the multivariant playlist's BANDWIDTH gives one."""
    bare = _cli(f"{server}/180p/index.m3u8", "--json", "--duration", "2")
    assert bare.returncode == 0, bare.stderr
    report = json.loads(bare.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["played_s"] >= 1.9
    assert report["average_bitrate_bps"] is None
    assert report["edges_used"] == ["."] and report["segments_by_edge"]["."] >= 1
    known = _cli(f"{server}/master.m3u8", "--json", "--duration", "2", "--max-rung", "0")
    assert known.returncode == 0, known.stderr
    assert json.loads(known.stdout.strip().splitlines()[-1])["average_bitrate_bps"] == 400_000


def test_a_prefetched_url_plays_without_asking_the_origin_twice(server: str) -> None:
    url = f"{server}/enc/master.m3u8"

    async def main() -> tuple[list[str], PlaybackSession]:
        mpv = create_mpv(vo="null", ao="null")
        before = len(_Quiet.requests)
        config = SessionConfig(progress_interval_s=None, post_telemetry=False)
        prefetched = await prefetch_start(None, url=url, config=config)
        asked = _Quiet.requests[before:]
        session = PlaybackSession.from_url(url, mpv, config=config, playback=prefetched)
        try:
            await session.play()
        finally:
            await session.stop()
            mpv.terminate()
        return asked, session

    before = len(_Quiet.requests)
    prefetched, session = asyncio.run(main())
    assert session.error is None and "prefetched" in session.startup_ms
    assert {"/enc/master.m3u8", "/key.bin", "/enc/180p/index.m3u8", "/enc/180p/s0.ts",
            "/enc/180p/s1.ts"} <= set(prefetched)
    everything = _Quiet.requests[before:]
    assert {path: everything.count(path) for path in prefetched} == {p: 1 for p in prefetched}


def test_the_cli_prefetches_a_url_and_plays_from_it(server: str) -> None:
    result = _cli(f"{server}/enc/master.m3u8", "--json", "--duration", "1", "--prefetch")
    assert result.returncode == 0, result.stderr
    assert "Prefetched" in result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["ok"] is True
