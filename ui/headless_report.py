"""What a command-line run prints: the QoE report, a failure as one line (and one JSON object),
the exit status, and logging to stderr.

With ``--json`` every run prints exactly one report object, failures before playback included
(:func:`failure_report`). Exit status: 0 played, 1 playback or setup error.
"""

from __future__ import annotations

import json
import logging
from typing import TextIO

from player.errors import PlayerError
from player.qoe_report import QoeReport
from ui.headless_options import HeadlessOptions, is_url


def print_report(report: QoeReport, as_json: bool, out: TextIO,
                 error: PlayerError | None) -> None:
    if as_json:
        body = report.to_json()
        body["ok"] = error is None
        out.write(json.dumps(body, ensure_ascii=False) + "\n")
    else:
        out.write(report.text() + "\n")
    out.flush()


def finish(report: QoeReport, error: PlayerError | None, options: HeadlessOptions,
           out: TextIO, err: TextIO) -> int:
    """Print the report (and the error, one line); the exit status. The report's error is
    ``error``, the one the run ended on, whatever the engine's telemetry said before."""
    if error is not None:
        report = report.with_error(error.code, error.message)
    print_report(report, options.json, out, error)
    if error is not None:
        print(f"edgeplay: {error.message}", file=err, flush=True)
        return 1
    return 0


def failure_report(code: str, message: str, title: str = "") -> str:
    """The JSON line of a run that ended before (or outside) playback: every report field,
    the unknown ones null, with ``ok: false``, ``error_code`` and ``error_message``."""
    body = QoeReport(title_id=title if is_url(title) else "").with_error(code, message).to_json()
    body["ok"] = False
    return json.dumps(body, ensure_ascii=False)


def fail(options: HeadlessOptions, code: str, message: str, out: TextIO, err: TextIO) -> int:
    """A run that ended before playback: one line on stderr and, with ``--json``, the failure
    report on stdout; exit status 1."""
    if options.json:
        print(failure_report(code, message, options.title), file=out, flush=True)
    print(f"edgeplay: {message}", file=err, flush=True)
    return 1


def first_line(exc: BaseException) -> str:
    """The first line of what ``exc`` says (its type's name when it says nothing)."""
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def setup_logging(verbose: bool, err: TextIO) -> None:
    """Logs to stderr: INFO with ``-v``, errors only otherwise (unless already set up)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                            stream=err, format="%(asctime)s %(name)s: %(message)s")
