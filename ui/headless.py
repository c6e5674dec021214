"""``edgeplay play TITLE --headless``: play with the real libmpv (vo/ao null), print the QoE report.

``TITLE`` starting with ``http://`` or ``https://`` is a plain HLS VOD URL: it plays with no
control plane (none is started; no sign-in, no progress, no telemetry POST).

Order: the control plane (``--control-plane URL``, else the bundled one, stopped at exit) →
device credentials (:class:`player.tokens.TokenStore`; first use registers a device with the
demo account) → the title (an id, else the best search match) → ``create_mpv(vo="null",
ao="null")`` → :class:`player.session.PlaybackSession` on an asyncio loop on this thread until
the end, ``--duration`` seconds of playback, or Ctrl+C/SIGTERM → the report (text, or one JSON
object with ``--json``) on stdout. Progress goes through the durable outbox in the data folder
(``--data-dir`` / ``EDGEPLAY_DATA_DIR``, else platformdirs; :mod:`player.sync`): whatever an
earlier run left pending (a crash, the control plane down) is replayed first, and the position is
flushed before exit. ``edgeplay sync`` only replays the outbox. Exit status: 0 played, 1 playback
or setup error (one line on stderr, no traceback), 2 usage (argparse). With ``--json`` every run
prints exactly one report object, failures before playback included
(:func:`~ui.headless_report.failure_report`); ``ok`` is false when the stream died, even if
``--duration`` ended the run first (:func:`ui.headless_drive.died`). ``--prefetch`` fetches the
start first (:mod:`player.prefetch`, what the details page does) and plays from it. The fields
and error codes: docs/engine.md, *The JSON report*.

This module picks the way to play and turns every failure into one line; the pieces:
:mod:`ui.headless_options` (the options, the engine settings they give), :mod:`ui.signin`
(device sign-in, the title), :mod:`ui.headless_play` (title, URL and offline runs),
:mod:`ui.headless_drive` (one session until its end), :mod:`ui.headless_report` (what is printed).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TextIO

from player.bundled import BundledControlPlane, ControlPlaneStartError
from player.errors import PlayerError
from ui.config import AppPaths
from ui.headless_options import HeadlessOptions, is_url
from ui.headless_play import run_offline, run_online, run_url
from ui.headless_report import fail, failure_report, first_line, setup_logging
from ui.signin import HeadlessError

__all__ = ["HeadlessOptions", "failure_report", "run_headless"]
"""What ``ui/cli.py`` imports from here."""

log = logging.getLogger("ui")


def bundled_args(options: HeadlessOptions, paths: AppPaths) -> list[str]:
    """The bundled control plane's arguments: the app's catalog and state folder (so the
    device, its downloads' licenses and its progress are the same as the app's)."""
    args = (["--catalog-dir", options.catalog_dir] if options.catalog_dir
            else ["--catalog", options.catalog])
    return [*args, "--state-dir", str(paths.controlplane_state)]


def run_headless(options: HeadlessOptions, out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr) -> int:
    """Play ``options.title`` headless; returns the exit status."""
    setup_logging(options.verbose, err)
    bundled: BundledControlPlane | None = None
    try:
        if is_url(options.title) and not options.sync_only:  # no control plane at all
            return asyncio.run(run_url(options, out, err))
        if options.offline:
            return asyncio.run(run_offline(options, out, err))
        base_url = options.control_plane
        store_key = None
        if base_url is None:
            paths = AppPaths.resolve(options.data_dir)
            print("Starting the bundled control plane…", file=err, flush=True)
            bundled = BundledControlPlane(bundled_args(options, paths))
            base_url = bundled.start().base_url
            store_key = f"bundled:{paths.controlplane_state}"
        return asyncio.run(run_online(base_url, options, out, err, store_key))
    except HeadlessError as exc:
        return fail(options, "setup", first_line(exc), out, err)
    except ControlPlaneStartError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        said = f"{lines[0]} {lines[-1]}" if len(lines) > 1 else first_line(exc)  # + its last word
        return fail(options, "controlplane_start", said, out, err)
    except PlayerError as exc:
        return fail(options, exc.code, exc.message, out, err)
    except KeyboardInterrupt:
        return fail(options, "interrupted", "interrupted", out, err)
    except Exception as exc:  # a bug: still one line (and one JSON object), the trace in the log
        log.info("unexpected error", exc_info=exc)
        return fail(options, "internal", f"unexpected error: {type(exc).__name__}: "
                    f"{first_line(exc)} (run with -v for details)", out, err)
    finally:
        if bundled is not None:
            bundled.stop()
