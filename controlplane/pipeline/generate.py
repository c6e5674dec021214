"""Generating one synthetic title in three steps: prepare, encode (in parts), finish.

prepare: key, poster/backdrop, the stills, the audio tracks and the trick-play sprites.
encode: one ffmpeg run per group of rungs (see :func:`ladder.split_for_parallel`).
finish: encrypt and package, trick-play index, subtitles, manifest; returns the ``Title``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from controlplane.catalog import Title, Track
from controlplane.pipeline.art import ArtText, render_art
from controlplane.pipeline.audio import encode_tones
from controlplane.pipeline.canvas import Gradient
from controlplane.pipeline.encode import encode_ladder, synthetic_inputs
from controlplane.pipeline.encrypt import new_key
from controlplane.pipeline.fonts import Fonts
from controlplane.pipeline.ladder import Rung
from controlplane.pipeline.manifest import write_manifest
from controlplane.pipeline.package import package_renditions
from controlplane.pipeline.picture import render_stills
from controlplane.pipeline.profiles import AUDIO_TRACKS, SUBTITLE_TRACKS, Profile
from controlplane.pipeline.progress import TitleProgress
from controlplane.pipeline.sprites import synthetic_sprites
from controlplane.pipeline.subtitles import synthetic_vtt
from controlplane.pipeline.titles import TitleSpec
from controlplane.pipeline.trickplay import SpriteGrid, thumbs_vtt


@dataclass(frozen=True)
class TitleJob:
    ffmpeg: str
    spec: TitleSpec
    profile: Profile
    title_dir: Path
    work_dir: Path
    """Scratch space for plaintext output; removed by :func:`finish_title`."""
    fonts: Fonts | None
    progress: TitleProgress


@dataclass(frozen=True)
class Prepared:
    key: bytes
    stills: dict[str, Path]
    audio: Path


def tagline(spec: TitleSpec) -> str:
    return " · ".join([str(spec.year), *spec.genres])


def sprite_grid(profile: Profile) -> SpriteGrid:
    e = profile.encode
    return SpriteGrid(e.thumb_width, e.thumb_height, e.sprite_columns, e.sprite_rows)


def prepare_title(job: TitleJob) -> Prepared:
    spec, profile, settings = job.spec, job.profile, job.profile.encode
    job.title_dir.mkdir(parents=True)
    job.work_dir.mkdir(parents=True)
    key = new_key()
    (job.title_dir / "key.bin").write_bytes(key)
    gradient = Gradient(*spec.colors)
    job.progress.stage("drawing art")
    render_art(
        job.ffmpeg,
        ArtText(spec.name, tagline(spec), spec.maturity_rating, spec.synopsis),
        gradient,
        poster=(job.title_dir / "poster.jpg", profile.poster_size),
        backdrop=(job.title_dir / "backdrop.jpg", profile.backdrop_size),
        fonts=job.fonts,
    )
    sizes = {r.id: (r.width, r.height) for r in profile.ladder}
    sizes["thumb"] = (settings.thumb_width, settings.thumb_height)
    stills = render_stills(
        job.ffmpeg, gradient=gradient, name=spec.name, tagline=tagline(spec), sizes=sizes,
        labels={r.id: r.label() for r in profile.ladder}, out_dir=job.work_dir, fonts=job.fonts,
    )
    audio = job.work_dir / "audio.mka"
    encode_tones(job.ffmpeg, audio, duration_s=spec.duration_s, tracks=AUDIO_TRACKS,
                 bitrate_bps=settings.audio_bitrate_bps)
    synthetic_sprites(job.ffmpeg, stills["thumb"], duration_s=spec.duration_s,
                      settings=settings, fonts=job.fonts, out_dir=job.work_dir / "trickplay")
    return Prepared(key, stills, audio)


def encode_part(job: TitleJob, prepared: Prepared, rungs: tuple[Rung, ...], part: str) -> None:
    """Encode one group of rungs (all groups share the timeline and the keyframe times)."""
    inputs = synthetic_inputs(
        stills=prepared.stills, audio=prepared.audio, audio_tracks=len(AUDIO_TRACKS),
        rungs=rungs, settings=job.profile.encode, duration_s=job.spec.duration_s,
        fonts=job.fonts,
    )
    encode_ladder(
        job.ffmpeg, inputs, rungs=rungs, settings=job.profile.encode,
        duration_s=job.spec.duration_s, work_dir=job.work_dir,
        what=f"encoding {job.spec.name!r} ({', '.join(r.id for r in rungs)})",
        on_fraction=lambda done: job.progress.part_fraction(part, done),
    )


def finish_title(job: TitleJob, prepared: Prepared) -> Title:
    spec, settings = job.spec, job.profile.encode
    job.progress.stage("encrypting and packaging")
    packaged = package_renditions(
        work_dir=job.work_dir, title_dir=job.title_dir, rungs=job.profile.ladder,
        key=prepared.key, frame_rate=float(settings.frame_rate),
    )
    duration_s = round(sum(packaged.segment_durations_s), 3)
    install_trickplay(job.work_dir, job.title_dir, duration_s, settings.trickplay_interval_s,
                      sprite_grid(job.profile))
    subs = job.title_dir / "subs"
    subs.mkdir()
    for track in SUBTITLE_TRACKS:
        (subs / f"{track.language}.vtt").write_text(
            synthetic_vtt(track.language, title=spec.name, duration_s=duration_s,
                          period_s=settings.segment_duration_s,
                          first_pts_90khz=packaged.first_video_pts),
            encoding="utf-8",
        )
    shutil.rmtree(job.work_dir, ignore_errors=True)
    write_manifest(job.title_dir)
    job.progress.stage("done")
    return Title(
        id=spec.id,
        name=spec.name,
        synopsis=spec.synopsis,
        year=spec.year,
        genres=spec.genres,
        duration_s=duration_s,
        maturity_rating=spec.maturity_rating,
        regions=spec.regions,
        requires_plan=spec.requires_plan,
        segment_duration_s=float(settings.segment_duration_s),
        segment_durations_s=packaged.segment_durations_s,
        renditions=packaged.renditions,
        audio=tuple(Track(t.language, t.name) for t in AUDIO_TRACKS),
        subtitles=tuple(Track(t.language, t.name) for t in SUBTITLE_TRACKS),
        trickplay_interval_s=float(settings.trickplay_interval_s),
        extra={"x_origin": "generated"},
    )


def install_trickplay(
    work_dir: Path, title_dir: Path, duration_s: float, interval_s: float, grid: SpriteGrid
) -> None:
    """Move the sprite sheets into ``title_dir/trickplay`` and write ``thumbs.vtt`` for them."""
    target = title_dir / "trickplay"
    target.mkdir()
    sprites = sorted((work_dir / "trickplay").glob("sprite_*.jpg"))
    for sprite in sprites:
        shutil.move(str(sprite), target / sprite.name)
    usable_s = min(duration_s, len(sprites) * grid.per_sprite * interval_s)
    (target / "thumbs.vtt").write_text(thumbs_vtt(usable_s, interval_s, grid), encoding="utf-8")
