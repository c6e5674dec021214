"""The ``edgeplay`` command."""

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edgeplay", description="Edgeplay streaming client")
    parser.add_argument("--catalog", choices=("default", "test"), default="default",
                        help="which bundled catalog to serve (default: default)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    return _run_bundled(args)


if __name__ == "__main__":
    sys.exit(main())
