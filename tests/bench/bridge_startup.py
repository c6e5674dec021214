"""Time to first frame: mpv via the loopback bridge vs mpv on the same TS from a plain HTTP server.

    .venv/bin/python tests/bench/bridge_startup.py [--reps 20] [--rendition 360p]

Both sides use one warm libmpv (vo=null, ao=null, the engine's paced options) and the same
segments: the bridge answers from memory; the baseline is ``http.server`` (HTTP/1.1, keep-alive)
in a thread serving ffmpeg's own playlist and files. Each repetition plays from the start, waits
for the first frame (``playback-restart``), then stops. Prints median and p90 of both and the ratio.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from player.bridge import LoopbackBridge  # noqa: E402
from player.mpv_seam import RealMpv, Waiter, create_mpv, wait_for_first_frame  # noqa: E402
from player.segments import StaticSegments  # noqa: E402
from tests.helpers.loop_thread import LoopThread  # noqa: E402
from tests.integration.test_bridge_mpv import SEGMENT_S, make_renditions  # noqa: E402


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # mpv hangs up on stop: connection resets are expected


def _plain_server(directory: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="plain-http", daemon=True).start()
    return server


def _first_frame_ms(player: RealMpv, url: str) -> float:
    elapsed = wait_for_first_frame(player, url, 10.0) * 1000
    stopped = Waiter.for_event(player, "idle")
    player.command("stop")
    stopped.wait(10.0)
    return elapsed


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--rendition", default="360p", choices=["180p", "360p"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bridge-bench-") as tmp:
        media = make_renditions(Path(tmp))[args.rendition]
        server = _plain_server(Path(tmp) / args.rendition)
        plain_url = f"http://127.0.0.1:{server.server_address[1]}/index.m3u8"
        source = StaticSegments(media, [SEGMENT_S] * len(media))
        results: dict[str, list[float]] = {"bridge": [], "plain http.server": []}
        with LoopThread("bench-loop") as loop:
            bridge = LoopbackBridge(source)
            bridge_url = loop.run(bridge.start())
            # The plain playlist is ffmpeg's, not ours: open it without the bridge's forced format.
            created = time.perf_counter()
            player = create_mpv(file_options=None)
            try:
                # warm-up: fonts, decoders, first connection
                cold_ms = _first_frame_ms(player, bridge_url)
                cold_total_ms = (time.perf_counter() - created) * 1000
                _first_frame_ms(player, plain_url)
                for _ in range(args.reps):
                    results["bridge"].append(_first_frame_ms(player, bridge_url))
                    results["plain http.server"].append(_first_frame_ms(player, plain_url))
                forced = create_mpv()  # the engine's setting: HLS forced, no probing
                try:
                    _first_frame_ms(forced, bridge_url)
                    results["bridge, HLS forced"] = [_first_frame_ms(forced, bridge_url)
                                                     for _ in range(args.reps)]
                finally:
                    forced.terminate()
            finally:
                player.terminate()
                loop.run(bridge.close())
        server.shutdown()
        server.server_close()

    print(f"time to first frame, {args.reps} reps, {args.rendition}, "
          f"{len(media)} x {SEGMENT_S:g} s segments")
    for name, values in results.items():
        print(f"  {name:<20} median {statistics.median(values):6.1f} ms   "
              f"p90 {_p90(values):6.1f} ms")
    print(f"  cold: first frame of a fresh player {cold_ms:.0f} ms "
          f"({cold_total_ms:.0f} ms including create_mpv)")
    base = statistics.median(results["plain http.server"])
    for name in ("bridge", "bridge, HLS forced"):
        print(f"  ratio {name} / plain (median): {statistics.median(results[name]) / base:.2f}")


if __name__ == "__main__":
    main()
