"""The ``edgeplay`` command.

``edgeplay [--catalog default|test]`` starts the bundled control plane and edges and serves until
Ctrl+C. ``edgeplay play TITLE --headless [--json] [--duration S] [--control-plane URL]
[--start-over] [--max-rung N] [--catalog …]`` plays a title with libmpv and no window, and prints
the QoE report (see ``ui/headless.py``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from player.bundled import BundledControlPlane, ControlPlaneStartError


def _run_bundled(args: argparse.Namespace) -> int:
    print("Starting the bundled control plane and edge fleet "
          "(the first run generates the catalog; this takes a few minutes)…", flush=True)
    cp = BundledControlPlane(["--catalog", args.catalog],
                             on_output=lambda line: print(f"  {line}", file=sys.stderr,
                                                          flush=True))
    try:
        ready = cp.start()
    except ControlPlaneStartError as exc:
        print(f"edgeplay: {exc}", file=sys.stderr)
        return 1
    print(f"Control plane: {ready.base_url}")
    print(f"Admin API:     {ready.admin_url}")
    for name, url in ready.edges:
        print(f"Edge {name}:    {url}")
    print("The desktop interface is not part of this build yet; the backend is serving. "
          "Press Ctrl+C to stop.", flush=True)
    try:
        while cp.proc is not None and cp.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        cp.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _rung(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeplay", description="Edgeplay streaming client")
    parser.add_argument("--catalog", choices=("default", "test"), default="default",
                        help="which bundled catalog to serve (default: default)")
    sub = parser.add_subparsers(dest="command")
    play = sub.add_parser("play", help="play a title")
    play.add_argument("title", metavar="TITLE", help="a title id or name")
    play.add_argument("--headless", action="store_true",
                      help="no window: libmpv with vo=null/ao=null, then print the QoE report")
    play.add_argument("--json", action="store_true", help="print the report as one JSON object")
    play.add_argument("--duration", type=_positive, metavar="S",
                      help="stop after S seconds of playback")
    play.add_argument("--control-plane", metavar="URL",
                      help="use this control plane instead of starting the bundled one")
    play.add_argument("--catalog", choices=("default", "test"), dest="play_catalog",
                      help="catalog of the bundled control plane (default: default)")
    play.add_argument("--catalog-dir", metavar="DIR",
                      help="serve this catalog directory from the bundled control plane")
    play.add_argument("--start-over", action="store_true",
                      help="start at the beginning, not at the resume position")
    play.add_argument("--max-rung", type=_rung, metavar="N",
                      help="highest rendition the ABR may pick (0 = lowest)")
    play.add_argument("-v", "--verbose", action="store_true",
                      help="log the engine's decisions (abr, edge, net, player) to stderr")
    play.add_argument("--speed", type=_positive, default=1.0, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "play":
        if not args.headless:
            parser.error("the desktop interface is not part of this build yet: "
                         "use `edgeplay play TITLE --headless`")
        from ui.headless import HeadlessOptions, run_headless
        return run_headless(HeadlessOptions(
            title=args.title, control_plane=args.control_plane,
            catalog=args.play_catalog or args.catalog, catalog_dir=args.catalog_dir,
            json=args.json, duration_s=args.duration, start_over=args.start_over,
            max_rung=args.max_rung, speed=args.speed, verbose=args.verbose))
    signal.signal(signal.SIGTERM, _interrupt)
    return _run_bundled(args)


if __name__ == "__main__":
    sys.exit(main())
