"""``python -m abr bench ...``: see :mod:`abr.bench`."""

from __future__ import annotations

import argparse
import sys

from abr import bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m abr")
    commands = parser.add_subparsers(dest="command", required=True)
    bench.add_arguments(commands.add_parser("bench", help="run every policy on every trace"))
    args = parser.parse_args(argv)
    return bench.main(args)


if __name__ == "__main__":
    sys.exit(main())
