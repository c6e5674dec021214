"""Origins we did not write the client for: ffmpeg single-file byte-range HLS behind servers that
ignore Range (stdlib ``http.server``), honour it, answer it wrongly; and hostile playlists (one
that never ends, one dripped a byte at a time). Every server keeps a request log."""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from player.mpv_seam import create_mpv
from player.session import PlaybackSession, SessionConfig

SINGLE_SEGMENT_S = 2.0
SINGLE_DURATION_S = 12.0
GAP_INDEX = 2
"""The segment ``sf/gap.m3u8`` marks EXT-X-GAP."""


def make_single_file(root: Path) -> Path:
    """ffmpeg ``-hls_flags single_file``: ``sf/index.m3u8`` with EXT-X-BYTERANGE into ``all.ts``;
    ``sf/gap.m3u8`` the same with its third segment marked EXT-X-GAP."""
    out = root / "sf"
    out.mkdir(parents=True, exist_ok=True)
    ffmpeg = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
    subprocess.run([
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={SINGLE_DURATION_S:g}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SINGLE_DURATION_S:g}",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
        "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*2)", "-flags", "+cgop",
        "-c:a", "aac", "-b:a", "64k",
        "-f", "hls", "-hls_time", f"{SINGLE_SEGMENT_S:g}", "-hls_playlist_type", "vod",
        "-hls_flags", "single_file", "-hls_segment_filename", str(out / "all.ts"),
        str(out / "index.m3u8"),
    ], check=True, timeout=60)
    lines = (out / "index.m3u8").read_text().splitlines()
    third = [n for n, line in enumerate(lines) if line.startswith("#EXTINF")][GAP_INDEX]
    lines.insert(third, "#EXT-X-GAP")
    (out / "gap.m3u8").write_text("\n".join([*lines, ""]))
    return out


@dataclass
class RequestLog:
    entries: list[tuple[str, str | None, int]] = field(default_factory=list)
    """(path, Range header, status) of every request answered."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, range_: str | None, status: int) -> None:
        with self.lock:
            self.entries.append((path, range_, status))

    def of(self, path: str) -> list[tuple[str, str | None, int]]:
        with self.lock:
            return [e for e in self.entries if e[0] == path]


class _Handler(SimpleHTTPRequestHandler):
    """``mode``: ``ignore`` (the stdlib's behaviour: a Range is answered 200 with everything),
    ``honour`` (206 with the bytes asked), ``wrong`` (206 whose Content-Range and bytes are
    off by 188)."""

    mode = "ignore"
    ttfb_s = 0.0
    """Wait this long before answering anything: a slow origin (a cache miss far away)."""
    log: RequestLog

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log.add(self.path, self.headers.get("Range"), int(code))

    def do_GET(self) -> None:
        if self.ttfb_s:
            time.sleep(self.ttfb_s)
        if self.path == "/endless.m3u8":
            return self._endless()
        if self.path == "/drip.m3u8":
            return self._drip()
        range_ = self.headers.get("Range")
        if self.mode == "ignore" or not range_ or not range_.startswith("bytes="):
            return super().do_GET()
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            return super().do_GET()
        size = path.stat().st_size
        first_s, _, last_s = range_[6:].partition("-")
        first = int(first_s)
        last = min(int(last_s), size - 1) if last_s else size - 1
        if self.mode == "wrong":
            first, last = first + 188, min(last + 188, size - 1)
        with path.open("rb") as f:
            f.seek(first)
            body = f.read(last - first + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        """A media playlist that never ends: segments forever, no Content-Length, until the
        client goes away."""
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.apple.mpegurl")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n")
            chunk = b"".join(b"#EXTINF:2.0,\nsf/all.ts\n" for _ in range(2000))
            for _ in itertools.count():
                self.wfile.write(chunk)
        except OSError:
            pass  # the client hung up
        self.close_connection = True

    def _drip(self) -> None:
        """A valid playlist sent one byte every 20 ms (about 10 s in all)."""
        text = (self.directory_path / "sf" / "index.m3u8").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.apple.mpegurl")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        try:
            for byte in text:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.02)
        except OSError:
            pass

    @property
    def directory_path(self) -> Path:
        return Path(self.directory)


@contextmanager
def serve(root: Path, mode: str = "ignore",
          ttfb_s: float = 0.0) -> Iterator[tuple[str, RequestLog]]:
    """A threaded HTTP server on loopback over ``root``: its base URL and request log."""
    log = RequestLog()
    handler = type("Handler", (_Handler,), {"mode": mode, "log": log, "ttfb_s": ttfb_s})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                functools.partial(handler, directory=os.fspath(root)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name=f"hls-{mode}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def play_to_end(url: str, *, realtime: bool = False, policy: Any = None,
                during: Any = None) -> tuple[PlaybackSession, list[dict[str, Any]]]:
    """Play ``url`` to its end through the engine and the real libmpv (as fast as it decodes,
    unless ``realtime``); ``during(session)`` runs after the first frame, paused (played
    untimed, the title could end meanwhile). The session and mpv's track list at the first
    frame."""
    async def main() -> tuple[PlaybackSession, list[dict[str, Any]]]:
        fast = {} if realtime else {"untimed": "yes", "ao_null_untimed": "yes"}
        mpv = create_mpv(vo="null", ao="null", **fast)
        session = PlaybackSession.from_url(url, mpv, policy=policy,
                                           config=SessionConfig(progress_interval_s=None))
        try:
            await session.play()
            tracks = await session._mpv_call(mpv.get, "track-list")
            if during is not None:
                await session.pause()
                await during(session)
                await session.resume()
            async with asyncio.timeout(90):
                assert await session.wait_ended() == "eof"
        finally:
            await session.stop()
            mpv.terminate()
        return session, tracks
    return asyncio.run(main())
