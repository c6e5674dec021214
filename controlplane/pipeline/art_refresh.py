"""Redrawing the art of a cached catalog whose media are current (``ART_VERSION`` changed).

Only the posters and backdrops of the profile's titles are drawn again (two JPEGs per title in
one ffmpeg run, a few seconds for the default catalog on two cores); keys, segments, playlists
and trick-play stay as they are. Each picture is written to a temporary name and renamed over
the old one (a title sharing another's media has its own art files, never hard links), then
the title's file manifest is rewritten, and ``catalog.json`` gets the new generator stamp last:
an interrupted refresh is redone on the next start. Titles a user ingested keep their art (it
was drawn from their video, which may be gone).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from controlplane.catalog import load_catalog
from controlplane.pipeline.art import ArtText, render_art
from controlplane.pipeline.build import generator_stamp, worker_count
from controlplane.pipeline.canvas import Gradient
from controlplane.pipeline.catalog_file import write_catalog_json
from controlplane.pipeline.ffmpeg import features
from controlplane.pipeline.fonts import Fonts, find_fonts
from controlplane.pipeline.generate import tagline
from controlplane.pipeline.manifest import write_manifest
from controlplane.pipeline.profiles import Profile
from controlplane.pipeline.progress import ProgressFn
from controlplane.pipeline.titles import TitleSpec


def refresh_art(ffmpeg: str, profile: Profile, root: Path, say: ProgressFn) -> int:
    """Redraw the art of ``profile``'s titles in the catalog at ``root``; the number redrawn."""
    catalog = load_catalog(root)
    fonts = find_fonts() if features(ffmpeg).has_drawtext else None
    specs = [s for s in profile.titles if catalog.title_dir(s.id).is_dir()]
    say(f"redrawing the art of {len(specs)} titles (new artwork; the media are kept)")
    with ThreadPoolExecutor(max_workers=worker_count()) as pool:
        for done in [pool.submit(_redraw, ffmpeg, spec, catalog.title_dir(spec.id), profile,
                                 fonts) for spec in specs]:
            done.result()
    write_catalog_json(root, catalog.titles.values(), profile=profile.name,
                       generator=generator_stamp(profile))
    return len(specs)


def _redraw(ffmpeg: str, spec: TitleSpec, title_dir: Path, profile: Profile,
            fonts: Fonts | None) -> None:
    poster, backdrop = title_dir / ".poster.new.jpg", title_dir / ".backdrop.new.jpg"
    try:
        render_art(
            ffmpeg,
            ArtText(spec.name, tagline(spec), spec.maturity_rating, spec.synopsis),
            Gradient(*spec.colors),
            poster=(poster, profile.poster_size),
            backdrop=(backdrop, profile.backdrop_size),
            fonts=fonts,
        )
        os.replace(poster, title_dir / "poster.jpg")
        os.replace(backdrop, title_dir / "backdrop.jpg")
    finally:
        poster.unlink(missing_ok=True)
        backdrop.unlink(missing_ok=True)
    write_manifest(title_dir)
