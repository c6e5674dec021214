"""Titles that share another title's media: checked up front, linked, with their own art."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from controlplane.catalog import load_catalog
from controlplane.pipeline import PipelineError
from controlplane.pipeline.build import build_catalog
from controlplane.pipeline.cache import catalog_problem
from controlplane.pipeline.catalog_file import write_catalog_json
from controlplane.pipeline.ffmpeg import find_ffmpeg
from controlplane.pipeline.manifest import check_manifest
from controlplane.pipeline.profiles import PROFILES
from controlplane.pipeline.share import check_sharing, generated_specs, share_title
from controlplane.pipeline.titles import TitleSpec
from controlplane.pipeline.titles_shared import SHARED_TITLES, slug
from tests.unit.controlplane.test_pipeline_cache import FakeBuilder

BASE = TitleSpec("base", "Base", "b", 2020, ("Drama",), 4.0, "PG")


def test_every_shared_title_names_a_generated_title_of_the_default_catalog() -> None:
    check_sharing(PROFILES["default"].titles)  # raises on a bad reference
    generated = {s.id for s in generated_specs(PROFILES["default"].titles)}
    assert all(s.shares_media_with in generated for s in SHARED_TITLES)
    assert slug("Love, Al Dente") == "love-al-dente"
    assert slug("Bread & Salt") == "bread-and-salt"


@pytest.mark.parametrize(("other", "says"), [
    (TitleSpec("x", "X", "x", 2020, ("Comedy",), 4.0, "PG", shares_media_with="nope"),
     "not a generated title"),
    (TitleSpec("x", "X", "x", 2020, ("Comedy",), 9.0, "PG", shares_media_with="base"),
     "lasts 9.0 s"),
])
def test_a_bad_reference_is_refused_before_anything_is_encoded(other: TitleSpec,
                                                               says: str) -> None:
    with pytest.raises(PipelineError, match=says):
        check_sharing((BASE, other))


def test_a_shared_title_links_the_media_and_draws_its_own_art(tmp_path: Path) -> None:
    profile = PROFILES["test"]
    [base] = FakeBuilder()(find_ffmpeg(), profile.__class__(
        **{**vars(profile), "titles": (BASE,)}), tmp_path, None)
    src = tmp_path / "titles" / "base"
    (src / "poster.jpg").write_bytes(b"base poster")
    spec = TitleSpec("other", "Other Title", "Its own synopsis.", 2021, ("Comedy",), 4.0, "G",
                     shares_media_with="base")
    title = share_title(find_ffmpeg(), spec, base, tmp_path, profile, None)
    dst = tmp_path / "titles" / "other"
    assert os.path.samefile(src / "240p" / "seg_00000.ts", dst / "240p" / "seg_00000.ts")
    assert (dst / "key.bin").read_bytes() == (src / "key.bin").read_bytes()
    poster = (dst / "poster.jpg").read_bytes()
    assert poster.startswith(b"\xff\xd8") and poster != b"base poster"
    assert (dst / "backdrop.jpg").is_file()
    assert check_manifest(dst) is None
    assert (title.id, title.name, title.genres, title.maturity_rating) == (
        "other", "Other Title", ("Comedy",), "G")
    assert title.renditions == base.renditions
    assert title.extra["x_shares_media_with"] == "base"
    write_catalog_json(tmp_path, [base, title], profile="test", generator={})
    assert set(load_catalog(tmp_path).titles) == {"base", "other"}


def test_the_fingerprint_follows_what_is_shared() -> None:
    default = PROFILES["default"]
    moved = tuple(dataclasses.replace(t, shares_media_with="night-harbor")
                  if t.id == SHARED_TITLES[0].id else t for t in default.titles)
    assert dataclasses.replace(default, titles=moved).fingerprint() != default.fingerprint()
    # a profile that shares nothing keeps the fingerprint it had before sharing existed
    test = PROFILES["test"]
    assert "shares" not in repr(test)


@pytest.mark.slow
def test_a_real_build_with_a_shared_title(tmp_path: Path) -> None:
    """The test catalog plus one title sharing Pocket Meadow's media, built with ffmpeg."""
    test = PROFILES["test"]
    extra = TitleSpec("meadow-again", "Meadow Again", "Same meadow, new poster.", 2025,
                      ("Kids", "Family"), 12.0, "G", shares_media_with="pocket-meadow")
    profile = dataclasses.replace(test, titles=(*test.titles, extra))
    lines: list[str] = []
    root = tmp_path / "catalog"
    build_catalog(find_ffmpeg(), profile, root, lines.append)
    assert catalog_problem(root, profile) is None
    catalog = load_catalog(root)
    assert list(catalog.titles) == [t.id for t in profile.titles]
    shared, base = catalog.titles["meadow-again"], catalog.titles["pocket-meadow"]
    assert shared.segment_durations_s == base.segment_durations_s
    assert shared.genres == ("Kids", "Family") and shared.name == "Meadow Again"
    seg = Path("240p") / "seg_00000.m4s"  # the test profile is CMAF
    assert os.path.samefile(catalog.title_dir("meadow-again") / seg,
                            catalog.title_dir("pocket-meadow") / seg)
    assert catalog.content_key("meadow-again") == catalog.content_key("pocket-meadow")
    assert shared.cenc_kid is not None and shared.cenc_kid == base.cenc_kid  # the media's KID
    assert (catalog.title_dir("meadow-again") / "poster.jpg").read_bytes() != (
        catalog.title_dir("pocket-meadow") / "poster.jpg").read_bytes()
    assert any("1 more title sharing their media" in line for line in lines)
