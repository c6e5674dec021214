"""``edgeplay --version`` and ``edgeplay --self-check``: the real run (libmpv, Qt/OpenGL, the
keyring, the data folders, ffmpeg, a bundled control plane) as a user starts it, a data folder
that cannot be written to, and how probe results become ok / warn / FAIL lines."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ui import selfcheck
from ui.selfcheck import Check, ProbeResult, Report, SelfCheckOptions

REPO = Path(__file__).resolve().parents[2]
CHECKS = ("libmpv", "qt", "opengl", "keyring", "data dirs", "ffmpeg", "catalog",
          "control plane")
LINE = re.compile(r"^(ok|warn|FAIL)\s+(\S.*?)\s{2,}(.*)$")


def run_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # as a user runs it
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def check_lines(stdout: str) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for line in stdout.splitlines():
        match = LINE.match(line)
        if match:
            found[match.group(2)] = (match.group(1), match.group(3))
    return found


def test_version_is_one_line_and_does_not_load_qt() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from ui.cli import main; code = main(['--version']);"
         " assert not any(m.startswith(('PySide6', 'mpv')) for m in sys.modules), 'Qt loaded';"
         " sys.exit(code)"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=30)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"Edgeplay \d+\.\d+\.\d+\S*\n", done.stdout)


def test_self_check_reports_every_check_and_passes(tmp_path: Path) -> None:
    done = run_cli("--self-check", "--data-dir", str(tmp_path / "device"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = check_lines(done.stdout)
    assert list(lines) == list(CHECKS), done.stdout
    # What a bug report needs, in the header.
    for key in ("edgeplay", "python", "platform", "qt", "libmpv", "libraries"):
        assert re.search(rf"^  {key}\s+\S", done.stdout, re.M), done.stdout
    assert lines["libmpv"][0] == "ok"
    assert lines["data dirs"][0] == "ok" and str(tmp_path / "device") in lines["data dirs"][1]
    assert lines["control plane"][0] == "ok"
    assert "answered GET /v1/licenses/public-key" in lines["control plane"][1]
    if os.environ.get("DISPLAY"):  # the test session: Xvfb, Mesa's llvmpipe
        assert lines["qt"][0] == "ok"
        assert lines["opengl"][0] in ("ok", "warn") and "renderer" in lines["opengl"][1]
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS") and os.environ.get("GNOME_KEYRING_CONTROL"):
        assert lines["keyring"][0] == "ok", lines["keyring"]
    assert re.search(r"^summary: \d+ ok, \d+ warn, 0 FAIL: self-check passed$", done.stdout,
                     re.M)


def test_self_check_fails_clearly_when_the_data_dir_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # root ignores chmod: a path under a file never works
    done = run_cli("--self-check", "json", "--data-dir", str(blocker / "device"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False and report["summary"]["FAIL"] == 1
    checks = {c["name"]: c for c in report["checks"]}
    assert list(checks) == list(CHECKS)
    dirs = checks["data dirs"]
    assert dirs["status"] == "FAIL"
    assert str(blocker / "device" / "config") in dirs["detail"]
    assert "NotADirectoryError" in dirs["detail"] and "--data-dir" in dirs["fix"]
    assert checks["control plane"]["status"] == "ok"


def test_a_control_plane_that_does_not_answer_is_a_fail_with_the_url() -> None:
    check = selfcheck.check_control_plane("http://127.0.0.1:9", "--control-plane")
    assert check.status == "FAIL"
    assert "http://127.0.0.1:9" in check.detail and "ConnectError" in check.detail
    assert "--control-plane" in check.fix


def test_data_dirs_check_in_process(tmp_path: Path) -> None:
    assert selfcheck.check_data_dirs(str(tmp_path / "ok")).status == "ok"
    (tmp_path / "f").write_text("x")
    bad = selfcheck.check_data_dirs(str(tmp_path / "f" / "sub"))
    assert bad.status == "FAIL" and "(from --data-dir)" in bad.detail


@pytest.mark.parametrize(("probe", "status", "words"), [
    (ProbeResult(None, "crashed (signal 6): qt.qpa.plugin: Could not load the Qt platform "
                 "plugin \"xcb\""), "FAIL", "Could not load the Qt platform plugin"),
    (ProbeResult({"qt": "6.11.3", "pyside": "6.11.3", "platform": "xcb",
                  "gl_renderer": "llvmpipe (LLVM 15.0.6, 256 bits)", "gl_vendor": "Mesa",
                  "gl_version": "4.5 (Compatibility Profile) Mesa 22.3.6"}), "warn",
     "software rendering"),
    (ProbeResult({"qt": "6.11.3", "pyside": "6.11.3", "platform": "xcb",
                  "gl_renderer": "AMD Radeon RX 6600 (radeonsi)", "gl_vendor": "AMD",
                  "gl_version": "4.6 (Core Profile) Mesa 24.2"}), "ok", "AMD Radeon"),
    (ProbeResult({"qt": "6.11.3", "pyside": "6.11.3", "platform": "xcb",
                  "gl_error": "no OpenGL context (QOpenGLContext.create() failed)"}), "FAIL",
     "no OpenGL context"),
])
def test_opengl_line(probe: ProbeResult, status: str, words: str) -> None:
    checks, _info = selfcheck.check_qt_and_gl({"DISPLAY": ":0"}, probe)
    names = [c.name for c in checks]
    assert names == ["qt", "opengl"]
    line = selfcheck.format_text(Report(checks=checks))
    assert words in line
    assert {c.status for c in checks} & {status}
    if status != "ok":
        assert " -> " in line  # a warn or FAIL says what to do


def test_no_display_is_a_warning_not_a_failure() -> None:
    probe = ProbeResult({"qt": "6.11.3", "pyside": "6.11.3", "platform": "offscreen",
                         "gl_error": "no OpenGL context (QOpenGLContext.create() failed)"})
    checks, _ = selfcheck.check_qt_and_gl({}, probe)
    assert [c.status for c in checks] == ["warn", "warn"]
    assert "--headless" in checks[0].fix


def test_missing_libmpv_says_what_to_install() -> None:
    check, _ = selfcheck.check_libmpv(ProbeResult({"error": "OSError: Cannot find libmpv"}))
    assert check.status == "FAIL" and "libmpv2" in check.fix


def test_exit_status_and_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    report = Report(info={"edgeplay": "0.0.0"},
                    checks=[Check("a", "ok", "fine"), Check("b", "warn", "meh", "do x"),
                            Check("c", "FAIL", "broken", "do y")])
    monkeypatch.setattr(selfcheck, "collect", lambda options: report)
    out = io.StringIO()
    assert selfcheck.run_self_check(SelfCheckOptions(), out) == 1
    text = out.getvalue()
    assert "FAIL  c  broken -> do y" in text
    assert text.rstrip().endswith("summary: 1 ok, 1 warn, 1 FAIL: self-check FAILED")
    report.checks.pop()
    out = io.StringIO()
    assert selfcheck.run_self_check(SelfCheckOptions(json=True), out) == 0
    assert json.loads(out.getvalue())["summary"] == {"ok": 1, "warn": 1, "FAIL": 0}


def test_an_unexpected_error_is_a_fail_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(options: SelfCheckOptions) -> Report:
        raise RuntimeError("boom")
    monkeypatch.setattr(selfcheck, "collect", broken)
    out = io.StringIO()
    assert selfcheck.run_self_check(SelfCheckOptions(), out) == 1
    assert "FAIL  self-check  RuntimeError: boom" in out.getvalue()
