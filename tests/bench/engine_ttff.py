"""Time to first frame: the whole play path vs mpv opening the rendition straight from an edge.

    .venv/bin/python tests/bench/engine_ttff.py [--reps 15] [--catalog test|media] [--shaped]

*Engine*: ``PlaybackSession.play()`` — ``POST /v1/playback`` (its answer carries the
multivariant playlist and the title's timeline), mpv opening the loopback bridge at once, the
key and the start rung's media playlist (checked against the timeline) in parallel, the first
segment (fetch, decrypt, validate), mpv's first frame (steering and probes run after it).
*Plain mpv*: the same libmpv settings (vo/ao null, the engine's paced options), loading the
media playlist of the rendition the engine started on directly from the best edge, with the
bearer token in ``http-header-fields`` for the key (mpv fetches playlist, key and segment
itself); timed from ``loadfile`` to the first frame only. Both players are warm (created
once). Repetitions alternate. Prints median / p90 of both and the ratio of medians (target
≤ 2×).

``--shaped``: the same again with the control plane and edges in a network namespace behind a
veth whose server side is shaped with ``tbf rate 5mbit burst 32kbit latency 400ms`` (needs root,
``ip`` and ``tc``; the namespace is removed at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from player.bundled import ReadyInfo
from player.manifest import parse_multivariant
from player.mpv_seam import BRIDGE_FILE_OPTIONS, RealMpv, create_mpv, wait_for_first_frame
from tests.bench.engine_common import (
    catalog_args,
    median,
    session,
    signed_in,
    start_controlplane,
    start_controlplane_in,
    summary,
)

TITLES = {"test": "pocket-meadow", "media": "short"}


async def measure(ready: ReadyInfo, title: str, reps: int, engine_mpv: RealMpv,
                  label: str, settle_s: float,
                  **config: Any) -> tuple[list[float], list[float]]:
    cp, profile = await signed_in(ready.base_url)
    token = cp.credentials.access_token if cp.credentials else ""
    # The same libmpv options *and* per-file options as the engine's mpv (forced HLS, no
    # probing: valid for any HLS URL), so plain mpv gets every setting the engine does.
    plain = create_mpv(file_options=BRIDGE_FILE_OPTIONS,
                       http_header_fields=f"Authorization: Bearer {token}")
    engine_ms: list[float] = []
    plain_ms: list[float] = []
    stages: list[dict[str, float]] = []
    loop = asyncio.get_running_loop()
    try:
        for rep in range(reps + 1):  # the first round warms both up and is not counted
            # Each side starts on an idle link and CPU: what the other side left in flight
            # (read-ahead, the next segment, probes) drains first. On the shaped link the tbf
            # queue alone holds up to 400 ms of bytes.
            await asyncio.sleep(settle_s)
            async with session(cp, profile, title, engine_mpv, **config) as s:
                first = next(e for e in s.telemetry.events if e["type"] == "first_frame")
                marks = dict(getattr(s, "startup_ms", {}))
                rendition = first["rendition"]
                edge = s.pool.ordered()[0].name if s.pool else None
            playback = await cp.start_playback(title, profile)
            mv = parse_multivariant(await cp.fetch_text(playback.manifest_url),
                                    playback.manifest_url)
            pathway = mv.pathway(edge or mv.default_pathway)
            url = pathway.variant(rendition).uri
            await asyncio.sleep(settle_s)
            seconds = await loop.run_in_executor(None, wait_for_first_frame, plain, url, 20.0)
            plain.command("stop")
            if rep:
                engine_ms.append(float(first["ttff_ms"]))
                plain_ms.append(seconds * 1000)
                stages.append(marks)
    finally:
        plain.terminate()
        await cp.aclose()
    ratio = sorted(engine_ms)[len(engine_ms) // 2] / sorted(plain_ms)[len(plain_ms) // 2]
    print(f"[{label}] {reps} reps, title {title}")
    print(f"  engine (full path): {summary(engine_ms)}")
    print(f"  plain mpv (edge):   {summary(plain_ms)}")
    print(f"  ratio of medians:   {ratio:.2f}x")
    print(breakdown(stages))
    return engine_ms, plain_ms


def breakdown(stages: list[dict[str, float]]) -> str:
    """Per start-up stage: median ms since play() (``PlaybackSession.startup_ms``), in order."""
    if not any(stages):
        return "  (no per-stage marks from this engine)"
    names = sorted({n for marks in stages for n in marks},
                   key=lambda n: median([m[n] for m in stages if n in m]))
    lines = ["  engine stages (median ms since play(); [p90]; n = reps that had the stage):"]
    for name in names:
        values = sorted(m[name] for m in stages if name in m)
        p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
        lines.append(f"    {name:<14} {median(values):7.1f}  [{p90:7.1f}]  n={len(values)}")
    return "\n".join(lines)


def config_of(args: argparse.Namespace) -> dict[str, Any]:
    """SessionConfig overrides from ``--set name=python-literal`` (A/B runs)."""
    import ast
    out: dict[str, Any] = {}
    for item in args.set:
        name, _, value = item.partition("=")
        out[name] = ast.literal_eval(value)
    return out


def loopback(args: argparse.Namespace, mpv: RealMpv) -> None:
    cp = start_controlplane(catalog_args(args.catalog))
    try:
        asyncio.run(measure(cp.ready, TITLES[args.catalog], args.reps, mpv, "loopback",
                            args.settle, **config_of(args)))
    finally:
        cp.stop()


NS = "edgeplay-bench"
HOST_IP, NS_IP = "10.231.77.1", "10.231.77.2"


def _ip(*argv: str, check: bool = True) -> None:
    subprocess.run(list(argv), check=check, capture_output=True)


def shaped(args: argparse.Namespace, mpv: RealMpv) -> None:
    if not (shutil.which("ip") and shutil.which("tc")):
        print("[shaped] skipped: `ip` or `tc` is not available")
        return
    try:
        _ip("ip", "netns", "add", NS)
        _ip("ip", "link", "add", "epb-host", "type", "veth", "peer", "name", "epb-ns")
        _ip("ip", "link", "set", "epb-ns", "netns", NS)
        _ip("ip", "addr", "add", f"{HOST_IP}/30", "dev", "epb-host")
        _ip("ip", "link", "set", "epb-host", "up")
        _ip("ip", "netns", "exec", NS, "ip", "addr", "add", f"{NS_IP}/30", "dev", "epb-ns")
        _ip("ip", "netns", "exec", NS, "ip", "link", "set", "epb-ns", "up")
        _ip("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
        _ip("ip", "netns", "exec", NS, "tc", "qdisc", "add", "dev", "epb-ns", "root", "tbf",
            "rate", "5mbit", "burst", "32kbit", "latency", "400ms")
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"[shaped] skipped: could not build the namespace ({exc})")
        _cleanup()
        return
    proc = None
    try:
        proc, ready = start_controlplane_in(NS, NS_IP, catalog_args(args.catalog))
        asyncio.run(measure(ready, TITLES[args.catalog], args.shaped_reps, mpv,
                            "shaped 5 Mbit/s", max(args.settle, 0.8), **config_of(args)))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        _cleanup()


def _cleanup() -> None:
    _ip("ip", "link", "del", "epb-host", check=False)
    _ip("ip", "netns", "del", NS, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--shaped-reps", type=int, default=7)
    parser.add_argument("--catalog", choices=("test", "media"), default="test")
    parser.add_argument("--shaped", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a SessionConfig field for the engine, e.g. warm_edge=False")
    parser.add_argument("--settle", type=float, default=0.3,
                        help="idle seconds before each timed run (shaped: at least 0.8)")
    args = parser.parse_args()
    started = time.monotonic()
    mpv = create_mpv()
    try:
        loopback(args, mpv)
        if args.shaped:
            shaped(args, mpv)
    finally:
        mpv.terminate()
    print(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
