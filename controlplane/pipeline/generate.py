"""Generating one synthetic title in three steps: prepare, encode (in parts), finish.

prepare: key, poster/backdrop, the stills, the audio tracks and the trick-play sprites.
encode: one ffmpeg run per group of rungs (see :func:`ladder.split_for_parallel`).
finish: package and encrypt (CMAF: Shaka Packager, CENC ``cbcs``, :mod:`~controlplane.pipeline.
cmaf`; TS: AES-128,
:mod:`~controlplane.pipeline.package`), trick-play index, subtitles, manifest; returns the
``Title``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from controlplane.catalog import FMP4, TS, Rendition, Title, Track
from controlplane.pipeline.art import ArtText, render_art
from controlplane.pipeline.audio import encode_tones
from controlplane.pipeline.canvas import Gradient
from controlplane.pipeline.cenc import derive_kid
from controlplane.pipeline.cmaf import CmafInputs, package_cmaf
from controlplane.pipeline.encode import encode_ladder, synthetic_inputs
from controlplane.pipeline.encrypt import new_key
from controlplane.pipeline.fonts import Fonts
from controlplane.pipeline.ladder import Rung
from controlplane.pipeline.manifest import write_manifest
from controlplane.pipeline.package import package_renditions
from controlplane.pipeline.picture import render_stills
from controlplane.pipeline.profiles import AUDIO_TRACKS, CMAF, SUBTITLE_TRACKS, Profile
from controlplane.pipeline.profiles import Track as ProfileTrack
from controlplane.pipeline.progress import TitleProgress
from controlplane.pipeline.sprites import synthetic_sprites
from controlplane.pipeline.subtitles import strip_timestamp_map, synthetic_vtt
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
    packager: str | None = None
    """Shaka Packager's binary (CMAF profiles)."""

    @property
    def cmaf(self) -> bool:
        return self.profile.container == CMAF


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
    audio = job.work_dir / "audio.mp4"
    encode_tones(job.ffmpeg, audio, duration_s=spec.duration_s, tracks=AUDIO_TRACKS,
                 bitrate_bps=settings.audio_bitrate_bps)
    synthetic_sprites(job.ffmpeg, stills["thumb"], duration_s=spec.duration_s,
                      settings=settings, fonts=job.fonts, out_dir=job.work_dir / "trickplay")
    return Prepared(key, stills, audio)


def encode_part(job: TitleJob, prepared: Prepared, rungs: tuple[Rung, ...], part: str) -> None:
    """Encode one group of rungs (all groups share the timeline and the keyframe times)."""
    inputs = synthetic_inputs(
        stills=prepared.stills, audio=None if job.cmaf else prepared.audio,
        audio_tracks=len(AUDIO_TRACKS),
        rungs=rungs, settings=job.profile.encode, duration_s=job.spec.duration_s,
        fonts=job.fonts,
    )
    encode_ladder(
        job.ffmpeg, inputs, rungs=rungs, settings=job.profile.encode,
        duration_s=job.spec.duration_s, work_dir=job.work_dir,
        what=f"encoding {job.spec.name!r} ({', '.join(r.id for r in rungs)})",
        on_fraction=lambda done: job.progress.part_fraction(part, done),
        video_only=job.cmaf,
    )


def finish_title(job: TitleJob, prepared: Prepared) -> Title:
    spec, settings = job.spec, job.profile.encode
    job.progress.stage("encrypting and packaging")
    if job.cmaf:
        durations, renditions = _finish_cmaf(job, prepared)
    else:
        packaged = package_renditions(
            work_dir=job.work_dir, title_dir=job.title_dir, rungs=job.profile.ladder,
            key=prepared.key, frame_rate=float(settings.frame_rate),
        )
        durations, renditions = packaged.segment_durations_s, packaged.renditions
        _write_subtitles(job, round(sum(durations), 3), packaged.first_video_pts)
    duration_s = round(sum(durations), 3)
    install_trickplay(job.work_dir, job.title_dir, duration_s, settings.trickplay_interval_s,
                      sprite_grid(job.profile))
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
        segment_durations_s=durations,
        renditions=renditions,
        audio=tuple(Track(t.language, t.name, 1 if job.cmaf else None) for t in AUDIO_TRACKS),
        subtitles=tuple(Track(t.language, t.name) for t in SUBTITLE_TRACKS),
        trickplay_interval_s=float(settings.trickplay_interval_s),
        extra={"x_origin": "generated"},
        segment_container=FMP4 if job.cmaf else TS,
        cenc_kid=derive_kid(spec.id).hex() if job.cmaf else None,
    )


def _write_subtitles(job: TitleJob, duration_s: float, first_pts_90khz: int) -> dict[str, Path]:
    """``subs/{lang}.vtt`` for every subtitle track (cue times from the title's start)."""
    subs = job.title_dir / "subs"
    subs.mkdir()
    out: dict[str, Path] = {}
    for track in SUBTITLE_TRACKS:
        path = out[track.language] = subs / f"{track.language}.vtt"
        path.write_text(
            synthetic_vtt(track.language, title=job.spec.name, duration_s=duration_s,
                          period_s=job.profile.encode.segment_duration_s,
                          first_pts_90khz=first_pts_90khz),
            encoding="utf-8",
        )
    return out


def _finish_cmaf(
    job: TitleJob, prepared: Prepared
) -> tuple[tuple[float, ...], tuple[Rendition, ...]]:
    """Shaka Packager over the encoded rungs, the audio and the subtitles (CMAF)."""
    assert job.packager is not None
    settings = job.profile.encode
    # fMP4 timestamps start at 0: the whole files map cue time 0 to PTS 0
    whole = _write_subtitles(job, job.spec.duration_s, 0)
    plain: dict[str, tuple[ProfileTrack, Path]] = {}
    for track in SUBTITLE_TRACKS:
        path = job.work_dir / f"subs-{track.language}.vtt"
        path.write_text(strip_timestamp_map(whole[track.language].read_text(encoding="utf-8")),
                        encoding="utf-8")
        plain[track.language] = (track, path)
    packaged = package_cmaf(
        job.packager,
        CmafInputs(video={r.id: job.work_dir / f"{r.id}.mp4" for r in job.profile.ladder},
                   audio=prepared.audio, audio_tracks=AUDIO_TRACKS, subtitles=plain),
        rungs=job.profile.ladder, stage=job.work_dir / "cmaf", title_dir=job.title_dir,
        key=prepared.key, kid=derive_kid(job.spec.id), frame_rate=float(settings.frame_rate),
        segment_s=settings.segment_duration_s, what=f"packaging {job.spec.name!r}",
    )
    return packaged.segment_durations_s, packaged.renditions


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
