"""WebVTT subtitles: generated captions for synthetic titles, extraction for ingested files.

Each file carries ``X-TIMESTAMP-MAP`` (RFC 8216 section 3.5) tying cue time 0 to the first video
PTS of the segments, so a player that segments the file for HLS keeps it in sync.
"""

from __future__ import annotations

from pathlib import Path

from controlplane.pipeline.ffmpeg import run_ffmpeg

LINES: dict[str, tuple[str, ...]] = {
    "en": (
        "The fog came in early tonight.",
        "Can you hear the bell? Count the beeps.",
        "Every four seconds, a new segment.",
        "Keep an eye on the label in the corner.",
        "If it changes, the player switched quality.",
        "The dot crosses the line once per segment.",
        "We are nearly there.",
        "Hold on. Something is moving.",
    ),
    "es": (
        "La niebla llegó temprano esta noche.",
        "¿Oyes la campana? Cuenta los pitidos.",
        "Cada cuatro segundos, un segmento nuevo.",
        "Fíjate en la etiqueta de la esquina.",
        "Si cambia, el reproductor cambió de calidad.",
        "El punto cruza la línea una vez por segmento.",
        "Ya casi llegamos.",
        "Espera. Algo se mueve.",
    ),
}


def vtt_timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def header(first_pts_90khz: int) -> str:
    return f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{first_pts_90khz},LOCAL:00:00:00.000\n"


def strip_timestamp_map(vtt: str) -> str:
    """``vtt`` without its ``X-TIMESTAMP-MAP`` line (Shaka Packager reads cue times as they are
    and writes the segments' own mapping)."""
    return "".join(line for line in vtt.splitlines(keepends=True)
                   if not line.startswith("X-TIMESTAMP-MAP="))


def synthetic_vtt(
    language: str, *, title: str, duration_s: float, period_s: float, first_pts_90khz: int
) -> str:
    """One cue per ``period_s`` (from 0.5 s to 3.5 s into it), cycling through ``LINES``."""
    lines = LINES.get(language, LINES["en"])
    out = [header(first_pts_90khz)]
    i = 0
    while i * period_s + 0.5 < duration_s:
        start = i * period_s + 0.5
        end = min(start + period_s - 1.0, duration_s)
        text = lines[i % len(lines)]
        out.append(
            f"{i + 1}\n{vtt_timestamp(start)} --> {vtt_timestamp(end)}\n"
            f"[{vtt_timestamp(i * period_s)[:8]}] {title}: {text}\n"
        )
        i += 1
    return "\n".join(out)


def extract_vtt(ffmpeg: str, source: Path, stream_index: int, out: Path, first_pts: int) -> None:
    """Convert the ``stream_index``-th subtitle stream of ``source`` to WebVTT at ``out``."""
    run_ffmpeg(
        ffmpeg,
        ["-i", str(source), "-map", f"0:s:{stream_index}", "-c:s", "webvtt", "-f", "webvtt",
         str(out)],
        what=f"extracting subtitles from {source.name}",
    )
    body = out.read_text(encoding="utf-8")
    first, _, rest = body.partition("\n")
    if not first.startswith("WEBVTT"):
        rest = body
    out.write_text(header(first_pts) + rest, encoding="utf-8")
