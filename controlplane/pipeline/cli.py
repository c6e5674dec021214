"""Command line of the pipeline: ``generate`` the cached catalog, ``ingest FILE`` into it.

``python -m controlplane.pipeline ...`` runs it; ``python -m controlplane ingest FILE`` should
dispatch here too (:func:`main` takes the arguments after the program name).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from controlplane.pipeline.cache import ensure_catalog
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ingest import ingest
from controlplane.pipeline.profiles import PROFILES


def default_cache_dir() -> Path:
    """The same folder ``python -m controlplane`` uses, so both share one generated catalog."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("edgeplay")) / "controlplane"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m controlplane.pipeline",
                                     description="Generate or extend the bundled catalog.")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where catalogs live (default: the user cache directory)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("generate", help="make sure the catalog exists (generate it if needed)")
    add = sub.add_parser("ingest", help="add a video file to the catalog")
    add.add_argument("file", type=Path)
    add.add_argument("--name", help="title name (default: from the file name)")
    return parser


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cache_dir = args.cache_dir or default_cache_dir()
    try:
        root = ensure_catalog(args.profile, cache_dir, _say)
        if args.command == "ingest":
            title_id = ingest(args.file, root, name=args.name, progress=_say)
            print(title_id)
        else:
            print(root)
    except PipelineError as exc:
        _say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted; the catalog was left as it was")
        return 130
    return 0
