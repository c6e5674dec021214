"""CENC in the pipeline: the key ID, the packager's flags, and a real Shaka Packager run whose
``cbcs`` output the engine's own decryption reads back with the title's key (and not without)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from controlplane.pipeline.cenc import (
    CLEARKEY_SYSTEM_ID,
    add_clearkey_to_mpd,
    derive_kid,
    packager_key_args,
)
from controlplane.pipeline.cmaf import _install
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ffmpeg import find_ffmpeg
from controlplane.pipeline.shaka import find_packager, run_packager
from player.cenc import decrypt_fragment
from player.cenc_init import read_init
from player.errors import LicenseError

KEY = bytes(range(16))


def test_the_key_id_is_a_stable_version_8_uuid_per_title() -> None:
    kid = derive_kid("night-harbor")
    assert kid == derive_kid("night-harbor") and kid != derive_kid("glass-canyon")
    parsed = uuid.UUID(bytes=kid)
    assert parsed.version == 8 and parsed.variant == uuid.RFC_4122


def test_the_packager_encrypts_with_cbcs_from_the_first_segment() -> None:
    kid = derive_kid("t")
    args = packager_key_args(kid, KEY)
    assert f"label=:key_id={kid.hex()}:key={KEY.hex()}" in args
    assert args[args.index("--protection_scheme") + 1] == "cbcs"
    assert args[args.index("--clear_lead") + 1] == "0"
    with pytest.raises(PipelineError):
        packager_key_args(kid[:8], KEY)


def _mpd(kid: str) -> str:
    return ('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">\n'
            '<AdaptationSet>\n'
            '<ContentProtection value="cbcs" schemeIdUri="urn:mpeg:dash:mp4protection:2011" '
            f'cenc:default_KID="{kid}"/>\n</AdaptationSet>\n</MPD>\n')


def test_the_mpd_gets_a_clearkey_licence_url_next_to_each_default_kid() -> None:
    kid = derive_kid("t")
    out = add_clearkey_to_mpd(_mpd(str(uuid.UUID(bytes=kid))), kid, "__KEY_URI__")
    assert f'schemeIdUri="urn:uuid:{CLEARKEY_SYSTEM_ID}"' in out
    assert "<dashif:laurl>__KEY_URI__</dashif:laurl>" in out
    assert 'xmlns:dashif="https://dashif.org/CPS"' in out
    with pytest.raises(PipelineError, match="key IDs"):
        add_clearkey_to_mpd(_mpd(str(uuid.UUID(bytes=derive_kid("other")))), kid)
    with pytest.raises(PipelineError, match="key IDs"):
        add_clearkey_to_mpd("<MPD></MPD>", kid)


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 1 s segments of H.264 + AAC, encrypted by Shaka Packager with KEY."""
    work = tmp_path_factory.mktemp("cenc-pack")
    subprocess.run([find_ffmpeg(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=s=64x48:r=24:d=2", "-f", "lavfi", "-i", "sine=d=2",
                    "-c:v", "libx264", "-g", "24", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    str(work / "in.mp4")], check=True)
    kid = derive_kid("t")
    run_packager(find_packager(), [
        *(f"in=in.mp4,stream={s},init_segment={s}/init.mp4,"
          f"segment_template={s}/seg_$Number%05d$.m4s,playlist_name={s}/index.m3u8"
          for s in ("video", "audio")),
        "--segment_duration", "1", "--start_segment_number", "0",
        "--hls_master_playlist_output", "master.m3u8", *packager_key_args(kid, KEY)],
        cwd=work, what="test")
    for stream in ("video", "audio"):
        _install(work / stream, work / "out" / stream)
    return work / "out"


@pytest.mark.parametrize("stream", ["video", "audio"])
def test_the_packagers_cbcs_output_decrypts_with_the_titles_key_only(
        packaged: Path, stream: str) -> None:
    _, info = read_init((packaged / stream / "init.mp4").read_bytes())
    assert info.protection is not None
    assert info.protection.kids == (derive_kid("t"),)
    assert {t.scheme for t in info.protection.tracks} == {"cbcs"}
    segment = (packaged / stream / "seg_00000.m4s").read_bytes()
    plain = decrypt_fragment(segment, info.protection, {derive_kid("t"): KEY})
    assert plain != segment  # the first segment is encrypted too (clear lead 0)
    if stream == "audio":  # AAC has a strong wrong-key check
        with pytest.raises(LicenseError):
            decrypt_fragment(segment, info.protection, {derive_kid("t"): bytes(16)})
