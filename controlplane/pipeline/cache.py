"""The generated catalog in the user cache: checked on every start, rebuilt when needed.

A catalog is used as it is when ``catalog.json`` loads, carries the current generator stamp and
every title's files match its manifest; when only its art version is older, its art is redrawn
and its media kept (:mod:`~controlplane.pipeline.art_refresh`). Otherwise it is rebuilt, with a
message saying why: a
new one is generated into a temporary sibling directory and renamed into place only when
complete, so an interrupted run never leaves a half catalog that looks finished.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from controlplane.catalog import CatalogError, load_catalog
from controlplane.pipeline.art_refresh import refresh_art
from controlplane.pipeline.build import build_catalog, generator_stamp
from controlplane.pipeline.catalog_file import read_generator, write_catalog_json
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ffmpeg import find_ffmpeg
from controlplane.pipeline.locking import catalog_lock
from controlplane.pipeline.manifest import check_manifest
from controlplane.pipeline.profiles import ART_VERSION, Profile, get_profile
from controlplane.pipeline.progress import ProgressFn, silent


def catalog_dir(cache_dir: Path, profile: str) -> Path:
    return cache_dir / f"catalog-{profile}"


def ensure_catalog(
    profile: str, cache_dir: Path, progress: ProgressFn | None = None
) -> Path:
    """The root of a valid catalog for ``profile`` under ``cache_dir``, generated if needed."""
    say = progress or silent
    spec = get_profile(profile)
    root = catalog_dir(cache_dir, profile)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PipelineError(f"cannot create the cache directory {cache_dir}: {exc}") from exc
    with catalog_lock(root):
        _remove_leftovers(cache_dir, profile)
        problem = catalog_problem(root, spec)
        if problem is None:
            if read_generator(root).get("art_version") != ART_VERSION:
                refresh_art(find_ffmpeg(), spec, root, say)
            return root
        if root.exists():
            say(f"catalog at {root} is damaged ({problem}); rebuilding")
        else:
            say(f"no {profile} catalog at {root} yet; generating it once (later starts reuse it)")
        _rebuild(spec, root, say)
    return root


def catalog_problem(root: Path, profile: Profile) -> str | None:
    """None when ``root`` holds a complete, current catalog of ``profile``; else the reason."""
    if not root.is_dir():
        return "missing"
    try:
        catalog = load_catalog(root)
    except CatalogError as exc:
        return str(exc)
    if _media_stamp(read_generator(root)) != _media_stamp(generator_stamp(profile)):
        return "made by another pipeline version or profile"
    expected = {t.id for t in profile.titles}
    if not expected <= set(catalog.titles):
        return f"titles missing: {', '.join(sorted(expected - set(catalog.titles)))}"
    for title_id in catalog.titles:
        problem = check_manifest(catalog.title_dir(title_id))
        if problem is not None:
            return problem
    return None


def _media_stamp(stamp: dict[str, object]) -> dict[str, object]:
    """The stamp but its art version: a catalog with older art keeps its media."""
    return {k: v for k, v in stamp.items() if k != "art_version"}


def _rebuild(profile: Profile, root: Path, say: ProgressFn) -> None:
    ffmpeg = find_ffmpeg()
    staging = root.with_name(f".{root.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        build_catalog(ffmpeg, profile, staging, say)
        _carry_over_ingested(root, staging, profile, say)
        if root.exists():
            old = root.with_name(f".{root.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(root, old)
            os.replace(staging, root)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, root)
    except OSError as exc:
        raise PipelineError(f"cannot write the catalog under {root.parent}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _carry_over_ingested(old: Path, new: Path, profile: Profile, say: ProgressFn) -> None:
    """Move titles a user ingested into the old catalog over to the new one, if still intact."""
    try:
        previous = load_catalog(old)
    except CatalogError:
        return
    generated = {t.id for t in profile.titles}
    kept = [
        title for title in previous.titles.values()
        if title.id not in generated and check_manifest(previous.title_dir(title.id)) is None
    ]
    if not kept:
        return
    for title in kept:
        shutil.move(str(previous.title_dir(title.id)), new / "titles" / title.id)
    current = load_catalog(new)
    write_catalog_json(new, [*current.titles.values(), *kept], profile=profile.name,
                       generator=generator_stamp(profile))
    say(f"kept {len(kept)} ingested title(s): {', '.join(t.name for t in kept)}")


def _remove_leftovers(cache_dir: Path, profile: str) -> None:
    """Staging and old directories of an interrupted run (safe: we hold the lock)."""
    for pattern in (f".catalog-{profile}.tmp-*", f".catalog-{profile}.old-*"):
        for path in cache_dir.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)
