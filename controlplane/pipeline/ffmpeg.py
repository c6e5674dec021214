"""Finding and running ffmpeg: Debian's on PATH, else the one in the imageio-ffmpeg wheel."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from controlplane.lifeline import die_with_parent
from controlplane.pipeline.errors import PipelineError

_INSTALL_HINT = (
    "no ffmpeg found: install Debian's (`apt install ffmpeg`) or the Python wheel "
    "(`pip install imageio-ffmpeg`)"
)


def find_ffmpeg() -> str:
    """Path of the ffmpeg binary to use; :class:`PipelineError` naming the fix if there is none."""
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg

        exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError, OSError) as exc:
        raise PipelineError(_INSTALL_HINT) from exc
    return exe


@dataclass(frozen=True)
class FfmpegFeatures:
    has_drawtext: bool
    has_libx264: bool


@functools.lru_cache(maxsize=4)
def features(ffmpeg: str) -> FfmpegFeatures:
    """What this ffmpeg build can do (asked once per binary)."""
    filters = _run_listing(ffmpeg, "-filters")
    encoders = _run_listing(ffmpeg, "-encoders")
    return FfmpegFeatures(
        has_drawtext=re.search(r"\bdrawtext\b", filters) is not None,
        has_libx264=re.search(r"\blibx264\b", encoders) is not None,
    )


def _run_listing(ffmpeg: str, flag: str) -> str:
    done = subprocess.run(
        [ffmpeg, "-hide_banner", flag], capture_output=True, text=True, check=False,
        preexec_fn=die_with_parent(),
    )
    return done.stdout


def run_ffmpeg(
    ffmpeg: str,
    args: Sequence[str],
    *,
    what: str,
    duration_s: float | None = None,
    on_fraction: Callable[[float], None] | None = None,
) -> None:
    """Run ffmpeg with ``args``; report progress as a fraction of ``duration_s`` if given.

    A failure raises :class:`PipelineError` with ``what`` and the last lines ffmpeg printed.
    """
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    if on_fraction is not None and duration_s:
        cmd += ["-progress", "pipe:1", "-nostats"]
    cmd += list(args)
    with tempfile.TemporaryFile() as err_file:
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file, text=True,
                                    errors="replace", preexec_fn=die_with_parent())
        except OSError as exc:
            raise PipelineError(f"cannot run {ffmpeg}: {exc}") from exc
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                done_s = _progress_seconds(line)
                if done_s is not None and on_fraction is not None and duration_s:
                    on_fraction(min(1.0, max(0.0, done_s / duration_s)))
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        if returncode != 0:
            err_file.seek(0)
            err = err_file.read().decode("utf-8", "replace")
            tail = " | ".join(err.strip().splitlines()[-4:]) or f"exit status {returncode}"
            raise PipelineError(f"ffmpeg failed while {what}: {tail}")


def _progress_seconds(line: str) -> float | None:
    key, _, value = line.strip().partition("=")
    if key != "out_time_us" or not value.lstrip("-").isdigit():
        return None
    return int(value) / 1_000_000


def require_x264(ffmpeg: str) -> None:
    """:class:`PipelineError` unless this ffmpeg can encode H.264 with libx264."""
    if not features(ffmpeg).has_libx264:
        raise PipelineError(
            f"{ffmpeg} has no libx264 encoder; install Debian's ffmpeg (`apt install ffmpeg`) "
            "or the imageio-ffmpeg wheel"
        )
