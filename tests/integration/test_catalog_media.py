"""The generated test catalog, end to end: real ffmpeg and Shaka Packager output, checked byte by
byte and played by the real libmpv (vo=null) through a loopback HTTP server that hands out the
key. ``test`` is CMAF (fMP4, separate audio, segmented WebVTT); ``test-ts`` the same titles in
MPEG-TS, for the TS checks."""

from __future__ import annotations

import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import m3u8
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from mpegdash.parser import MPEGDASHParser

from controlplane.catalog import KEY_URI_PLACEHOLDER, Catalog, load_catalog
from controlplane.pipeline import PipelineError, ensure_catalog, find_ffmpeg, ingest
from controlplane.pipeline.tsinfo import inspect_segment
from player.cenc import decrypt_fragment
from player.cenc_init import read_init

pytestmark = pytest.mark.slow

PLAY_TIMEOUT_S = 20.0


@pytest.fixture(scope="session")
def test_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    cache_dir = tmp_path_factory.mktemp("pipeline-cache")
    started = time.monotonic()
    root = ensure_catalog("test", cache_dir)
    assert time.monotonic() - started < 60, "the test catalog should take seconds, not minutes"
    return load_catalog(root)


@pytest.fixture(scope="session")
def ts_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_catalog(ensure_catalog("test-ts", tmp_path_factory.mktemp("pipeline-cache-ts")))


@pytest.fixture(scope="session", params=["test", "test-ts"])
def any_catalog(request: pytest.FixtureRequest) -> Catalog:
    catalog: Catalog = request.getfixturevalue("ts_catalog" if request.param == "test-ts"
                                               else "test_catalog")
    return catalog


def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level ISO BMFF boxes of ``data``: (type, payload)."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        assert size >= 8 and pos + size <= len(data), f"bad box {kind!r} at {pos}"
        out.append((kind, data[pos + 8:pos + size]))
        pos += size
    assert pos == len(data)
    return out


def decode_time(segment: bytes) -> int:
    """The first ``tfdt`` baseMediaDecodeTime of a fragmented-MP4 segment."""
    at = segment.index(b"tfdt")
    version = segment[at + 4]
    field = segment[at + 8:at + (16 if version == 1 else 12)]
    return int.from_bytes(field, "big")


def decrypt(data: bytes, key: bytes, sequence: int) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(sequence.to_bytes(16, "big"))).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(decryptor.update(data) + decryptor.finalize()) + unpadder.finalize()


def jpeg_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    pos = 2
    while pos < len(data):
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise AssertionError(f"{path} has no frame header")


def test_catalog_has_the_agreed_titles_and_variety(any_catalog: Catalog) -> None:
    titles = any_catalog.titles
    assert any_catalog.profile in ("test", "test-ts")
    assert len(titles) == 3
    assert any(t.regions == ("GB",) for t in titles.values())
    assert any(t.requires_plan == "premium" for t in titles.values())
    assert {t.maturity_rating for t in titles.values()} >= {"G", "R"}
    for title in titles.values():
        assert [r.id for r in title.renditions] == ["240p", "360p", "480p", "720p", "1080p"]
        assert title.audio_languages == ["en", "es"]
        assert title.subtitle_languages == ["en", "es"]
        assert title.duration_s == pytest.approx(sum(title.segment_durations_s))
        assert all(d <= 4.0 + 1e-6 for d in title.segment_durations_s)
        assert all(r.codecs.startswith("avc1.42C0") and r.codecs.endswith(",mp4a.40.2")
                   for r in title.renditions)


def test_every_segment_decrypts_to_aligned_ts(ts_catalog: Catalog) -> None:
    for title in ts_catalog.titles.values():
        assert title.segment_container == "ts"
        key = ts_catalog.content_key(title.id)
        first_pts: dict[int, set[int | None]] = {}
        for rendition in title.renditions:
            folder = ts_catalog.title_dir(title.id) / rendition.id
            playlist = m3u8.load(str(folder / "index.m3u8"))
            assert playlist.is_endlist and playlist.playlist_type == "vod"
            assert playlist.keys[0] is not None and playlist.keys[0].uri == KEY_URI_PLACEHOLDER
            assert playlist.keys[0].iv is None
            assert [s.duration for s in playlist.segments] == pytest.approx(
                list(title.segment_durations_s), abs=1e-3
            )
            for seq, segment in enumerate(playlist.segments):
                plain = decrypt((folder / segment.uri).read_bytes(), key, seq)
                assert len(plain) % 188 == 0
                assert all(plain[i] == 0x47 for i in range(0, len(plain), 188))
                info = inspect_segment(plain)
                assert info.audio_languages == ("eng", "spa")
                assert info.starts_with_idr, f"{title.id}/{rendition.id} segment {seq}"
                first_pts.setdefault(seq, set()).add(info.first_video_pts)
        # Closed GOPs forced at the same instants: segment k starts at the same PTS everywhere.
        assert all(len(pts) == 1 for pts in first_pts.values()), first_pts


def test_every_cmaf_segment_decrypts_to_aligned_fragmented_mp4(test_catalog: Catalog) -> None:
    """CENC cbcs under the title's KID with its key.bin, every segment (clear lead 0)."""
    for title in test_catalog.titles.values():
        assert title.segment_container == "fmp4" and title.cenc_kid is not None
        keys = {bytes.fromhex(title.cenc_kid): test_catalog.content_key(title.id)}
        tdir = test_catalog.title_dir(title.id)
        starts: dict[int, set[int]] = {}
        folders = [r.id for r in title.renditions] + [f"audio/{t}" for t in title.audio_languages]
        for name in folders:
            playlist = m3u8.load(str(tdir / name / "index.m3u8"))
            assert playlist.is_endlist and playlist.playlist_type == "vod"
            assert playlist.segment_map[0].uri == "init.mp4"
            assert playlist.keys[0] is not None and playlist.keys[0].uri == KEY_URI_PLACEHOLDER
            assert playlist.keys[0].method == "SAMPLE-AES"
            raw_init = (tdir / name / "init.mp4").read_bytes()
            _, info = read_init(raw_init)
            assert info.protection is not None and info.protection.kids == tuple(keys)
            assert {t.scheme for t in info.protection.tracks} == {"cbcs"}
            init = dict(boxes(raw_init))
            assert b"ftyp" in init and b"moov" in init
            handler = b"vide" if "audio" not in name else b"soun"
            assert handler in init[b"moov"]
            assert len(playlist.segments) == title.segment_count
            for seq, segment in enumerate(playlist.segments):
                sealed = (tdir / name / segment.uri).read_bytes()
                plain = decrypt_fragment(sealed, info.protection, keys)
                assert plain != sealed, (name, seq)  # encrypted from the first segment
                kinds = [k for k, _ in boxes(plain)]
                assert b"moof" in kinds and b"mdat" in kinds, (name, seq, kinds)
                if "audio" not in name:
                    starts.setdefault(seq, set()).add(decode_time(plain))
        # Closed GOPs forced at the same instants: segment k starts at the same time everywhere.
        assert all(len(times) == 1 for times in starts.values()), starts
        assert starts[0] == {0}
        for language in title.subtitle_languages:
            playlist = m3u8.load(str(tdir / "subs" / language / "index.m3u8"))
            texts = [(tdir / "subs" / language / s.uri).read_text(encoding="utf-8")
                     for s in playlist.segments]
            assert texts and all(t.startswith("WEBVTT") for t in texts)
            assert sum(t.count(" --> ") for t in texts) >= title.segment_count - 1
        mpd = MPEGDASHParser.parse(str(tdir / "manifest.mpd"))
        assert mpd.type == "static" and len(mpd.periods) == 1
        sets = mpd.periods[0].adaptation_sets
        video = next(a for a in sets if a.content_type == "video")
        assert [r.width for r in video.representations] == [r.width for r in title.renditions]
        assert [a.lang for a in sets if a.content_type == "audio"] == title.audio_languages
        assert [a.lang for a in sets if a.content_type == "text"] == title.subtitle_languages
        template = video.representations[0].segment_templates[0]
        assert template.start_number == 0 and template.initialization == "240p/init.mp4"


def test_segment_sizes_follow_the_ladder(any_catalog: Catalog) -> None:
    for title in any_catalog.titles.values():
        averages = [r.average_bandwidth_bps for r in title.renditions]
        assert averages == sorted(averages)
        for r in title.renditions:
            assert r.bitrate_bps <= r.average_bandwidth_bps <= r.bitrate_bps + 200_000
            assert r.bandwidth_bps <= 1.2 * r.average_bandwidth_bps


def test_art_subtitles_and_trickplay_are_there(any_catalog: Catalog) -> None:
    for title in any_catalog.titles.values():
        tdir = any_catalog.title_dir(title.id)
        w, h = jpeg_size(tdir / "poster.jpg")
        assert w * 3 == h * 2
        w, h = jpeg_size(tdir / "backdrop.jpg")
        assert w * 9 == h * 16
        for lang in title.subtitle_languages:
            text = (tdir / "subs" / f"{lang}.vtt").read_text(encoding="utf-8")
            assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:")
            assert " --> " in text
        thumbs = (tdir / "trickplay" / "thumbs.vtt").read_text(encoding="utf-8")
        sprites = {line.split("#")[0] for line in thumbs.splitlines() if "#xywh=" in line}
        assert sprites and all((tdir / "trickplay" / s).is_file() for s in sprites)
        assert thumbs.count(" --> ") == len(title.segment_durations_s)


def test_damaged_catalog_is_rebuilt(test_catalog: Catalog, tmp_path: Path) -> None:
    copy = tmp_path / "catalog-test"
    shutil.copytree(test_catalog.root, copy)
    victim = next((copy / "titles").glob("*/audio/es/seg_00001.m4s"))
    victim.write_bytes(victim.read_bytes()[:1000])
    lines: list[str] = []
    root = ensure_catalog("test", tmp_path, lines.append)
    assert "is damaged" in lines[0] and "has 1000 bytes" in lines[0], lines
    assert len(load_catalog(root).titles) == 3


# --- playback with the real libmpv ---------------------------------------------------------


class _TitleServer:
    """Serves one title folder; playlists get the key URL in place of the placeholder."""

    def __init__(self, title_dir: Path) -> None:
        folder = title_dir

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.lstrip("/")
                target = folder / path
                if path == "key":
                    body, kind = (folder / "key.bin").read_bytes(), "application/octet-stream"
                elif path.endswith(".m3u8") and target.is_file():
                    key_url = f"http://127.0.0.1:{self.server.server_address[1]}/key"
                    body = target.read_text(encoding="utf-8").replace(
                        KEY_URI_PLACEHOLDER, key_url
                    ).encode()
                    kind = "application/vnd.apple.mpegurl"
                elif target.is_file() and ".." not in path:
                    body, kind = target.read_bytes(), "video/mp2t"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve_title() -> Iterator[type[_TitleServer]]:
    servers: list[_TitleServer] = []

    class Tracked(_TitleServer):
        def __init__(self, title_dir: Path) -> None:
            super().__init__(title_dir)
            servers.append(self)

    yield Tracked
    for server in servers:
        server.close()


def play_and_check(url: str, width: int, height: int) -> dict[str, object]:
    import mpv

    player = mpv.MPV(vo="null", ao="null", ytdl=False, audio_display=False)
    try:
        player.play(url)
        player.wait_for_property("width", lambda w: w == width, timeout=PLAY_TIMEOUT_S)
        assert player.height == height
        player.wait_for_property("time-pos", lambda t: t is not None and t >= 2.0,
                                 timeout=PLAY_TIMEOUT_S)
        tracks = player.track_list
        assert isinstance(tracks, list)
        return {"tracks": tracks, "codec": player.video_codec}
    finally:
        player.terminate()


@pytest.mark.mpv
def test_every_rendition_plays_in_libmpv(ts_catalog: Catalog, serve_title: type) -> None:
    title = ts_catalog.titles["harbour-lights"]
    server = serve_title(ts_catalog.title_dir(title.id))
    for rendition in title.renditions:
        result = play_and_check(server.url(f"{rendition.id}/index.m3u8"),
                                rendition.width, rendition.height)
        tracks = result["tracks"]
        assert isinstance(tracks, list)
        # Two audio tracks; their languages are in the TS PMT (checked above) and in
        # catalog.json, but libavformat's HLS demuxer does not pass them on to mpv.
        assert [t.get("type") for t in tracks].count("audio") == 2
        assert "h264" in str(result["codec"]).lower()


@pytest.mark.mpv
def test_every_title_plays_its_top_rendition(any_catalog: Catalog, serve_title: type) -> None:
    for title in any_catalog.titles.values():
        top = title.renditions[-1]
        server = serve_title(any_catalog.title_dir(title.id))
        play_and_check(server.url(f"{top.id}/index.m3u8"), top.width, top.height)


@pytest.mark.mpv
def test_the_packagers_multivariant_playlist_plays_with_separate_audio_in_libmpv(
        test_catalog: Catalog, serve_title: type) -> None:
    title = test_catalog.titles["pocket-meadow"]
    server = serve_title(test_catalog.title_dir(title.id))
    top = title.renditions[-1]  # mpv's hls-bitrate=max
    result = play_and_check(server.url("master.m3u8"), top.width, top.height)
    tracks = result["tracks"]
    assert isinstance(tracks, list)
    audio = [t for t in tracks if t.get("type") == "audio"]
    assert audio, tracks


# --- ingest ----------------------------------------------------------------------------------


def make_clip(path: Path) -> None:
    srt = path.with_suffix(".srt")
    srt.write_text("1\n00:00:01,000 --> 00:00:03,000\nHello\n", encoding="utf-8")
    subprocess.run(
        [find_ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=9",
         "-f", "lavfi", "-i", "sine=f=300:d=9", "-i", str(srt), "-map", "0", "-map", "1",
         "-map", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
         "-c:s", "mov_text", "-metadata:s:a:0", "language=fra",
         "-metadata:s:s:0", "language=eng", str(path)],
        check=True,
    )


@pytest.mark.mpv
def test_ingest_adds_a_playable_title(
    test_catalog: Catalog, tmp_path: Path, serve_title: type
) -> None:
    root = tmp_path / "catalog-test"
    shutil.copytree(test_catalog.root, root)
    clip = tmp_path / "family_trip.mp4"
    make_clip(clip)
    lines: list[str] = []
    title_id = ingest(clip, root, progress=lines.append)
    assert title_id == "family-trip"
    assert any("added as" in line for line in lines)
    catalog = load_catalog(root)
    title = catalog.titles[title_id]
    assert len(catalog.titles) == 4
    assert title.name == "Family trip"
    assert [r.id for r in title.renditions] == ["240p", "360p", "480p"]  # capped at 180 lines
    assert title.audio_languages == ["fr"]
    assert title.subtitle_languages == ["en"]
    assert title.duration_s == pytest.approx(9.0, abs=0.1)
    assert ingest(clip, root) == "family-trip-2"
    top = title.renditions[-1]
    server = serve_title(catalog.title_dir(title_id))
    play_and_check(server.url(f"{top.id}/index.m3u8"), top.width, top.height)


def test_ingest_rejects_what_is_not_video(test_catalog: Catalog, tmp_path: Path) -> None:
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video", encoding="utf-8")
    with pytest.raises(PipelineError, match="not a video ffmpeg can read"):
        ingest(junk, test_catalog.root)
    with pytest.raises(PipelineError, match="does not exist"):
        ingest(tmp_path / "missing.mkv", test_catalog.root)
    assert len(load_catalog(test_catalog.root).titles) == 3
