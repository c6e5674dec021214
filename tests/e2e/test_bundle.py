"""The PyInstaller bundle (packaging/pyinstaller/edgeplay.spec): build it into a temporary folder,
then run it as a user would — ``--version``, ``--self-check``, and a title of the test catalog
played headless, with the bundled control plane started by the bundle's own executable — and
once more with Python, the system libmpv and ffmpeg hidden from it.

Slow (the build takes ~25 s on 2 cores); skipped when PyInstaller is not installed
(``pip install -e '.[bundle]'``) or libmpv is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "packaging" / "pyinstaller" / "edgeplay.spec"
BUILD_TIMEOUT_S = 900

pytestmark = [pytest.mark.slow, pytest.mark.mpv, pytest.mark.timeout(BUILD_TIMEOUT_S)]


def _libmpv_present() -> bool:
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True,
                                 timeout=30).stdout
    except OSError:
        return False
    return "libmpv.so.2 " in listing


def user_env(**extra: str) -> dict[str, str]:
    """A user's environment: no virtualenv, no PYTHONPATH, no forced Qt platform."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "QT_QPA_PLATFORM"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env["EDGEPLAY_AO"] = "null"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed: `pip install -e '.[bundle]'` "
                    "(scripts/build-bundle.sh installs it)")
    if not _libmpv_present():
        pytest.skip("libmpv.so.2 is not installed (apt-get install libmpv2)")
    root = tmp_path_factory.mktemp("bundle")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(root / "dist"), "--workpath", str(root / "work"), str(SPEC)],
        cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-4000:]
    exe = root / "dist" / "edgeplay" / "edgeplay"
    assert exe.is_file(), "no executable in the bundle"
    print(f"bundle built in {time.monotonic() - started:.1f} s", file=sys.stderr)
    shutil.rmtree(root / "work", ignore_errors=True)
    yield exe
    shutil.rmtree(root / "dist", ignore_errors=True)  # ~400 MB; pytest keeps old tmp folders


def test_version(bundle: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(bundle), "--version"], cwd=tmp_path, env=user_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Edgeplay ") and done.stdout.count("\n") == 1


def test_self_check(bundle: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(bundle), "--self-check", "--data-dir", str(tmp_path / "d")],
                          cwd=tmp_path, env=user_env(), capture_output=True, text=True,
                          timeout=180)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Traceback" not in out + done.stderr
    lines = {m.group(2): m.group(0) for m in re.finditer(
        r"^(ok|warn|FAIL)\s+(\S.*?)\s{2,}.*$", out, re.M)}
    assert lines["libmpv"].startswith("ok") and "(bundled)" in lines["libmpv"], out
    assert lines["data dirs"].startswith("ok"), out
    assert lines["control plane"].startswith("ok") and "this executable" in \
        lines["control plane"], out
    assert lines["ffmpeg"].startswith("ok") and "bundled" in lines["ffmpeg"], out
    assert "python       " in out and "frozen" in out


def _play(bundle: Path, cwd: Path, prefix: tuple[str, ...] = ()) -> dict[str, object]:
    done = subprocess.run(
        [*prefix, str(bundle), "play", "pocket-meadow", "--headless", "--json", "--duration",
         "2", "--catalog", "test", "--data-dir", str(cwd / "device")],
        cwd=cwd, env=user_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(report, dict)
    return report


def _assert_played(report: dict[str, object]) -> None:
    assert report["ok"] is True, report
    assert isinstance(report["ttff_ms"], float | int), report  # a first frame was shown
    played = report["played_s"]
    assert isinstance(played, float | int) and played >= 1.5, report
    assert report["renditions_played"], report
    assert report["error_code"] is None


def test_plays_a_title_headless(bundle: Path, tmp_path: Path) -> None:
    _assert_played(_play(bundle, tmp_path))


HIDE = r"""
set -e
for d in "$@"; do [ -d "$d" ] && mount -t tmpfs none "$d"; done
for f in /usr/bin/python3* /usr/bin/ffmpeg /usr/lib/*-linux-gnu/libmpv.so* \
         /usr/lib/*-linux-gnu/libavcodec.so* /usr/lib/*-linux-gnu/libpython3*; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then mount --bind /dev/null "$f"; fi
done
exec "$BUNDLE" play pocket-meadow --headless --json --duration 2 --catalog test \
  --data-dir "$PWD/device"
"""


def test_plays_without_python_or_the_system_libmpv(bundle: Path, tmp_path: Path) -> None:
    """In a private mount namespace Python (the interpreter, the venv, this checkout), the
    system's libmpv, libavcodec and ffmpeg are hidden: what is left is the bundle."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) to hide Python from the bundle")
    probe = subprocess.run([unshare, "-m", "true"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("mount namespaces are not allowed here")
    hidden = [str(REPO), sys.base_prefix, sys.prefix, "/usr/lib/python3",
              f"/usr/lib/python3.{sys.version_info.minor}"]
    hidden = [d for d in dict.fromkeys(hidden) if not str(bundle).startswith(d + os.sep)]
    done = subprocess.run(
        [unshare, "-m", "bash", "-c", HIDE, "hide", *hidden], cwd=tmp_path,
        env=user_env(BUNDLE=str(bundle)), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    _assert_played(report)
