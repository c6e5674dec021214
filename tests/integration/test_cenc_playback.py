"""CENC content from Shaka Packager (cenc, cbcs) and ffmpeg (cenc-aes-ctr), served by a plain
http.server, plays in the real libmpv through the engine with ClearKey keys; wrong or missing
keys end in a clear licence error; nothing clear is written to disk."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from abr.interface import AbrPolicy, Decision
from player.cenccheck import SampleCheck
from player.errors import LicenseError, PlayerError
from player.keysource import CLEARKEY_KEYFORMAT, b64url
from player.mpv_seam import create_mpv
from player.session import PlaybackSession, SessionConfig
from tests.helpers.cenc_media import (
    DURATION_S,
    KEY,
    KID,
    VIDEO_KEY,
    VIDEO_KID,
    WRONG_KEY,
    ffmpeg_samples,
    make_all,
)
from tests.helpers.policies import FixedPolicy

pytestmark = [pytest.mark.mpv, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


class _Origin(SimpleHTTPRequestHandler):
    """Static files, and ``POST /licence``: an EME ClearKey licence server that knows KID."""

    licences: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.licences.append(body)
        keys = [{"kty": "oct", "kid": kid, "k": b64url(KEY)} for kid in body["kids"]
                if kid == b64url(KID)]
        answer = json.dumps({"keys": keys, "type": "temporary"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def _clearkey_copy(root: Path) -> None:
    """``ck/``: the cbcs playlists with a ClearKey ``EXT-X-KEY`` whose URI is the licence."""
    out = root / "ck"
    out.mkdir()
    shutil.copy(root / "cbcs" / "master.m3u8", out / "master.m3u8")
    line = f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="/licence",KEYFORMAT="{CLEARKEY_KEYFORMAT}"'
    for name in ("v360.m3u8", "v180.m3u8", "a.m3u8"):
        text = (root / "cbcs" / name).read_text()
        text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#EXT-X-KEY"))
        text = text.replace('#EXT-X-MAP:URI="', f'{line}\n#EXT-X-MAP:URI="../cbcs/')
        text = "\n".join(f"../cbcs/{ln}" if ln.endswith(".m4s") else ln
                         for ln in text.splitlines())
        (out / name).write_text(text + "\n")


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[Any]]]:
    root = make_all(tmp_path_factory.mktemp("cenc-origin"))
    _clearkey_copy(root)
    licences: list[dict[str, Any]] = []
    handler = type("Origin", (_Origin,), {"licences": licences})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, name="cenc-origin", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root, licences
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


class _Alternating(FixedPolicy):
    """A rendition switch at every segment: rung = index mod 2."""

    def choose(self, segment_index: int, buffer_s: float, now_s: float) -> Decision:
        return Decision(segment_index % 2, "alternate")


def _play(url: str, keys: tuple[tuple[bytes, bytes], ...] = (),
          policy: AbrPolicy | None = None) -> PlaybackSession:
    async def main() -> PlaybackSession:
        mpv = create_mpv(vo="null", ao="null", untimed="yes", ao_null_untimed="yes")
        session = PlaybackSession.from_url(url, mpv, policy=policy, config=SessionConfig(
            clear_keys=keys, post_telemetry=False, progress_interval_s=None))
        try:
            try:
                await session.play()
                async with asyncio.timeout(60):
                    await session.wait_ended()
            except PlayerError:  # the tests read session.error
                return session
        finally:
            await session.stop()
            mpv.terminate()
        return session
    return asyncio.run(main())


def _decoder_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """mpv's decoders' errors (not the stream's end: ``[ffmpeg] http: Stream ends…``)."""
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("player.mpv") and r.levelno >= logging.ERROR
            and r.getMessage().startswith(("[ffmpeg/video]", "[ffmpeg/audio]", "[vd]", "[ad]"))]


def _assert_played(session: PlaybackSession, caplog: pytest.LogCaptureFixture) -> None:
    assert session.error is None, session.error
    assert session.duration_s == pytest.approx(DURATION_S, abs=0.1)
    assert session.position_s >= DURATION_S - 2.5
    report = session.report().to_json()
    assert report["ttff_ms"] is not None and report["end_reason"] == "eof"
    assert not _decoder_errors(caplog)


@pytest.mark.parametrize("path", ["cenc/master.m3u8", "cbcs/master.m3u8", "ff/index.m3u8",
                                  "cbcs-lead/master.m3u8", "cenc/manifest.mpd",
                                  "cbcs/manifest.mpd"],
                         ids=["shaka-cenc", "shaka-cbcs", "ffmpeg-cenc", "shaka-clear-lead",
                              "dash-shaka-cenc", "dash-shaka-cbcs"])
def test_cenc_content_plays_with_the_right_key(
        origin: tuple[str, Path, list[Any]], path: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    session = _play(f"{origin[0]}/{path}", ((KID, KEY),))
    _assert_played(session, caplog)
    audio = session.report().to_json()["audio_renditions"]
    if path.endswith(".mpd"):  # DASH: the one audio AdaptationSet (no language given)
        assert len(audio) == 1, audio
    elif not path.startswith("ff"):
        assert audio == ["en"]


def test_cenc_renditions_switch_at_every_segment_each_with_its_init(
        origin: tuple[str, Path, list[Any]], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    session = _play(f"{origin[0]}/cbcs/master.m3u8", ((KID, KEY),), policy=_Alternating())
    _assert_played(session, caplog)
    assert session.scheduler is not None
    assert {rung for _, rung, _ in session.scheduler.fetched} == {0, 1}


def test_two_keys_one_for_video_one_for_audio(
        origin: tuple[str, Path, list[Any]], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    caplog.set_level(logging.INFO, logger="player.decrypt")
    session = _play(f"{origin[0]}/cenc-2k/master.m3u8", ((KID, KEY), (VIDEO_KID, VIDEO_KEY)))
    _assert_played(session, caplog)
    # the audio came in without a verdict on the video's KID: the video went on with its checks
    assert any(f"KID {VIDEO_KID.hex()}; its video is checked alone" in r.getMessage()
               for r in caplog.records if r.name == "player.decrypt")
    missing = _play(f"{origin[0]}/cenc-2k/master.m3u8", ((KID, KEY),))
    assert isinstance(missing.error, LicenseError)
    assert f"No key for KID {VIDEO_KID.hex()}" in missing.error.message


def test_a_clearkey_licence_url_in_the_playlist_gives_the_key(
        origin: tuple[str, Path, list[Any]], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    base, _, licences = origin
    licences.clear()
    session = _play(f"{base}/ck/master.m3u8")
    _assert_played(session, caplog)
    assert licences == [{"kids": [b64url(KID)], "type": "temporary"}]  # one request, cached


LAURLS = {
    "dashif": ('xmlns:dashif="https://dashif.org/CPS"', "<dashif:laurl>{}</dashif:laurl>"),
    "clearkey": ('xmlns:clearkey="http://dashif.org/guidelines/clearKey"',
                 '<clearkey:Laurl Lic_type="EME-1.0">{}</clearkey:Laurl>'),
}


@pytest.mark.parametrize("kind", sorted(LAURLS))
def test_a_clearkey_laurl_in_the_mpd_gives_the_key(
        origin: tuple[str, Path, list[Any]], caplog: pytest.LogCaptureFixture,
        kind: str) -> None:
    """Shaka Packager's cbcs MPD with a ClearKey ContentProtection whose ``laurl`` (relative)
    names the loopback licence server: no key given, the engine asks the licence for it."""
    caplog.set_level(logging.WARNING)
    base, root, licences = origin
    namespace, element = LAURLS[kind]
    mpd = (root / "cbcs" / "manifest.mpd").read_text()
    clearkey = (f'<ContentProtection schemeIdUri="urn:uuid:{CLEARKEY_KEYFORMAT[9:]}" '
                f'value="ClearKey1.0">{element.format("/licence")}</ContentProtection>')
    mpd = re.sub(r"(<AdaptationSet\b[^>]*>)", lambda m: m[1] + clearkey, mpd)
    mpd = mpd.replace("<MPD ", f"<MPD {namespace} ", 1)
    assert mpd.count(clearkey) >= 2
    (root / "cbcs" / f"laurl-{kind}.mpd").write_text(mpd)
    licences.clear()
    session = _play(f"{base}/cbcs/laurl-{kind}.mpd")
    _assert_played(session, caplog)
    assert session.manifest_format == "dash"
    assert licences == [{"kids": [b64url(KID)], "type": "temporary"}]  # one request, cached


@pytest.mark.parametrize(("path", "keys", "message"), [
    ("cbcs/master.m3u8", ((KID, WRONG_KEY),), f"key for KID {KID.hex()} is wrong"),
    ("ff/index.m3u8", ((KID, WRONG_KEY),), f"key for KID {KID.hex()} is wrong"),
    ("cenc/master.m3u8", (), f"No key for KID {KID.hex()}"),
    ("cbcs/manifest.mpd", ((KID, WRONG_KEY),), f"key for KID {KID.hex()} is wrong"),
    ("cenc/manifest.mpd", (), f"No key for KID {KID.hex()}"),
], ids=["wrong-key-shaka", "wrong-key-ffmpeg", "no-key", "wrong-key-dash", "no-key-dash"])
def test_a_wrong_or_missing_key_is_a_licence_error(
        origin: tuple[str, Path, list[Any]], path: str, keys: tuple[tuple[bytes, bytes], ...],
        message: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    session = _play(f"{origin[0]}/{path}", keys)
    assert isinstance(session.error, LicenseError)
    assert session.error.code == "license" and message in session.error.message
    assert not _decoder_errors(caplog)  # the decoder never saw the garbage


def test_without_the_check_a_wrong_key_reaches_the_decoder(
        origin: tuple[str, Path, list[Any]], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # what the licence-error test guards against: decoder errors are visible in mpv's log
    monkeypatch.setattr(SampleCheck, "verdict", lambda self, kid: None)
    caplog.set_level(logging.WARNING)
    _play(f"{origin[0]}/ff/index.m3u8", ((KID, WRONG_KEY),))
    assert _decoder_errors(caplog)


def _files_since(start: float, roots: list[Path], skip: Path) -> Iterator[Path]:
    """Files of 4 KiB–64 MiB written since ``start`` under ``roots``, but not the test media
    (``skip``) nor another run's copy of it (the source is deterministic: a concurrent test
    run's ``cenc*`` folders hold the same clear samples, as does the bench's)."""
    for top in roots:
        for folder, dirs, files in os.walk(top):
            if Path(folder).is_relative_to(skip) or Path(folder).name.startswith(
                    ("cenc", "edgeplay-bench-cenc")):
                dirs.clear()
                continue
            for name in files:
                path = Path(folder, name)
                try:
                    st = path.stat()
                except OSError:
                    continue
                if st.st_mtime >= start and 4096 <= st.st_size <= 64 << 20:
                    yield path


def test_no_clear_media_is_written_to_disk(origin: tuple[str, Path, list[Any]],
                                           tmp_path: Path) -> None:
    base, root, _ = origin
    clear = ffmpeg_samples(root / "src360.mp4", None)
    needle = clear[len(clear) // 2:len(clear) // 2 + 48]  # inside slice data
    encrypted = b"".join(p.read_bytes() for p in (root / "cenc").glob("v360_*.m4s"))
    assert needle not in encrypted  # the packager did encrypt it
    start = time.time() - 1
    session = _play(f"{base}/cenc/master.m3u8", ((KID, KEY),))
    assert session.error is None
    roots = [Path(tempfile.gettempdir()), Path.home() / ".cache", Path.home() / ".local",
             Path.cwd()]
    for path in _files_since(start, [r for r in roots if r.exists()], skip=root):
        try:
            assert needle not in path.read_bytes(), f"clear media in {path}"
        except OSError:
            continue


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui.cli", "play", *args, "--headless"],
                          cwd=REPO, capture_output=True, text=True, timeout=90)


def test_the_cli_takes_keys_and_says_which_is_wrong_or_malformed(
        origin: tuple[str, Path, list[Any]]) -> None:
    url = f"{origin[0]}/cenc-2k/master.m3u8"
    played = _cli(url, "--json", "--duration", "2", "--key", f"{KID.hex()}:{KEY.hex()}",
                  "--key", f"{VIDEO_KID.hex()}:{VIDEO_KEY.hex()}")
    assert played.returncode == 0, played.stderr
    assert json.loads(played.stdout.strip().splitlines()[-1])["ok"] is True
    wrong = _cli(url, "--key", f"{KID.hex()}:{WRONG_KEY.hex()}",
                 "--key", f"{VIDEO_KID.hex()}:{VIDEO_KEY.hex()}")
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    errors = [line for line in wrong.stderr.splitlines() if line.startswith("edgeplay:")]
    assert len(errors) == 1 and f"key for KID {KID.hex()} is wrong" in errors[0]
    bad = _cli(url, "--key", "0123:4567")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "is not KID:KEY (KID must be 32 hex digits)" in bad.stderr
