"""The ``edgeplay`` command.

``edgeplay [--tv] [--control-plane URL] [--data-dir DIR] [--catalog default|test]`` opens the
app (``ui/app.py``) against the bundled control plane unless a URL is given.
``edgeplay --screenshot FILE [--tv] [--page home|details|…|signin|search]``
saves that page as a PNG and exits. ``edgeplay serve`` only serves the bundled control plane
until Ctrl+C.
``edgeplay play TITLE --headless [--json] [--duration S] [--control-plane URL]
[--start-over] [--max-rung N] [--catalog …] [--data-dir DIR]`` plays a title with libmpv and no
window, and prints the QoE report (see ``ui/headless.py``); a TITLE starting with http:// or
https:// is a plain HLS VOD URL, played with no control plane. ``edgeplay sync --control-plane URL
[--data-dir DIR]`` replays the progress outbox. ``EDGEPLAY_DATA_DIR`` is ``--data-dir``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import NoReturn

from player.bundled import BundledControlPlane, ControlPlaneStartError
from player.keysource import parse_key_pair

CATALOGS = ("default", "test", "default-ts", "test-ts")
STREAM_FORMATS = ("hls", "dash")
"""``--format``: what ``POST /v1/playback`` asks for (player.api.models.STREAM_FORMATS)."""
DOWNLOAD_AS_HLS = ("edgeplay: downloading as HLS: a download stores the title's CMAF segments "
                   "and plays them offline from local HLS playlists, so it reads the HLS "
                   "description of the same segments (--format dash applies to streaming)")
"""The bundled catalogs (``python -m controlplane --catalog``): CMAF, and the same in MPEG-TS."""


def _run_bundled(args: argparse.Namespace) -> int:
    print("Starting the bundled control plane and edge fleet "
          "(the first run generates the catalog; this takes a few minutes)…", flush=True)
    cp = BundledControlPlane(["--catalog-dir", args.catalog_dir] if args.catalog_dir
                             else ["--catalog", args.catalog],
                             on_output=lambda line: print(f"  {line}", file=sys.stderr,
                                                          flush=True))
    try:
        ready = cp.start()
    except ControlPlaneStartError as exc:
        print(f"edgeplay: {exc}", file=sys.stderr)
        return 1
    print(f"Control plane: {ready.base_url}")
    print(f"Admin API:     {ready.admin_url}  (Authorization: Bearer {ready.admin_token})")
    for name, url in ready.edges:
        print(f"Edge {name}:    {url}")
    print("Serving. Press Ctrl+C to stop.", flush=True)
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


class UsageError(Exception):
    """Bad arguments: argparse's message, and the (sub)parser that found them."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors come back to :func:`main` (which prints them, and the
    JSON failure report of ``play --json``) instead of exiting on the spot."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def _usage(exc: UsageError, argv: list[str]) -> int:
    exc.parser.print_usage(sys.stderr)
    print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr, flush=True)
    if "play" in argv and "--json" in argv:
        from ui.headless import failure_report
        print(failure_report("usage", exc.message), flush=True)
    return 2


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _key_pair(text: str) -> tuple[bytes, bytes]:
    try:
        return parse_key_pair(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rung(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="edgeplay", description="Edgeplay streaming client")
    parser.add_argument("--catalog", choices=CATALOGS, default="default",
                        help="which bundled catalog to serve (default: default)")
    parser.add_argument("--catalog-dir", metavar="DIR",
                        help="serve this catalog directory from the bundled control plane")
    parser.add_argument("--control-plane", metavar="URL",
                        help="use this control plane instead of starting the bundled one")
    parser.add_argument("--tv", action="store_true",
                        help="TV mode: fullscreen 10-foot interface driven by the arrows")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="keep settings, app data and caches in DIR (one folder per device; "
                        "default: $EDGEPLAY_DATA_DIR, else the platform's folders)")
    parser.add_argument("--screenshot", metavar="FILE",
                        help="open --page, save a PNG once it has settled, and exit")
    parser.add_argument("--page", choices=("home", "details", "player", "osd", "panel",
                                           "postplay", "downloads", "signin", "search"),
                        default="home", help="the page --screenshot shows (default: home)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--self-check", nargs="?", const="text", choices=("text", "json"),
                        metavar="json", help="check libmpv, OpenGL, the keyring, the data "
                        "folders and the control plane, print what a bug report needs and exit "
                        "(1 if a check FAILed); `--self-check json` prints JSON")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="only serve the bundled control plane until Ctrl+C")
    play = sub.add_parser("play", help="play a title")
    play.add_argument("title", metavar="TITLE",
                      help="a title id or name, or an http(s) HLS VOD URL (no control plane)")
    play.add_argument("--headless", action="store_true",
                      help="no window: libmpv with vo=null/ao=null, then print the QoE report")
    play.add_argument("--json", action="store_true", help="print the report as one JSON object")
    play.add_argument("--duration", type=_positive, metavar="S",
                      help="stop after S seconds of playback")
    play.add_argument("--control-plane", metavar="URL",
                      help="use this control plane instead of starting the bundled one")
    play.add_argument("--catalog", choices=CATALOGS, dest="play_catalog",
                      help="catalog of the bundled control plane (default: default)")
    play.add_argument("--catalog-dir", metavar="DIR",
                      help="serve this catalog directory from the bundled control plane")
    play.add_argument("--start-over", action="store_true",
                      help="start at the beginning, not at the resume position")
    play.add_argument("--prefetch", action="store_true",
                      help="fetch the start ahead (as the details page does), then play from it")
    play.add_argument("--max-rung", type=_rung, metavar="N",
                      help="highest rendition the ABR may pick (0 = lowest)")
    play.add_argument("-v", "--verbose", action="store_true",
                      help="log the engine's decisions (abr, edge, net, player) to stderr")
    play.add_argument("--data-dir", metavar="DIR", dest="play_data_dir",
                      help="the device's data folder (progress outbox, settings)")
    play.add_argument("--speed", type=_positive, default=1.0, help=argparse.SUPPRESS)
    play.add_argument("--key", type=_key_pair, action="append", default=[], metavar="KID:KEY",
                      help="a CENC ClearKey content key (32 hex digits each); repeat for "
                      "several KIDs")
    play.add_argument("--audio", metavar="LANG",
                      help="play this audio language (e.g. es), switched to once playing")
    play.add_argument("--offline", action="store_true",
                      help="play the title's download: no control plane, no network")
    play.add_argument("--format", choices=STREAM_FORMATS, default=None, dest="play_format",
                      help="ask the control plane for HLS (default) or DASH, the same CMAF "
                      "segments described by an MPD; a title without DASH plays HLS (a URL: "
                      "its content decides)")
    download = sub.add_parser("download", help="download a title to watch offline")
    download.add_argument("title", metavar="TITLE", help="a title id or name")
    download.add_argument("--quality", metavar="RUNG",
                          help="a rung index (0 = lowest), a height such as 720p, best or "
                          "low (default: the best that fits the storage budget)")
    download.add_argument("--format", choices=STREAM_FORMATS, default=None,
                          dest="dl_format", help="accepted for symmetry with play: a download "
                          "always reads the HLS description of the segments (the same bytes)")
    download.add_argument("--audio", metavar="LANG[,LANG]",
                          help="the audio languages to download when the title's audio is in "
                          "separate renditions, e.g. en,fr (default: every language)")
    downloads = sub.add_parser("downloads", help="list and manage downloads")
    downloads.add_argument("action", nargs="?", default="list",
                           choices=("list", "pause", "resume", "delete", "renew", "repair"))
    downloads.add_argument("title", nargs="?", metavar="TITLE",
                           help="a title id or name, or a download id")
    for p in (download, downloads):
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.add_argument("--control-plane", metavar="URL", dest="dl_control_plane",
                       help="the control plane (default: the bundled one)")
        p.add_argument("--catalog", choices=CATALOGS, dest="dl_catalog",
                       help="catalog of the bundled control plane (default: default)")
        p.add_argument("--catalog-dir", metavar="DIR", dest="dl_catalog_dir",
                       help="serve this catalog directory from the bundled control plane")
        p.add_argument("--data-dir", metavar="DIR", dest="dl_data_dir",
                       help="the device's data folder (downloads, settings)")
        p.add_argument("-v", "--verbose", action="store_true", dest="dl_verbose",
                       help="log the downloader's work to stderr")
    sync = sub.add_parser("sync", help="send the progress kept while offline, then exit")
    sync.add_argument("--control-plane", metavar="URL", dest="sync_control_plane", required=True,
                      help="the control plane to send it to")
    sync.add_argument("--data-dir", metavar="DIR", dest="sync_data_dir",
                      help="the device's data folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except UsageError as exc:
        return _usage(exc, argv)


def _main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version or args.self_check:
        from ui.selfcheck import SelfCheckOptions, print_version, run_self_check
        if args.version:
            return print_version()
        return run_self_check(SelfCheckOptions(data_dir=args.data_dir,
                                               control_plane=args.control_plane,
                                               json=args.self_check == "json"))
    if args.command == "play":
        if not args.headless:
            parser.error("the desktop interface is not part of this build yet: "
                         "use `edgeplay play TITLE --headless`")
        from ui.headless import HeadlessOptions, run_headless
        return run_headless(HeadlessOptions(
            title=args.title, control_plane=args.control_plane,
            catalog=args.play_catalog or args.catalog, catalog_dir=args.catalog_dir,
            json=args.json, duration_s=args.duration, start_over=args.start_over,
            max_rung=args.max_rung, speed=args.speed, verbose=args.verbose,
            data_dir=args.play_data_dir or args.data_dir, offline=args.offline,
            keys=tuple(args.key), audio=args.audio, prefetch=args.prefetch,
            stream_format=args.play_format or "hls"))
    if args.command in ("download", "downloads"):
        from ui.downloads_cli import DownloadOptions, run_downloads
        if getattr(args, "dl_format", None) == "dash":
            print(DOWNLOAD_AS_HLS, file=sys.stderr, flush=True)
        return run_downloads(DownloadOptions(
            action="download" if args.command == "download" else args.action,
            title=args.title, quality=getattr(args, "quality", None), json=args.json,
            audio=getattr(args, "audio", None),
            control_plane=args.dl_control_plane or args.control_plane,
            catalog=args.dl_catalog or args.catalog,
            catalog_dir=args.dl_catalog_dir or args.catalog_dir,
            data_dir=args.dl_data_dir or args.data_dir,
            verbose=args.dl_verbose or args.verbose))
    if args.command == "sync":
        from ui.headless import HeadlessOptions, run_headless
        return run_headless(HeadlessOptions(
            title="", control_plane=args.sync_control_plane, sync_only=True,
            data_dir=args.sync_data_dir or args.data_dir, verbose=args.verbose))
    if args.command == "serve":
        signal.signal(signal.SIGTERM, _interrupt)
        return _run_bundled(args)
    from ui.app import AppOptions, run_app
    return run_app(AppOptions(
        control_plane=args.control_plane, catalog=args.catalog, catalog_dir=args.catalog_dir,
        data_dir=args.data_dir, tv=args.tv, screenshot=args.screenshot, page=args.page,
        verbose=args.verbose))


if __name__ == "__main__":
    sys.exit(main())
