"""``edgeplay play --json`` tells the truth, as a user sees it: real subprocesses of the CLI,
a real control plane and edges (faults through the admin API), real libmpv, and a plain
``python3 -m http.server`` as the outside world.

Every run here also checks stderr: one line per error, never a traceback, never asyncio's
"Task exception was never retrieved".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from player.bundled import ReadyInfo
from tests.bench.engine_media import make_media_catalog
from tests.conftest import REPO, StartControlPlane
from tests.helpers.fake_catalog import make_fake_catalog

ENV = {**os.environ, "PYTHONPATH": str(REPO)}
TIMEOUT_S = 120


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=TIMEOUT_S, env=ENV)


def assert_clean(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "never retrieved" not in stderr, stderr


def one_report(result: subprocess.CompletedProcess[str], status: int) -> dict[str, Any]:
    """The run's only stdout line, a JSON report; its exit status and a clean stderr."""
    assert result.returncode == status, result.stderr[-3000:]
    assert_clean(result.stderr)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    report: dict[str, Any] = json.loads(lines[0])
    return report


def assert_failed(report: dict[str, Any], code: str) -> None:
    assert report["ok"] is False and report["error_code"] == code, report
    assert report["error_message"], report


# --- failures before playback (no libmpv needed) --------------------------------------------

def test_an_unreachable_control_plane_prints_one_json_object(tmp_path: Path) -> None:
    result = cli("play", "long", "--headless", "--json", "--control-plane",
                 "http://127.0.0.1:9", "--data-dir", str(tmp_path))
    report = one_report(result, 1)
    assert_failed(report, "network")
    assert "127.0.0.1:9" in report["error_message"]
    assert report["ttff_ms"] is None and report["average_bitrate_bps"] is None
    assert report["title_id"] is None and report["session_id"] is None
    assert result.stderr.strip().splitlines()[-1].startswith("edgeplay: Cannot reach")


def test_a_bundled_control_plane_that_cannot_start_prints_one_json_object(
        tmp_path: Path) -> None:
    result = cli("play", "long", "--headless", "--json", "--catalog-dir",
                 str(tmp_path / "no-catalog"), "--data-dir", str(tmp_path / "device"))
    report = one_report(result, 1)
    assert_failed(report, "controlplane_start")
    assert "no catalog at" in report["error_message"]


@pytest.mark.parametrize("args", [
    ("play", "--headless", "--json"),
    ("play", "long", "--headless", "--json", "--duration", "-1"),
    ("play", "long", "--headless", "--json", "--max-rung", "x"),
    ("play", "long", "--headless", "--json", "--no-such-option"),
    ("play", "long", "--json"),
], ids=["no-title", "negative-duration", "bad-rung", "unknown-option", "not-headless"])
def test_bad_arguments_print_one_json_object(args: tuple[str, ...]) -> None:
    report = one_report(cli(*args), 2)
    assert_failed(report, "usage")


def test_offline_failures_print_one_json_object(tmp_path: Path) -> None:
    report = one_report(cli("play", "long", "--offline", "--headless", "--json",
                            "--data-dir", str(tmp_path)), 1)
    assert_failed(report, "not_downloaded")


# --- the outside world: a web server that does not serve playlists --------------------------

@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python3 -m http.server`` over a folder of things that are not playlists."""
    root = tmp_path_factory.mktemp("not-playlists")
    (root / "movie.mp4").write_bytes(struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isomiso2"
                                     + bytes(2000))
    (root / "page.html").write_text("<!DOCTYPE html>\n<html><body>Sign in to the Wi-Fi"
                                    "</body></html>\n")
    (root / "api.json").write_text('{"error": "not here", "status": 404}')
    (root / "blob.bin").write_bytes(bytes(range(256)) * 2)
    catalog = tmp_path_factory.mktemp("clear-ts")
    make_fake_catalog(catalog, titles=1)
    shutil.copy(next(catalog.glob("titles/*/360p/seg_00000.ts")), root / "segment.ts")
    proc = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind",
                             "127.0.0.1", "--directory", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"port (\d+)", line)
        assert match, line
        yield f"http://127.0.0.1:{match[1]}"
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.mpv
@pytest.mark.parametrize(("name", "described", "raw"), [
    ("movie.mp4", "the server sent an MP4 file", ("ftyp", "\\x00")),
    ("page.html", "the server sent HTML", ("DOCTYPE", "<html", "Wi-Fi")),
    ("api.json", "the server sent JSON", ('"error"', "not here")),
    ("blob.bin", "the server sent binary data of 512 bytes", ("\\x00", "\\x01")),
    ("segment.ts", "the server sent an MPEG-TS segment", ("G@",)),
])
def test_a_body_that_is_not_a_playlist_is_described_not_dumped(
        web: str, name: str, described: str, raw: tuple[str, ...]) -> None:
    report = one_report(cli("play", f"{web}/{name}", "--headless", "--json"), 1)
    assert_failed(report, "manifest")
    message = report["error_message"]
    assert described in message and "is not an HLS playlist" in message, message
    for fragment in raw:
        assert fragment not in message, message


# --- playback through the real engine ------------------------------------------------------

@pytest.fixture(scope="module")
def media_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report-media")
    make_media_catalog(root)
    return root


def admin(ready: ReadyInfo) -> httpx.Client:
    return httpx.Client(base_url=ready.admin_url, headers=ready.admin_headers, timeout=5.0)


def fault(client: httpx.Client, edge: str, body: dict[str, Any]) -> None:
    client.post(f"/admin/edges/{edge}/faults", json=body).raise_for_status()


class Watched:
    """A CLI run whose stderr is read line by line while it runs. Each pipe has one reader, a
    thread this object joins: ``communicate()`` would read stderr too and steal lines from it."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "ui.cli", *args], cwd=REPO,
                                     env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: list[str] = []
        self._out: list[str] = []
        self._wanted: tuple[re.Pattern[str], threading.Event] | None = None
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="cli-stderr")
        self._out_reader = threading.Thread(target=self._read_out, name="cli-stdout")
        self._reader.start()
        self._out_reader.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self._out.append(self.proc.stdout.read())

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line)
                if self._wanted is not None and self._wanted[0].search(line):
                    self._wanted[1].set()

    def wait_for(self, pattern: str, timeout_s: float = 60) -> None:
        seen = threading.Event()
        with self._lock:
            self._wanted = (re.compile(pattern), seen)
            if any(self._wanted[0].search(line) for line in self.lines):
                seen.set()
        if not seen.wait(timeout_s):
            raise AssertionError(f"no {pattern!r} on stderr:\n{''.join(self.lines)[-3000:]}")

    def finish(self) -> subprocess.CompletedProcess[str]:
        try:
            self.proc.wait(timeout=TIMEOUT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(10)
            self._out_reader.join(10)
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode,
                                           "".join(self._out), "".join(self.lines))


@pytest.mark.mpv
@pytest.mark.slow
def test_a_session_that_died_fails_even_when_duration_ends_first(
        start_controlplane: StartControlPlane, media_catalog: Path, tmp_path: Path) -> None:
    """Server time jumps 7 h mid-stream: the signed URLs expire, the manifest reload answers
    ``unknown_session`` and the stream dies; mpv still has ~10 s buffered, so ``--duration 6``
    ends first. The run failed all the same."""
    ready = start_controlplane(catalog_args=("--catalog-dir", str(media_catalog)),
                               edges=2).ready
    with admin(ready) as client:
        for name, _ in ready.edges:  # ~0.5 s a segment: the scheduler is still fetching
            fault(client, name, {"kind": "slow", "rate_kbps": 2000, "paths": "segments"})
        run = Watched("play", "long", "--headless", "--json", "--duration", "6", "--max-rung",
                      "0", "--start-over", "-v", "--control-plane", ready.base_url,
                      "--data-dir", str(tmp_path))
        try:
            run.wait_for(r"segment 4: rung")  # segments 0-3 (16 s) are buffered
            client.post("/admin/clock", json={"offset_s": 7 * 3600}).raise_for_status()
            result = run.finish()
        finally:
            client.post("/admin/clock", json={"offset_s": 0})
    report = one_report(result, 1)
    assert "unknown_session" in result.stderr  # the cause, as the engine logged it
    assert_failed(report, "session_ended")
    assert report["played_s"] >= 5.9  # --duration ended the run: mpv still had media
    assert "start playback again" in report["error_message"]


@pytest.mark.mpv
@pytest.mark.slow
def test_edges_used_lists_only_edges_that_delivered_bytes(
        start_controlplane: StartControlPlane, media_catalog: Path, tmp_path: Path) -> None:
    """edge-2 answers every segment with 503, edge-1 every second one: the engine fails over
    to edge-2 (and back) again and again, but only edge-1 ever delivers."""
    ready = start_controlplane(catalog_args=("--catalog-dir", str(media_catalog)),
                               edges=2).ready
    with admin(ready) as client:
        fault(client, "edge-2", {"kind": "error", "rate": 1.0, "paths": "segments"})
        fault(client, "edge-1", {"kind": "error", "rate": 0.5, "paths": "segments"})
        result = cli("play", "long", "--headless", "--json", "--duration", "2", "--start-over",
                     "--control-plane", ready.base_url, "--data-dir", str(tmp_path))
    report = one_report(result, 0)
    assert "edge-2" in {f["edge_to"] for f in report["failovers"]}  # tried…
    assert report["edges_used"] == ["edge-1"]  # …but never delivered
    assert set(report["segments_by_edge"]) == {"edge-1"}
    assert report["segments_by_edge"]["edge-1"] >= 1


@pytest.mark.mpv
@pytest.mark.slow
def test_a_playback_stopped_mid_segment_leaves_no_task_traceback(
        start_controlplane: StartControlPlane, media_catalog: Path, tmp_path: Path) -> None:
    """Ctrl+C while a segment streams to mpv from a slow edge: the stream's pending read
    fails as the engine tears down, and nobody may leave that failure unretrieved."""
    ready = start_controlplane(catalog_args=("--catalog-dir", str(media_catalog)),
                               edges=1).ready
    with admin(ready) as client:
        fault(client, "edge-1", {"kind": "slow", "rate_kbps": 300})
        for attempt in range(3):  # the race is in the teardown: give it a few chances
            run = Watched("play", "long", "--headless", "--json", "--start-over", "-v",
                          "--control-plane", ready.base_url,
                          "--data-dir", str(tmp_path / str(attempt)))
            try:
                run.wait_for(r"first frame after")
                run.proc.send_signal(signal.SIGINT)
            finally:
                result = run.finish()
            report = one_report(result, 0)
            assert report["end_reason"] == "stopped" and report["ok"] is True


@pytest.mark.mpv
@pytest.mark.slow
def test_the_next_run_starts_from_the_last_runs_throughput(
        start_controlplane: StartControlPlane, media_catalog: Path, tmp_path: Path) -> None:
    """Two runs with one data folder on a fast loopback link: the first starts blind at the
    lowest rung, the second from the estimate the first one saved (not 240p again)."""
    ready = start_controlplane(catalog_args=("--catalog-dir", str(media_catalog))).ready
    common = ("play", "long", "--headless", "--json", "--duration", "3", "--start-over", "-v",
              "--control-plane", ready.base_url, "--data-dir", str(tmp_path))
    first = cli(*common)
    one_report(first, 0)
    assert re.search(r"segment 0: rung 0 \(240p\), startup: no estimate", first.stderr)
    saved = json.loads((tmp_path / "data" / "throughput.json").read_text())
    assert saved["estimate_bps"] > 2_824_000  # loopback: faster than the top rung
    second = cli(*common)
    one_report(second, 0)
    start = re.search(r"segment 0: rung (\d) \(\w+\), (.*)", second.stderr)
    assert start is not None, second.stderr[-3000:]
    assert int(start[1]) > 0 and "no estimate" not in start[2], start[0]


@pytest.mark.mpv
@pytest.mark.slow
def test_format_dash_on_a_title_without_dash_plays_hls_and_says_so(
        start_controlplane: StartControlPlane, media_catalog: Path, tmp_path: Path) -> None:
    """The media catalog is MPEG-TS: the control plane answers ``format_unavailable`` to
    DASH; the CLI plays HLS, logs it once and the report says which format played."""
    ready = start_controlplane(catalog_args=("--catalog-dir", str(media_catalog)),
                               edges=1).ready
    result = cli("play", "short", "--headless", "--json", "--duration", "1", "--format", "dash",
                 "-v", "--control-plane", ready.base_url, "--data-dir", str(tmp_path))
    report = one_report(result, 0)
    assert report["format"] == "hls" and report["format_fallback"] is True
    assert result.stderr.count("stream format dash unavailable for short") == 1


def test_download_format_dash_says_it_downloads_hls(tmp_path: Path) -> None:
    """A download reads the HLS description of the segments: asked for DASH, it says so
    before anything else (never a silent half-success)."""
    result = cli("download", "long", "--format", "dash", "--json", "--control-plane",
                 "http://127.0.0.1:9", "--data-dir", str(tmp_path))
    assert_clean(result.stderr)
    assert result.stderr.startswith("edgeplay: downloading as HLS:"), result.stderr
    plain = cli("download", "long", "--json", "--control-plane", "http://127.0.0.1:9",
                "--data-dir", str(tmp_path))
    assert "downloading as HLS" not in plain.stderr
