"""Ingest: a user's own video through the same pipeline into an existing catalog.

The file is transcoded to the catalog's ladder (rungs taller than the source are left out),
segmented, encrypted with a new key, given art from one of its frames, trick-play thumbnails
and its text subtitles if it has any; then the title is added to ``catalog.json`` atomically.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import uuid
from pathlib import Path

from controlplane.catalog import CatalogError, Title, Track, load_catalog
from controlplane.pipeline.art import ArtText, FrameSource, render_art
from controlplane.pipeline.catalog_file import read_generator, write_catalog_json
from controlplane.pipeline.encode import encode_ladder, file_inputs
from controlplane.pipeline.encrypt import new_key
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ffmpeg import features, find_ffmpeg, require_x264
from controlplane.pipeline.fonts import find_fonts
from controlplane.pipeline.generate import install_trickplay, sprite_grid
from controlplane.pipeline.ladder import Rung, cap_to_height
from controlplane.pipeline.languages import display_name, to_bcp47
from controlplane.pipeline.locking import catalog_lock
from controlplane.pipeline.manifest import write_manifest
from controlplane.pipeline.package import package_renditions
from controlplane.pipeline.probe import MediaInfo, probe
from controlplane.pipeline.profiles import PROFILES, Profile
from controlplane.pipeline.progress import ProgressFn, TitleProgress, silent
from controlplane.pipeline.sprites import file_sprites
from controlplane.pipeline.subtitles import extract_vtt

MAX_AUDIO_TRACKS = 2
MAX_FRAME_RATE = 30.0
"""Ingested video is capped at this rate (frames per second)."""


def ingest(
    source: Path, catalog_root: Path, *, name: str | None = None,
    progress: ProgressFn | None = None,
) -> str:
    """Add ``source`` to the catalog at ``catalog_root``; return the new title id."""
    source = Path(source)
    ffmpeg = find_ffmpeg()
    try:
        catalog = load_catalog(catalog_root)
    except CatalogError as exc:
        raise PipelineError(f"cannot ingest into {catalog_root}: {exc}") from exc
    profile = PROFILES.get(catalog.profile, PROFILES["default"])
    require_x264(ffmpeg)
    info = probe(ffmpeg, source)
    title_name = name or _name_from_file(source)
    title_id = _unique_id(title_name, set(catalog.titles))
    reporter = TitleProgress(progress or silent, 0, 0, f"ingest {title_name}")
    staging = catalog_root / f".ingest-{uuid.uuid4().hex[:8]}"
    try:
        title = _build(ffmpeg, source, info, profile, title_id, title_name, staging, reporter)
        with catalog_lock(catalog_root):
            current = load_catalog(catalog_root)
            if title_id in current.titles:
                raise PipelineError(f"a title {title_id!r} was added meanwhile; try again")
            shutil.move(str(staging / "title"), catalog_root / "titles" / title_id)
            write_catalog_json(catalog_root, [*current.titles.values(), title],
                               profile=current.profile, generator=read_generator(catalog_root))
    except CatalogError as exc:
        raise PipelineError(f"cannot ingest into {catalog_root}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    reporter.stage(f"added as {title_id!r}")
    return title_id


def _build(
    ffmpeg: str, source: Path, info: MediaInfo, profile: Profile, title_id: str, name: str,
    staging: Path, progress: TitleProgress,
) -> Title:
    settings = profile.encode
    title_dir, work_dir = staging / "title", staging / "work"
    title_dir.mkdir(parents=True)
    work_dir.mkdir()
    fonts = find_fonts() if features(ffmpeg).has_drawtext else None
    rungs = _ladder_for(profile.ladder, info)
    fps = round(min(info.frame_rate or MAX_FRAME_RATE, MAX_FRAME_RATE), 3)
    audio = info.audio[:MAX_AUDIO_TRACKS]
    key = new_key()
    (title_dir / "key.bin").write_bytes(key)
    progress.stage("drawing art")
    text = ArtText(name, "Your video", "NR", f"Imported from {source.name}.")
    render_art(ffmpeg, text, FrameSource(source, min(info.duration_s * 0.2, 30.0)),
               poster=(title_dir / "poster.jpg", profile.poster_size),
               backdrop=(title_dir / "backdrop.jpg", profile.backdrop_size), fonts=fonts)
    progress.stage(f"encoding {len(rungs)} renditions…")
    inputs = file_inputs(source=source, audio_streams=len(audio), rungs=rungs, settings=settings,
                         frame_rate=fps, audio_bitrate_bps=2 * settings.audio_bitrate_bps,
                         fonts=fonts)
    encode_ladder(ffmpeg, inputs, rungs=rungs, settings=settings, duration_s=info.duration_s,
                  work_dir=work_dir, what=f"encoding {source.name}",
                  on_fraction=progress.fraction)
    progress.stage("thumbnails, encryption and packaging")
    file_sprites(ffmpeg, source, settings=settings, fonts=fonts, out_dir=work_dir / "trickplay")
    packaged = package_renditions(work_dir=work_dir, title_dir=title_dir, rungs=rungs, key=key,
                                  frame_rate=fps)
    duration_s = round(sum(packaged.segment_durations_s), 3)
    install_trickplay(work_dir, title_dir, duration_s, settings.trickplay_interval_s,
                      sprite_grid(profile))
    subtitles = _subtitles(ffmpeg, source, info, title_dir / "subs", packaged.first_video_pts)
    write_manifest(title_dir)
    return Title(
        id=title_id, name=name, synopsis=f"Imported from {source.name}.", year=0,
        genres=("My videos",), duration_s=duration_s, maturity_rating="NR", regions=("*",),
        requires_plan="basic", segment_duration_s=float(settings.segment_duration_s),
        segment_durations_s=packaged.segment_durations_s, renditions=packaged.renditions,
        audio=tuple(
            Track(lang := to_bcp47(a.language), display_name(lang, f"Track {i + 1}"))
            for i, a in enumerate(audio)
        ),
        subtitles=subtitles, trickplay_interval_s=float(settings.trickplay_interval_s),
        extra={"x_origin": "ingested", "x_source_name": source.name},
    )


def _subtitles(
    ffmpeg: str, source: Path, info: MediaInfo, subs_dir: Path, first_pts: int
) -> tuple[Track, ...]:
    tracks: list[Track] = []
    subs_dir.mkdir()
    for index, stream in info.text_subtitles:
        language = to_bcp47(stream.language)
        if any(t.language == language for t in tracks):
            continue
        extract_vtt(ffmpeg, source, index, subs_dir / f"{language}.vtt", first_pts)
        tracks.append(Track(language, display_name(language, language)))
    return tuple(tracks)


def _ladder_for(ladder: tuple[Rung, ...], info: MediaInfo) -> tuple[Rung, ...]:
    """The rungs up to the source height, with widths that keep the source's aspect ratio."""
    return tuple(
        dataclasses.replace(r, width=max(2, round(r.height * info.display_aspect / 2) * 2))
        for r in cap_to_height(ladder, info.height)
    )


def _name_from_file(source: Path) -> str:
    words = re.sub(r"[._-]+", " ", source.stem).strip()
    return words[:1].upper() + words[1:] if words else "Untitled"


def _unique_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "video"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
