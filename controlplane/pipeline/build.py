"""Generating a whole catalog into an empty directory, keeping every core busy.

Work is scheduled as small jobs on a thread pool (each job runs ffmpeg or AES in a subprocess
or in C, so threads are enough): first every title's preparation, then the encode parts,
costliest first, so the long title never runs alone at the end. The part that completes a
title packages it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from controlplane.catalog import Title
from controlplane.pipeline.catalog_file import write_catalog_json
from controlplane.pipeline.ffmpeg import features, require_x264
from controlplane.pipeline.fonts import find_fonts
from controlplane.pipeline.generate import (
    Prepared,
    TitleJob,
    encode_part,
    finish_title,
    prepare_title,
)
from controlplane.pipeline.ladder import Rung, pixels_per_second, split_for_parallel
from controlplane.pipeline.profiles import ART_VERSION, CMAF, PIPELINE_VERSION, Profile
from controlplane.pipeline.progress import ProgressFn, TitleProgress
from controlplane.pipeline.shaka import find_packager
from controlplane.pipeline.share import check_sharing, generated_specs, share_title

EXTRA_WORKERS = 1
"""Jobs beyond the CPU count: one ffmpeg run leaves a core partly idle, a spare job fills it."""


def generator_stamp(profile: Profile) -> dict[str, object]:
    return {
        "pipeline_version": PIPELINE_VERSION,
        "profile": profile.name,
        "fingerprint": profile.fingerprint(),
        "art_version": ART_VERSION,
    }


def worker_count() -> int:
    return max(1, (os.cpu_count() or 1) + EXTRA_WORKERS)


@dataclass
class _Run:
    job: TitleJob
    parts: tuple[tuple[Rung, ...], ...]
    prepared: Future[Prepared] | None = None
    remaining: int = 0
    started: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def build_catalog(ffmpeg: str, profile: Profile, root: Path, progress: ProgressFn) -> list[Title]:
    """Generate every title of ``profile`` under ``root`` and write ``catalog.json`` last."""
    started = time.monotonic()
    check_sharing(profile.titles)
    require_x264(ffmpeg)
    packager = find_packager() if profile.container == CMAF else None
    fonts = find_fonts() if features(ffmpeg).has_drawtext else None
    if fonts is None:
        progress("note: this ffmpeg has no drawtext filter or no font was found; "
                 "the picture is generated without text")
    encoded = generated_specs(profile.titles)
    total_s = sum(t.duration_s for t in encoded)
    shared = len(profile.titles) - len(encoded)
    progress(
        f"generating the {profile.name} catalog: {len(encoded)} titles, "
        f"{total_s / 60:.1f} min of video, {len(profile.ladder)} renditions each"
        + (f"; {shared} more title{'s' if shared > 1 else ''} sharing their media"
           if shared else "")
    )
    (root / "titles").mkdir(parents=True)
    work_root = root / ".work"
    count = len(encoded)
    parts = split_for_parallel(profile.ladder)
    runs = {
        spec.id: _Run(
            TitleJob(ffmpeg, spec, profile, root / "titles" / spec.id, work_root / spec.id,
                     fonts, TitleProgress(progress, index, count, spec.name), packager),
            parts,
            remaining=len(parts),
        )
        for index, spec in enumerate(encoded, start=1)
    }
    titles: dict[str, Title] = {}
    fps = profile.encode.frame_rate
    with ThreadPoolExecutor(max_workers=worker_count()) as pool:
        for run in sorted(runs.values(), key=lambda r: -r.job.spec.duration_s):
            run.prepared = pool.submit(prepare_title, run.job)
        encodes = [
            (run.job.spec.duration_s * pixels_per_second(group, fps), run, group)
            for run in runs.values()
            for group in run.parts
        ]
        encodes.sort(key=lambda item: -item[0])
        futures = [pool.submit(_encode_and_maybe_finish, run, group, titles)
                   for _cost, run, group in encodes]
        try:
            for future in as_completed(futures):
                future.result()
            sharing = [pool.submit(share_title, ffmpeg, spec, titles[spec.shares_media_with],
                                   root, profile, fonts)
                       for spec in profile.titles if spec.shares_media_with is not None]
            for done in sharing:
                shared_title = done.result()
                titles[shared_title.id] = shared_title
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    shutil.rmtree(work_root, ignore_errors=True)
    ordered = [titles[spec.id] for spec in profile.titles]
    write_catalog_json(root, ordered, profile=profile.name, generator=generator_stamp(profile))
    progress(f"{profile.name} catalog ready in {time.monotonic() - started:.0f} s")
    return ordered


def _encode_and_maybe_finish(run: _Run, group: tuple[Rung, ...], titles: dict[str, Title]) -> None:
    assert run.prepared is not None
    prepared = run.prepared.result()
    part = "+".join(r.id for r in group)
    with run.lock:
        if not run.started:
            run.started = True
            run.job.progress.stage(f"encoding {len(run.job.profile.ladder)} renditions…")
            fps = run.job.profile.encode.frame_rate
            run.job.progress.set_parts(
                {"+".join(r.id for r in g): pixels_per_second(g, fps) for g in run.parts}
            )
    encode_part(run.job, prepared, group, part)
    with run.lock:
        run.remaining -= 1
        last = run.remaining == 0
    if last:
        titles[run.job.spec.id] = finish_title(run.job, prepared)
