"""Convert mahimahi cellular packet traces to the bench's trace format (Sabre's network JSON).

Source: ravinet/mahimahi, folder ``traces/`` (Winstein, Sivaraman, Balakrishnan, "Stochastic
Forecasts Achieve High Throughput and Low Delay over Cellular Networks", USENIX NSDI 2013):
US LTE downlinks (AT&T, T-Mobile, Verizon) measured while driving. Each line of a ``.down``
file is a millisecond at which one 1500-byte packet could cross the link; this script counts
them per ``--bin-ms`` window (kbit/s = packets × 12 000 bits / window ms) and writes one JSON
file per trace, ``mahimahi_<name>.json``, plus an ``index.json`` with class ``mahimahi``.
Traces longer than ``--split-s`` are cut into consecutive pieces of that length (a drive of
13 minutes is several sessions, not one). The latency is set by us (``--latency-ms``, 40 by
default: the traces carry none). The data is not stored in this repository (mahimahi is GPLv3);
run, e.g.::

    git -C MAHIMAHI show HEAD:traces/TMobile-LTE-driving.down > /tmp/TMobile-LTE-driving.down
    python scripts/convert_mahimahi.py --out /tmp/fast_traces /tmp/*.down
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PACKET_BITS = 1500 * 8


def convert(lines: list[str], bin_ms: int, latency_ms: float) -> list[dict[str, float]]:
    """Packet opportunities (ms timestamps) to constant-bandwidth periods of ``bin_ms``."""
    stamps = [int(x) for x in lines if x.strip()]
    if not stamps:
        raise ValueError("no packet timestamps")
    bins = [0] * (stamps[-1] // bin_ms + 1)
    for t in stamps:
        bins[t // bin_ms] += 1
    return [
        {"duration_ms": bin_ms, "bandwidth_kbps": round(n * PACKET_BITS / bin_ms, 1),
         "latency_ms": latency_ms}
        for n in bins
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="mahimahi .down files")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--bin-ms", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--split-s", type=float, default=240.0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    index = []
    for path in args.files:
        try:
            periods = convert(path.read_text().splitlines(), args.bin_ms, args.latency_ms)
        except (OSError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 1
        per_piece = max(1, int(args.split_s * 1000 // args.bin_ms))
        pieces = [periods[i:i + per_piece] for i in range(0, len(periods), per_piece)]
        if len(pieces) > 1 and len(pieces[-1]) < per_piece // 2:
            pieces[-2].extend(pieces.pop())  # a short tail joins the piece before it
        for n, piece in enumerate(pieces):
            name = f"mahimahi_{path.stem}" + (f"_{n}" if len(pieces) > 1 else "")
            (args.out / f"{name}.json").write_text(
                "[\n" + ",\n".join(json.dumps(p) for p in piece) + "\n]\n")
            seconds = sum(p["duration_ms"] for p in piece) / 1000
            mean = sum(p["bandwidth_kbps"] * p["duration_ms"] for p in piece) / seconds / 1000
            index.append({"file": f"{name}.json", "class": "mahimahi",
                          "origin": f"ravinet/mahimahi traces/{path.name}",
                          "duration_s": seconds, "mean_kbps": round(mean, 1)})
    (args.out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    for entry in index:
        print(f"{entry['file']}: {entry['duration_s']:.0f} s, {entry['mean_kbps']:.0f} kbit/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
