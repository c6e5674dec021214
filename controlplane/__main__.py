"""``python -m controlplane`` — the bundled control plane, its edges and its content pipeline.

    python -m controlplane [--catalog default|test] [--edges N] [--port P] …
    python -m controlplane generate [--catalog default|test]
    python -m controlplane ingest FILE [--name NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

import platformdirs

from controlplane import lifeline, pipeline
from controlplane.catalog import Catalog, CatalogError, load_catalog
from controlplane.config import policy_with_overrides

APP = "edgeplay"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", choices=tuple(pipeline.PROFILE_NAMES), default="default",
                        help="which generated catalog to serve (default: default)")
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(platformdirs.user_cache_dir(APP)) / "controlplane",
                        help="where generated catalogs live (default: the user cache dir)")
    parser.add_argument("--catalog-dir", type=Path,
                        help="serve this existing catalog directory instead of a generated one")


def _catalog(args: argparse.Namespace) -> Catalog:
    if args.catalog_dir:
        return load_catalog(args.catalog_dir)
    root = pipeline.ensure_catalog(args.catalog, args.cache_dir, progress=_say)
    return load_catalog(root)


def _serve(argv: list[str]) -> int:
    from controlplane.server import ServerOptions, serve

    parser = argparse.ArgumentParser(prog="python -m controlplane",
                                     description="Run the bundled control plane and edge fleet.")
    _common(parser)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    parser.add_argument("--admin-port", type=int, default=0, help="admin port (0: any free port)")
    parser.add_argument("--edges", type=int, default=3, help="number of edges (default 3)")
    parser.add_argument("--state-dir", type=Path,
                        default=Path(platformdirs.user_data_dir(APP)) / "controlplane",
                        help="accounts, progress, licenses and keys (default: user data dir)")
    parser.add_argument("--request-log", type=Path,
                        help="append the edges' JSON request log to this file; '-' for stderr "
                             "(default: requests.jsonl in the state dir)")
    parser.add_argument("--policy", action="append", default=[], metavar="NAME=VALUE",
                        help="override a policy duration or limit, e.g. access_token_ttl_s=5")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not 1 <= args.edges <= 16:
        parser.error("--edges must be between 1 and 16")
    try:
        policy = policy_with_overrides(args.policy)
    except ValueError as exc:
        parser.error(str(exc))
    catalog = _catalog(args)
    if str(args.request_log) == "-":
        request_log = sys.stderr
    else:
        log_path = args.request_log or args.state_dir / "requests.jsonl"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        request_log = log_path.open("a", buffering=1, encoding="utf-8")
    options = ServerOptions(catalog=catalog, state_dir=args.state_dir, policy=policy,
                            host=args.host, port=args.port, admin_port=args.admin_port,
                            edges=args.edges, request_log=request_log)
    try:
        asyncio.run(serve(options))
    except OSError as exc:
        _say(f"controlplane: cannot listen on {args.host}: {exc.strerror or exc}")
        return 1
    finally:
        if request_log is not sys.stderr:
            request_log.close()
    return 0


def _generate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m controlplane generate",
                                     description="Generate (or check) a catalog and exit.")
    _common(parser)
    args = parser.parse_args(argv)
    catalog = _catalog(args)
    _say(f"catalog ready: {catalog.root} ({len(catalog.titles)} titles)")
    return 0


def _ingest(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m controlplane ingest",
                                     description="Add your own video file to the catalog.")
    parser.add_argument("file", type=Path)
    parser.add_argument("--name", help="the title's name (default: from the file name)")
    _common(parser)
    args = parser.parse_args(argv)
    if not args.file.is_file():
        _say(f"controlplane ingest: {args.file} is not a file")
        return 2
    catalog = _catalog(args)
    title_id = pipeline.ingest(args.file, catalog.root, name=args.name, progress=_say)
    _say(f"added {title_id} to {catalog.root}; restart the control plane to serve it")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    lifeline.hold()  # exit with the parent that started us, however it ends
    commands = {"ingest": _ingest, "generate": _generate, "serve": _serve}
    command = commands.get(argv[0], _serve) if argv else _serve
    rest = argv[1:] if argv and argv[0] in commands else argv
    try:
        return command(rest)
    except (CatalogError, pipeline.PipelineError) as exc:
        _say(f"controlplane: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
