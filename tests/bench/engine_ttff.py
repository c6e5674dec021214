"""Time to first frame, cold and prefetched, against libmpv opening the same URL directly.

    .venv/bin/python tests/bench/engine_ttff.py [--reps 9] [--catalog test|media] [--shaped]

One table, one run, four sources: the bundled control plane's title as HLS and as DASH (the
same CMAF segments; ``stream_format``; no DASH row for an MPEG-TS catalog), and a plain
third-party HLS URL packaged by ffmpeg as TS and as fMP4 (two renditions, 4 s segments) on
``python3 -m http.server``. Per source and repetition, in turn (the first round warms up and
is not counted):

*cold*: ``PlaybackSession.play()`` from nothing — ``POST /v1/playback`` (its answer carries the
multivariant playlist and the timeline; a plain URL: the multivariant playlist), mpv opening the
loopback bridge, key and start-rung media playlist in parallel, the first segment, mpv's first
frame. *prefetched*: :func:`player.prefetch.prefetch_start` first (what the details page does;
not timed), then ``play()`` adopting it (``playback=prefetched``).

*libmpv direct*: the same libmpv settings (vo/ao null, the engine's demuxer options and paced
per-file options) opening the title itself, timed from ``loadfile`` to the first frame: *its
own pick* is mpv's default rendition (the top one), what ``mpv URL`` plays and the targets'
baseline; *at the engine's rendition* (``hls-bitrate``) isolates the engine's own overhead and
is printed beside it. For a plain URL: its multivariant playlist.
For the bundled title (CMAF, CENC cbcs, ClearKey licence): the packager's single-pathway
multivariant playlist on the edge the engine's first segment came from, given the content key
(``demuxer-lavf-o`` ``seg_format_options=decryption_key=…``), so libmpv decrypts, and opens the
default audio rendition as the engine does; a decode error ends the run (libmpv did not
decrypt). The DASH row's baseline is that too (libavformat's DASH demuxer takes no key). See
tests/bench/ttff_direct.py. Both players are warm (created once).

Prints median / p90 per row and the ratios of medians to both libmpv numbers; exits 1 when
cold is over 1.5× or prefetched over 1.0× libmpv's own pick on any source (``--no-check``:
always 0).

``--shaped``: the bundled title again with the control plane and edges in a network namespace
behind a veth shaped with ``tbf rate 5mbit burst 32kbit latency 400ms`` (needs root, ``ip`` and
``tc``; the namespace is removed at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from player.bundled import ReadyInfo
from player.mpv_seam import BRIDGE_FILE_OPTIONS, RealMpv, create_mpv
from player.prefetch import prefetch_start
from player.prefetched import PrefetchedStart
from player.session import PlaybackSession, SessionConfig
from player.telemetry import TelemetryConfig
from tests.bench.engine_common import (
    catalog_args,
    median,
    signed_in,
    start_controlplane,
    start_controlplane_in,
)
from tests.bench.plain_origin import make_sets, serve
from tests.bench.ttff_direct import Direct, bundled_direct, content_key, first_frame_s, url_direct

TITLES = {"test": "pocket-meadow", "media": "short"}
COLD_MAX, PREFETCHED_MAX = 1.5, 1.0


@dataclass
class Row:
    source: str
    cold: list[float] = field(default_factory=list)
    prefetched: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    """libmpv direct at the engine's start rung: the engine's own overhead (printed)."""
    own_pick: list[float] = field(default_factory=list)
    """libmpv direct at the rendition it picks itself (``hls-bitrate=max``, what ``mpv URL``
    plays): the targets' baseline."""
    stages: dict[str, list[dict[str, float]]] = field(
        default_factory=lambda: {"cold": [], "prefetched": []})
    notes: set[str] = field(default_factory=set)


@dataclass
class Source:
    """How to start one source cold, prefetched, and what libmpv opens directly."""
    name: str
    session: Callable[[PrefetchedStart | None], PlaybackSession]
    prefetch: Callable[[], Awaitable[PrefetchedStart]]
    direct: Callable[[PlaybackSession], Awaitable[Direct]]
    """What libmpv direct opens, given the cold start (its edge and start rung)."""


def _config(**config: Any) -> SessionConfig:
    return SessionConfig(start_over=True, progress_interval_s=None,
                         telemetry=TelemetryConfig(flush_interval_s=5.0), **config)


async def _timed(session: PlaybackSession, row: Row, kind: str, rep: int) -> PlaybackSession:
    try:
        await session.play()
        first = next(e for e in session.telemetry.events if e["type"] == "first_frame")
        if rep:
            getattr(row, kind).append(float(first["ttff_ms"]))
            row.stages[kind].append(dict(session.startup_ms))
    finally:
        await session.stop()
    return session


async def measure(sources: list[Source], reps: int, plain: RealMpv,
                  settle_s: float) -> list[Row]:
    rows = [Row(s.name) for s in sources]
    loop = asyncio.get_running_loop()
    for rep in range(reps + 1):  # the first round warms everything up and is not counted
        for source, row in zip(sources, rows, strict=True):
            # Each start begins on an idle link and CPU: what the last one left in flight
            # (read-ahead, probes, steering) drains first.
            await asyncio.sleep(settle_s)
            cold = await _timed(source.session(None), row, "cold", rep)
            direct = await source.direct(cold)
            prefetched = await source.prefetch()
            await asyncio.sleep(settle_s)
            await _timed(source.session(prefetched), row, "prefetched", rep)
            await asyncio.sleep(settle_s)
            seconds = await loop.run_in_executor(None, first_frame_s, plain, direct)
            await asyncio.sleep(settle_s)
            own = await loop.run_in_executor(None, first_frame_s, plain, direct.own_pick())
            if rep:
                row.direct.append(seconds * 1000)
                row.own_pick.append(own * 1000)
                if direct.note:
                    row.notes.add(direct.note)
    return rows


def table(rows: list[Row], label: str) -> tuple[str, bool]:
    """The table (markdown) and whether every row is within the targets: against libmpv
    opening the URL itself (its own pick, what ``mpv URL`` plays). The ratio against libmpv at
    the engine's start rendition (the engine's own overhead alone) is printed after it."""
    def p90(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    lines = [f"[{label}] median ms [p90] over {len(rows[0].direct)} reps; ratio = median / "
             f"libmpv's own pick's (in brackets: / libmpv at the engine's rendition); targets "
             f"on the first: cold <= {COLD_MAX}x, prefetched <= {PREFETCHED_MAX}x",
             "| source | libmpv, its own pick | libmpv at the engine's rendition | engine cold "
             "| cold ratio | engine prefetched | prefetched ratio |",
             "|---|---|---|---|---|---|---|"]
    ok = True
    for row in rows:
        own, same = median(row.own_pick), median(row.direct)
        cold, pre = median(row.cold), median(row.prefetched)
        ok = ok and cold <= COLD_MAX * own and pre <= PREFETCHED_MAX * own
        lines.append(f"| {row.source} | {own:.0f} [{p90(row.own_pick):.0f}] "
                     f"| {same:.0f} [{p90(row.direct):.0f}] "
                     f"| {cold:.0f} [{p90(row.cold):.0f}] | {cold / own:.2f}x ({cold / same:.2f}x) "
                     f"| {pre:.0f} [{p90(row.prefetched):.0f}] "
                     f"| {pre / own:.2f}x ({pre / same:.2f}x) |")
    return "\n".join(lines), ok


def bundled_source(cp: Any, profile: str, title: str, mpv: RealMpv, key: bytes | None,
                   label: str = "", **config: Any) -> Source:
    def session(prefetched: PrefetchedStart | None) -> PlaybackSession:
        return PlaybackSession(cp, title, profile, mpv, config=_config(**config),
                               playback=prefetched)

    async def prefetch() -> PrefetchedStart:
        return await prefetch_start(cp, title, profile, config=_config(**config))

    async def direct(s: PlaybackSession) -> Direct:
        wanted = config.get("stream_format", "hls")
        if s.manifest_format != wanted:  # a fallback would time HLS under the DASH label
            raise SystemExit(f"{title} played as {s.manifest_format}, not {wanted} (a TS "
                             "catalog has no DASH: use --catalog test or default)")
        return await bundled_direct(cp, title, profile, s, key)

    return Source(f"bundled title {title}{label}", session, prefetch, direct)


def url_source(name: str, url: str, mpv: RealMpv, **config: Any) -> Source:
    def session(prefetched: PrefetchedStart | None) -> PlaybackSession:
        return PlaybackSession.from_url(url, mpv, config=_config(**config),
                                        playback=prefetched)

    async def prefetch() -> PrefetchedStart:
        return await prefetch_start(None, url=url, config=_config(**config))

    async def direct(s: PlaybackSession) -> Direct:
        return url_direct(s, url)

    return Source(name, session, prefetch, direct)


async def run_all(ready: ReadyInfo, title: str, urls: dict[str, str], reps: int,
                  mpv: RealMpv, label: str, settle_s: float, **config: Any) -> bool:
    cp, profile = await signed_in(ready.base_url)
    token = cp.credentials.access_token if cp.credentials else ""
    # The same libmpv options *and* per-file options as the engine's mpv (forced HLS, no
    # probing: valid for any HLS URL), so plain mpv gets every setting the engine does.
    plain = create_mpv(file_options=BRIDGE_FILE_OPTIONS,
                       http_header_fields=f"Authorization: Bearer {token}")
    key = await content_key(cp, title, profile)  # CENC: libmpv direct is given the key too
    sources = [bundled_source(cp, profile, title, mpv, key, **config)]
    if (await cp.start_playback(title, profile, "dash")).format == "dash":
        sources.append(bundled_source(cp, profile, title, mpv, key, " as DASH",
                                      **{**config, "stream_format": "dash"}))
    else:
        print(f"[{label}] no DASH row: {title} has no DASH manifest (an MPEG-TS catalog)")
    sources += [url_source(name, url, mpv, **config) for name, url in urls.items()]
    try:
        rows = await measure(sources, reps, plain, settle_s)
    finally:
        plain.terminate()
        await cp.aclose()
    text, ok = table(rows, label)
    print(text)
    for row in rows:
        for note in sorted(row.notes):
            print(f"  {row.source}: {note}")
    for row in rows:
        for kind, stages in row.stages.items():
            print(f"  {row.source}, {kind}:")
            print(breakdown(stages))
    return ok


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


def loopback(args: argparse.Namespace, mpv: RealMpv) -> bool:
    root = Path(tempfile.mkdtemp(prefix="edgeplay-ttff-plain-"))
    sets = make_sets(root)
    cp = start_controlplane(catalog_args(args.catalog))
    try:
        with serve(root) as base:
            urls = {f"plain {name.upper() if name == 'ts' else name} URL": base + path
                    for name, path in sets.items()}
            return asyncio.run(run_all(cp.ready, TITLES[args.catalog], urls, args.reps, mpv,
                                       "loopback", args.settle, **config_of(args)))
    finally:
        cp.stop()
        shutil.rmtree(root, ignore_errors=True)


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
        asyncio.run(run_all(ready, TITLES[args.catalog], {}, args.shaped_reps, mpv,
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
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--shaped-reps", type=int, default=7)
    parser.add_argument("--catalog", choices=("test", "media"), default="test")
    parser.add_argument("--shaped", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a SessionConfig field for the engine, e.g. warm_edge=False")
    parser.add_argument("--settle", type=float, default=0.3,
                        help="idle seconds before each timed run (shaped: at least 0.8)")
    parser.add_argument("--no-check", action="store_true",
                        help="exit 0 even when a ratio is over its target")
    args = parser.parse_args()
    started = time.monotonic()
    mpv = create_mpv()
    try:
        ok = loopback(args, mpv)
        if args.shaped:
            shaped(args, mpv)
    finally:
        mpv.terminate()
    print(f"total {time.monotonic() - started:.0f} s")
    if not ok and not args.no_check:
        print(f"over target: cold > {COLD_MAX}x or prefetched > {PREFETCHED_MAX}x "
              "libmpv direct (its own pick)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
