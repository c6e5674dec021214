"""Titles that share another title's media (``TitleSpec.shares_media_with``).

After the generated titles are built, each sharing title gets a folder of its own whose media
files (key, renditions, subtitles, trick-play) are hard links to the generated title's (a copy
where the file system has no hard links), and its own poster and backdrop. Its ``Title`` is the
generated one's with its own metadata, so the control plane and the edges serve it like any
other title. Drawing two JPEGs per title costs well under a second; nothing is encoded.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from controlplane.catalog import Title
from controlplane.pipeline.art import ArtText, render_art
from controlplane.pipeline.canvas import Gradient
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.fonts import Fonts
from controlplane.pipeline.generate import tagline
from controlplane.pipeline.manifest import MANIFEST_JSON, write_manifest
from controlplane.pipeline.profiles import Profile
from controlplane.pipeline.titles import TitleSpec

OWN_FILES = frozenset({"poster.jpg", "backdrop.jpg", MANIFEST_JSON})
"""What a sharing title does not take from the title whose media it uses."""


def generated_specs(specs: Iterable[TitleSpec]) -> list[TitleSpec]:
    """The titles whose media is generated (the others share it)."""
    return [s for s in specs if s.shares_media_with is None]


def check_sharing(specs: Iterable[TitleSpec]) -> None:
    """Every ``shares_media_with`` names a generated title of the same profile, with its
    duration; a :class:`PipelineError` says which one does not."""
    items = list(specs)
    generated = {s.id: s for s in generated_specs(items)}
    for spec in items:
        if spec.shares_media_with is None:
            continue
        base = generated.get(spec.shares_media_with)
        if base is None:
            raise PipelineError(f"{spec.id} shares the media of {spec.shares_media_with!r}, "
                                "which is not a generated title of this catalog")
        if base.duration_s != spec.duration_s:
            raise PipelineError(f"{spec.id} lasts {spec.duration_s} s but the media it shares "
                                f"({base.id}) lasts {base.duration_s} s")


def _link_tree(src: Path, dst: Path) -> None:
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
    shutil.copytree(src, dst, copy_function=link,
                    ignore=lambda folder, names: [n for n in names if n in OWN_FILES]
                    if Path(folder) == src else [])


def share_title(ffmpeg: str, spec: TitleSpec, base: Title, root: Path, profile: Profile,
                fonts: Fonts | None) -> Title:
    """Make ``spec``'s folder under ``root/titles`` from ``base``'s media and its own art."""
    assert spec.shares_media_with == base.id
    src, dst = root / "titles" / base.id, root / "titles" / spec.id
    _link_tree(src, dst)
    render_art(
        ffmpeg,
        ArtText(spec.name, tagline(spec), spec.maturity_rating, spec.synopsis),
        Gradient(*spec.colors),
        poster=(dst / "poster.jpg", profile.poster_size),
        backdrop=(dst / "backdrop.jpg", profile.backdrop_size),
        fonts=fonts,
    )
    write_manifest(dst)
    return dataclasses.replace(
        base, id=spec.id, name=spec.name, synopsis=spec.synopsis, year=spec.year,
        genres=spec.genres, maturity_rating=spec.maturity_rating, regions=spec.regions,
        requires_plan=spec.requires_plan,
        extra={**base.extra, "x_shares_media_with": base.id},
    )
