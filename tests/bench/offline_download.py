"""Offline downloads: the full download path vs curl, CPU per GB, peak RSS, a 100 Mbit/s link.

    scripts/in-test-session.sh \\
        .venv/bin/python -m tests.bench.offline_download [--size-mb 1024] [--reps 3]
        [--shaped-reps 1] [--segment-kb 2560] [--no-shaped] [--no-curl-parallel]
    (quick: --size-mb 200 --reps 1; also runs as ``.venv/bin/python tests/bench/...py``)

**Catalog.** A bench-only catalog in a temporary directory (deleted at the end): one title,
``title0``, with a single 1080p-like rung of ``--segment-kb`` (default 2560 KiB, about 5.2
Mbit/s over 4 s: the default ladder's top rung) AES-128 encrypted TS segments, ``--size-mb``
MiB in all (default 1024), built from tests/helpers/fake_catalog.py's ``fake_segment`` and
``encrypt_segment``; English and French subtitles. One edge (so every byte comes from the same
edge, which caches the title: no origin latency). The edge reads the files from the page cache.

**Runs.** Every run is a fresh child process (``--worker``), so its CPU (``getrusage``) and
memory are its own. Each run signs in a new account, and:

* *curl*: gets the signed segment URLs the way the downloader does (``POST /v1/playback``, the
  multivariant playlist, the rung's media playlist from the same edge) and runs **one**
  ``curl`` with every URL in a ``--config`` file and ``--output-dir``, writing one file per
  segment over one keep-alive connection (and again with ``--parallel --parallel-max 2``, as
  many connections as the downloader uses). CPU is curl's own rusage (``os.wait4``). curl
  neither hashes, nor checks, nor fsyncs; "curl + fsync" adds the time to fsync its files
  afterwards, for reference.
* *DownloadManager*: :class:`offline.downloader.DownloadManager` into a fresh
  :class:`offline.library.OfflineLibrary` with the default :class:`OfflineConfig` (2 segments
  in flight), a progress listener attached as the app does. ``add()`` (license, playlists) is
  timed apart; throughput and CPU cover ``start()`` to ``wait()``: fetch, SHA-256, write,
  decrypt-check, fsync + rename, journal. CPU is ``getrusage(RUSAGE_SELF)`` of the worker over
  that window (all its threads). Memory: ``VmRSS`` just before ``add()`` (the baseline), then
  ``VmHWM`` reset (``/proc/self/clear_refs`` 5) and sampled ``VmRSS`` every 20 ms until the
  download completes; ``ru_maxrss`` too (only an upper bound: Linux keeps the RSS of the
  process that forked the worker, the orchestrator, in the child's ``ru_maxrss`` over exec).

MB = 10^6 bytes, GB = 10^9 bytes, Mbit = 10^6 bits. "edge CPU" is the control-plane process
(API + the edge) over the same run, from ``/proc/<pid>/stat``.

**Shaped** (unless ``--no-shaped``; needs root, ``ip`` and ``tc``): a network namespace and a
veth pair; the control plane and its edge in the root namespace listening on the veth's host
address, the workers inside the namespace (``ip netns exec``); both veth ends shaped with
``tbf rate 100mbit burst 64kb latency 50ms``. Target: the download reaches ≥ 95 % of
100 Mbit/s. The tbf rate counts Ethernet frames, so the most HTTP payload a 1500-byte MTU
TCP flow (with timestamps: 1448 payload bytes per 1514-byte frame) can carry is 95.6 Mbit/s;
curl on the same link shows what plain TCP reaches. TCP retransmissions come from the
worker's namespace's ``/proc/net/snmp`` (on loopback that is the root namespace, shared).

The keyring: the library keeps its device key in the session keyring (run under
``scripts/in-test-session.sh``); a worker that cannot reach it (no D-Bus
session, or an abstract D-Bus socket from inside the namespace) uses an in-memory keyring
backend instead and says so in the output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MiB = 1024 * 1024
TITLE = "title0"
PASSWORD = "edgeplay-bench-pw"
SEGMENT_S = 4.0
TBF = ("rate", "100mbit", "burst", "64kb", "latency", "50ms")
RATE_MBIT = 100.0
NS = "edgeplay-offl"
VETH_HOST, VETH_NS = "epo-host", "epo-ns"
HOST_IP, NS_IP = "10.231.78.1", "10.231.78.2"
TICK = os.sysconf("SC_CLK_TCK")


# --- the bench catalog ----------------------------------------------------------------------------

def make_bench_catalog(root: Path, size_mib: int, segment_kib: int) -> tuple[int, int]:
    """One title, one AES-128 rung, ``size_mib`` MiB of segments; (segments, total bytes)."""
    from controlplane.catalog import CATALOG_FORMAT, Rendition, load_catalog, title_to_json
    from tests.helpers.fake_catalog import (
        TS_PACKET_BYTES,
        encrypt_segment,
        fake_segment,
        fake_title,
        media_playlist,
    )

    plain_bytes = max(1, segment_kib * 1024 // TS_PACKET_BYTES) * TS_PACKET_BYTES
    count = max(1, -(-size_mib * MiB // plain_bytes))
    bps = int(plain_bytes * 8 / SEGMENT_S) + 1
    rung = Rendition("1080p", 1920, 1080, bps, bps, bps, "avc1.640028,mp4a.40.2", 25.0)
    import dataclasses
    title = dataclasses.replace(fake_title(0, count), renditions=(rung,),
                                name="Offline Bench", duration_s=count * SEGMENT_S)
    tdir = root / "titles" / title.id
    rdir = tdir / rung.id
    rdir.mkdir(parents=True)
    (tdir / "subs").mkdir()
    key = hashlib.sha256(f"key:{title.id}".encode()).digest()[:16]
    (tdir / "key.bin").write_bytes(key)
    (rdir / "index.m3u8").write_text(media_playlist(count), encoding="utf-8")
    total = 0
    for index in range(count):
        data = encrypt_segment(fake_segment(title.id, rung.id, index, plain_bytes), key, index)
        (rdir / f"seg_{index:05d}.ts").write_bytes(data)
        total += len(data)
    for track in title.subtitles:
        cues = ["WEBVTT", ""]
        for i in range(count):
            cues += [f"{_vtt_time(i * SEGMENT_S)} --> {_vtt_time((i + 1) * SEGMENT_S)}",
                     f"[{track.language}] line {i + 1}", ""]
        (tdir / "subs" / f"{track.language}.vtt").write_text("\n".join(cues), "utf-8")
    meta = {"format": CATALOG_FORMAT, "profile": "offline-bench",
            "titles": [title_to_json(title)]}
    (root / "catalog.json").write_text(json.dumps(meta), encoding="utf-8")
    load_catalog(root)
    return count, total


def _vtt_time(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


# --- measuring ------------------------------------------------------------------------------------

def proc_status() -> dict[str, int]:
    """VmRSS / VmHWM of this process, KiB."""
    out: dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    def __init__(self, every_s: float = 0.02) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.every_s = every_s
        self.peak_kib = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_kib = max(self.peak_kib, proc_status()["VmRSS"])
            self.samples += 1
            self._done.wait(self.every_s)

    def stop(self) -> None:
        self._done.set()
        self.join()
        self.peak_kib = max(self.peak_kib, proc_status()["VmRSS"])


def cpu_of(ru: resource.struct_rusage) -> float:
    return ru.ru_utime + ru.ru_stime


def pid_cpu_s(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def window_rates(events: list[tuple[float, int]], window_s: float = 5.0) -> list[float]:
    """MB/s over consecutive ``window_s`` windows of the progress events (time, bytes)."""
    out: list[float] = []
    i = 0
    for j, (t, done) in enumerate(events):
        if t - events[i][0] >= window_s:
            out.append((done - events[i][1]) / 1e6 / (t - events[i][0]))
            i = j
    return out


def tcp_retrans() -> int | None:
    """RetransSegs of this network namespace."""
    try:
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
                 if line.startswith("Tcp:")]
        return int(lines[1][lines[0].index("RetransSegs")])
    except (OSError, ValueError, IndexError):
        return None


# --- the workers (child processes) ----------------------------------------------------------------

def keyring_backend() -> tuple[Any, str]:
    """The session keyring if it answers, else an in-memory backend (bench only)."""
    import keyring
    import keyring.backend

    try:
        backend = keyring.get_keyring()
        probe = f"probe-{uuid.uuid4().hex}"
        backend.set_password("edgeplay-bench", probe, "x")
        ok = backend.get_password("edgeplay-bench", probe) == "x"
        backend.delete_password("edgeplay-bench", probe)
        if ok:
            return None, f"session keyring ({type(backend).__name__})"
        why = "the probe value did not read back"
    except Exception as exc:  # any failure means: not usable here
        why = f"{type(exc).__name__}: {exc}"

    class MemoryKeyring(keyring.backend.KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.values: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.values.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.values[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.values.pop((service, username), None)

    return MemoryKeyring(), f"IN-MEMORY keyring backend (session keyring unusable: {why[:120]})"


async def _sign_in(base_url: str, public_key: bytes | None) -> tuple[Any, str]:
    from player.api import ControlPlaneClient
    from player.tokens import MemoryStore

    cp = ControlPlaneClient(base_url, store=MemoryStore())
    await cp.register_device(f"offl-{uuid.uuid4().hex[:12]}@bench.test", PASSWORD,
                             "offline bench", create_account=True, plan="premium",
                             public_key=public_key)
    return cp, str((await cp.profiles())[0]["id"])


async def signed_segment_urls(base_url: str) -> list[str]:
    """The rung's signed segment URLs from the best edge, as the downloader gets them."""
    import httpx

    from player.manifest import parse_media_playlist, parse_multivariant

    cp, profile = await _sign_in(base_url, None)
    try:
        playback = await cp.start_playback(TITLE, profile)
        text = playback.multivariant_playlist or await cp.fetch_text(playback.manifest_url)
        mv = parse_multivariant(text, playback.manifest_url)
        variant = mv.pathway(mv.default_pathway).variants[-1]
        async with httpx.AsyncClient(timeout=20.0) as http:
            answer = await http.get(variant.uri)
            answer.raise_for_status()
        return [s.uri for s in parse_media_playlist(answer.text, variant.uri).segments]
    finally:
        await cp.aclose()


def worker_curl(spec: dict[str, Any]) -> dict[str, Any]:
    urls = asyncio.run(signed_segment_urls(spec["base_url"]))
    out = Path(spec["dir"]) / "curl"
    out.mkdir(parents=True)
    config = Path(spec["dir"]) / "curl.cfg"
    names = [f"seg_{i:05d}.ts" for i in range(len(urls))]
    config.write_text("".join(f'url = "{u}"\noutput = "{n}"\n'
                              for u, n in zip(urls, names, strict=True)))
    cmd = ["curl", "-sS", "--fail", "--config", str(config), "--output-dir", str(out)]
    if spec.get("parallel", 1) > 1:
        cmd += ["--parallel", "--parallel-max", str(spec["parallel"])]
    retrans0 = tcp_retrans()
    with open(Path(spec["dir"]) / "curl.err", "w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        errors = err.read().strip()
    retrans1 = tcp_retrans()
    files = [out / n for n in names]
    size = sum(f.stat().st_size for f in files if f.exists())
    synced = time.perf_counter()
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    sync_s = time.perf_counter() - synced
    return {"kind": "curl", "exit": proc.returncode, "errors": errors[-300:],
            "segments": len(urls), "files": sum(f.exists() for f in files), "bytes": size,
            "wall_s": wall, "cpu_s": cpu_of(ru), "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
            "maxrss_kib": ru.ru_maxrss, "fsync_s": sync_s,
            "retrans": None if retrans0 is None or retrans1 is None else retrans1 - retrans0}


async def _ours(spec: dict[str, Any]) -> dict[str, Any]:
    from offline.downloader import DownloadManager, DownloadProgress
    from offline.library import OfflineConfig, OfflineLibrary

    backend, keyring_note = keyring_backend()
    config = OfflineConfig(parallel_segments=int(spec.get("parallel", 2)))
    lib = OfflineLibrary(Path(spec["dir"]) / "library", device=f"bench-{uuid.uuid4().hex}",
                         keyring_backend=backend, config=config)
    events: list[tuple[float, int]] = []

    def on_event(p: DownloadProgress) -> None:
        events.append((time.perf_counter(), p.bytes_done))

    try:
        cp, profile = await _sign_in(spec["base_url"], lib.device_key().public_raw)
        manager = DownloadManager(lib, cp, "bench", on_event=on_event)
        try:
            gc.collect()
            baseline = proc_status()
            hwm_reset = reset_hwm()
            sampler = RssSampler()
            sampler.start()
            added = time.perf_counter()
            d = await manager.add(TITLE, profile, quality="best")
            retrans0 = tcp_retrans()
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            manager.start(d.id)
            done = await manager.wait(d.id)
            ended = time.perf_counter()
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
            retrans1 = tcp_retrans()
            sampler.stop()
            after = proc_status()
            maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        finally:
            await manager.aclose()
            await cp.aclose()
        # Correctness, after the clock stopped: the journal's hashes are the edge's files'.
        rows = lib.journal.segments(done.id)
        catalog = Path(spec["catalog"]) / "titles" / TITLE / done.rendition
        checked = sorted({0, len(rows) // 2, len(rows) - 1})
        mismatched = [i for i in checked if hashlib.sha256(
            (catalog / f"seg_{i:05d}.ts").read_bytes()).hexdigest() != rows[i].sha256]
        return {"kind": "ours", "state": done.state, "error": done.error,
                "segments": done.segment_count, "segments_done": done.segments_done,
                "bytes": done.bytes_done, "add_s": started - added, "wall_s": ended - started,
                "cpu_s": cpu_of(ru1) - cpu_of(ru0), "user_s": ru1.ru_utime - ru0.ru_utime,
                "sys_s": ru1.ru_stime - ru0.ru_stime, "events": len(events),
                "windows_mbps": window_rates([e for e in events if e[0] >= started]),
                "rss_baseline_kib": baseline["VmRSS"], "hwm_before_kib": baseline["VmHWM"],
                "hwm_reset": hwm_reset, "hwm_kib": after["VmHWM"],
                "rss_sampled_peak_kib": sampler.peak_kib, "rss_samples": sampler.samples,
                "rss_after_kib": after["VmRSS"],
                "ru_maxrss_kib": maxrss,
                "keyring": keyring_note, "hash_mismatches": mismatched,
                "retrans": None if retrans0 is None or retrans1 is None else retrans1 - retrans0}
    finally:
        with contextlib.suppress(Exception):  # best effort
            lib.keys.delete()
        lib.close()


def worker(spec: dict[str, Any]) -> None:
    import logging
    logging.basicConfig(level=logging.WARNING)
    result = worker_curl(spec) if spec["kind"] == "curl" else asyncio.run(_ours(spec))
    print(json.dumps(result), flush=True)


# --- the orchestrator -----------------------------------------------------------------------------

def run_worker(spec: dict[str, Any], scratch: Path, prefix: list[str],
               cp_pid: int | None) -> dict[str, Any]:
    """One run in a fresh child process; its output directory is deleted afterwards."""
    work = Path(tempfile.mkdtemp(prefix=f"run-{spec['kind']}-", dir=scratch))
    os.sync()  # start with no dirty pages from the previous run or the catalog
    edge0 = pid_cpu_s(cp_pid)
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "tests.bench.offline_download", "--worker",
             json.dumps({**spec, "dir": str(work)})],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
            text=True, timeout=3600)
        edge1 = pid_cpu_s(cp_pid)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"worker {spec['kind']} failed (exit {proc.returncode})")
        result: dict[str, Any] = json.loads(lines[-1])
        result["edge_cpu_s"] = None if edge0 is None or edge1 is None else edge1 - edge0
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _mbps(r: dict[str, Any]) -> float:
    return float(r["bytes"]) / 1e6 / float(r["wall_s"])


def _row(label: str, r: dict[str, Any], extra: str = "") -> str:
    gb = r["bytes"] / 1e9
    edge = (f"{r['edge_cpu_s'] / gb:6.2f}" if r.get("edge_cpu_s") is not None else "     ?")
    return (f"  {label:<30} {r['wall_s']:7.2f} {_mbps(r):8.1f} {8 * _mbps(r):8.1f} "
            f"{r['cpu_s']:7.2f} {r['cpu_s'] / gb:8.2f} {edge}  {extra}")


HEADER = (f"  {'':<30} {'wall s':>7} {'MB/s':>8} {'Mbit/s':>8} {'CPU s':>7} {'CPU s/GB':>8} "
          f"{'edge':>6}")


def check(r: dict[str, Any]) -> str:
    if r["kind"] == "curl":
        ok = r["exit"] == 0 and r["files"] == r["segments"]
        return "" if ok else f"  !! curl exit {r['exit']}: {r['errors']}"
    ok = r["state"] == "completed" and not r["hash_mismatches"]
    return "" if ok else (f"  !! download {r['state']} ({r['error']}); "
                          f"hash mismatches {r['hash_mismatches']}")


def phase(label: str, base_url: str, catalog: Path, scratch: Path, prefix: list[str],
          cp_pid: int | None, reps: int, curl_parallel: bool) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {"curl": [], "curl2": [], "ours": []}
    for rep in range(reps):
        common = {"base_url": base_url, "catalog": str(catalog)}
        runs["curl"].append(run_worker({**common, "kind": "curl"}, scratch, prefix, cp_pid))
        if curl_parallel:
            runs["curl2"].append(run_worker({**common, "kind": "curl", "parallel": 2}, scratch,
                                            prefix, cp_pid))
        runs["ours"].append(run_worker({**common, "kind": "ours"}, scratch, prefix, cp_pid))
        print(f"  [{label}] rep {rep + 1}/{reps} done", flush=True)
    return runs


def report(label: str, runs: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    first = runs["ours"][0]
    print(f"\n[{label}] {first['bytes'] / 1e9:.3f} GB, {first['segments']} segments "
          f"of {first['bytes'] / first['segments'] / 1e6:.2f} MB, one edge; "
          f"downloader keyring: {first['keyring']}")
    print(HEADER + "  (edge = the control plane + edge process, CPU s/GB)")
    for n, r in enumerate(runs["curl"]):
        print(_row(f"curl, 1 connection #{n + 1}", r,
                   f"+fsync {r['fsync_s']:.2f} s; retrans {r['retrans']}") + check(r))
    for n, r in enumerate(runs["curl2"]):
        print(_row(f"curl --parallel-max 2 #{n + 1}", r,
                   f"+fsync {r['fsync_s']:.2f} s; retrans {r['retrans']}") + check(r))
    for n, r in enumerate(runs["ours"]):
        print(_row(f"DownloadManager #{n + 1}", r,
                   f"add() {1000 * r['add_s']:.0f} ms; user {r['user_s']:.2f} s, "
                   f"sys {r['sys_s']:.2f} s; retrans {r['retrans']}") + check(r))
    for n, r in enumerate(runs["ours"]):
        w = sorted(r["windows_mbps"])
        if len(w) >= 3:
            print(f"    DownloadManager #{n + 1}, 5 s windows (from its progress events): "
                  f"min {8 * w[0]:.1f}, median {8 * w[len(w) // 2]:.1f}, max {8 * w[-1]:.1f} "
                  f"Mbit/s over {len(w)} windows")

    def med(kind: str, fn: Any) -> float:
        return float(statistics.median(fn(r) for r in runs[kind]))

    def cpu_gb(r: dict[str, Any]) -> float:
        return float(r["cpu_s"]) / (float(r["bytes"]) / 1e9)

    out = {"ours_mbps": med("ours", _mbps), "curl_mbps": med("curl", _mbps),
           "ours_best": max(map(_mbps, runs["ours"])), "curl_best": max(map(_mbps, runs["curl"])),
           "ours_cpu_gb": med("ours", cpu_gb), "curl_cpu_gb": med("curl", cpu_gb)}
    n = len(runs["ours"])
    print(f"  {'median' if n > 1 else 'result'}{f' of {n}' if n > 1 else ''}: DownloadManager "
          f"{out['ours_mbps']:.1f} MB/s vs curl {out['curl_mbps']:.1f} MB/s = "
          f"{out['ours_mbps'] / out['curl_mbps']:.2f}x the throughput; CPU "
          f"{out['ours_cpu_gb']:.2f} vs {out['curl_cpu_gb']:.2f} s/GB = "
          f"{out['ours_cpu_gb'] / out['curl_cpu_gb']:.1f}x curl's")
    if n > 1:
        print(f"  best: DownloadManager {out['ours_best']:.1f} MB/s vs curl "
              f"{out['curl_best']:.1f} MB/s = {out['ours_best'] / out['curl_best']:.2f}x")
    if runs["curl2"]:
        c2 = med("curl2", _mbps)
        print(f"  curl with 2 connections: {c2:.1f} MB/s (DownloadManager "
              f"{out['ours_mbps'] / c2:.2f}x that)")
    return out


def memory_report(runs: list[dict[str, Any]]) -> None:
    print("\n[memory] the DownloadManager worker, per run (target: peak < 200 MB = 190.7 MiB)")
    for n, r in enumerate(runs):
        peak = max(r["hwm_kib"] if r["hwm_reset"] else 0, r["rss_sampled_peak_kib"])
        verdict = "met" if peak * 1024 < 200e6 else "MISSED"
        print(f"  #{n + 1}: baseline VmRSS before add() {r['rss_baseline_kib'] / 1024:.1f} MiB; "
              f"peak while downloading {r['bytes'] / 1e9:.2f} GB {peak / 1024:.1f} MiB = "
              f"{peak * 1024 / 1e6:.1f} MB (+{(peak - r['rss_baseline_kib']) / 1024:.1f} MiB): "
              f"{verdict}")
        print(f"      VmHWM since add() {r['hwm_kib'] / 1024:.1f} MiB (reset: {r['hwm_reset']}), "
              f"VmRSS sampled every 20 ms: max {r['rss_sampled_peak_kib'] / 1024:.1f} MiB "
              f"({r['rss_samples']} samples), {r['rss_after_kib'] / 1024:.1f} MiB after; "
              f"ru_maxrss {r['ru_maxrss_kib'] / 1024:.1f} MiB (an upper bound: Linux carries the "
              "forking parent's RSS over exec into it)")


def _ip(*argv: str, check: bool = True) -> None:
    subprocess.run(list(argv), check=check, capture_output=True, text=True)


def shaped_setup() -> str | None:
    """Build the namespace and the shaped veth; None, or why it could not be built."""
    if not (shutil.which("ip") and shutil.which("tc")):
        return "`ip` or `tc` is not installed (apt-get install -y iproute2)"
    shaped_cleanup()
    try:
        _ip("ip", "netns", "add", NS)
        _ip("ip", "link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_NS)
        _ip("ip", "link", "set", VETH_NS, "netns", NS)
        _ip("ip", "addr", "add", f"{HOST_IP}/30", "dev", VETH_HOST)
        _ip("ip", "link", "set", VETH_HOST, "up")
        _ip("ip", "netns", "exec", NS, "ip", "addr", "add", f"{NS_IP}/30", "dev", VETH_NS)
        _ip("ip", "netns", "exec", NS, "ip", "link", "set", VETH_NS, "up")
        _ip("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
        _ip("tc", "qdisc", "add", "dev", VETH_HOST, "root", "tbf", *TBF)
        _ip("ip", "netns", "exec", NS, "tc", "qdisc", "add", "dev", VETH_NS, "root", "tbf", *TBF)
    except subprocess.CalledProcessError as exc:
        shaped_cleanup()
        return f"{' '.join(exc.cmd)} failed: {(exc.stderr or '').strip()}"
    except OSError as exc:
        shaped_cleanup()
        return str(exc)
    return None


def shaped_cleanup() -> None:
    _ip("ip", "link", "del", VETH_HOST, check=False)
    _ip("ip", "netns", "del", NS, check=False)


def start_cp(catalog: Path, scratch: Path, host: str | None = None) -> Any:
    from player.bundled import BundledControlPlane

    state = Path(tempfile.mkdtemp(prefix="cp-state-", dir=scratch))
    args = ["--catalog-dir", str(catalog), "--edges", "1", "--state-dir", str(state),
            "--request-log", os.devnull]
    if host:
        args += ["--host", host]
    cp = BundledControlPlane(args, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                             start_timeout_s=60)
    cp.start()
    return cp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="MiB to download (1024)")
    parser.add_argument("--segment-kb", type=int, default=2560, help="KiB a segment (2560)")
    parser.add_argument("--reps", type=int, default=3, help="loopback repetitions (3)")
    parser.add_argument("--shaped-reps", type=int, default=1)
    parser.add_argument("--no-shaped", action="store_true", help="skip the 100 Mbit/s link")
    parser.add_argument("--no-curl-parallel", action="store_true")
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return

    free = shutil.disk_usage(args.tmp).free
    need = int(2.2 * args.size_mb * MiB)
    if free < need:
        sys.exit(f"{args.tmp}: {free / 1e9:.1f} GB free, the bench needs about "
                 f"{need / 1e9:.1f} GB (the catalog + one run's output)")
    print(f"offline_download: {args.size_mb} MiB, segments {args.segment_kb} KiB; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
          f"scratch {args.tmp} ({free / 1e9:.0f} GB free)", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="edgeplay-bench-offline-", dir=args.tmp))
    started = time.monotonic()
    try:
        catalog = scratch / "catalog"
        t0 = time.perf_counter()
        count, total = make_bench_catalog(catalog, args.size_mb, args.segment_kb)
        os.sync()
        print(f"catalog: {count} segments, {total / 1e9:.3f} GB in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        summary: dict[str, dict[str, float]] = {}
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill too

        cp = start_cp(catalog, scratch)
        try:
            runs = phase("loopback", cp.ready.base_url, catalog, scratch, [],
                         cp.ready.raw.get("pid"), args.reps, not args.no_curl_parallel)
        finally:
            cp.stop()
        summary["loopback"] = report("loopback 127.0.0.1", runs)
        memory_report(runs["ours"])

        if not args.no_shaped:
            why = shaped_setup()
            if why is not None:
                print(f"\n[shaped] NOT MEASURED: {why}")
            else:
                try:
                    cp = start_cp(catalog, scratch, HOST_IP)
                    try:
                        shaped = phase("shaped", cp.ready.base_url, catalog, scratch,
                                       ["ip", "netns", "exec", NS], cp.ready.raw.get("pid"),
                                       args.shaped_reps, False)
                    finally:
                        cp.stop()
                finally:
                    shaped_cleanup()
                summary["shaped"] = report(f"shaped: tbf {' '.join(TBF)} on both veth ends, "
                                           "downloader in a netns", shaped)
                memory_report(shaped["ours"])
                ours_mbit = 8 * summary["shaped"]["ours_mbps"]
                curl_mbit = 8 * summary["shaped"]["curl_mbps"]
                ceiling = RATE_MBIT * 1448 / 1514
                verdict = "met" if ours_mbit >= 0.95 * RATE_MBIT else "MISSED"
                print(f"  DownloadManager {ours_mbit:.2f} Mbit/s = "
                      f"{100 * ours_mbit / RATE_MBIT:.1f} % of {RATE_MBIT:.0f} Mbit/s "
                      f"(target >= 95 %: {verdict}); curl {curl_mbit:.2f} Mbit/s = "
                      f"{100 * curl_mbit / RATE_MBIT:.1f} %; ours/curl "
                      f"{100 * ours_mbit / curl_mbit:.1f} %; payload ceiling of TCP at MTU 1500 "
                      f"{ceiling:.1f} Mbit/s")
        print(f"\n[summary] median MB/s (Mbit/s) and CPU s/GB; {args.size_mb} MiB")
        print(f"  {'':<9} {'DownloadManager':>27} {'curl, 1 connection':>27} {'ratio':>6}")
        for name, v in summary.items():
            print(f"  {name:<9} {v['ours_mbps']:7.1f} ({8 * v['ours_mbps']:7.1f}) "
                  f"{v['ours_cpu_gb']:6.2f} s/GB {v['curl_mbps']:7.1f} ({8 * v['curl_mbps']:7.1f}) "
                  f"{v['curl_cpu_gb']:6.2f} s/GB {v['ours_mbps'] / v['curl_mbps']:6.2f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
