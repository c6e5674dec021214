"""The invented titles of the default and the test catalog (metadata only; no media here).

The default catalog's other titles, which share these titles' media, are in
:mod:`controlplane.pipeline.titles_shared`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TitleSpec:
    id: str
    name: str
    synopsis: str
    year: int
    genres: tuple[str, ...]
    duration_s: float
    """Running time of the generated video, in seconds."""
    maturity_rating: str
    regions: tuple[str, ...] = ("*",)
    requires_plan: str = "basic"
    colors: tuple[str, str] = ("0x1d2b53", "0x7e2553")
    """Two RGB colours for the background gradient and the artwork (ffmpeg colour syntax)."""
    shares_media_with: str | None = field(default=None, repr=False)
    """The id of another title of the same profile whose video, audio, subtitles, key and
    trick-play this title reuses (only its metadata and art are its own), so a catalog can look
    like a service without encoding every title; ``duration_s`` must be that title's. None
    (default): the title's media is generated. Left out of ``repr`` so that profiles without
    shared titles keep their fingerprint; :meth:`Profile.fingerprint` adds it."""


DEFAULT_TITLES: tuple[TitleSpec, ...] = (
    TitleSpec(
        "night-harbor",
        "Night Harbor",
        "A harbour pilot on her last winter shift guides a stranded freighter through fog, "
        "and learns what it is really carrying.",
        2023, ("Drama", "Thriller"), 600.0, "PG-13",
        colors=("0x0b1d3a", "0x2f6f8f"),
    ),
    TitleSpec(
        "the-quiet-orbit",
        "The Quiet Orbit",
        "Two engineers on a failing relay station have ninety minutes of air and one argument "
        "they never finished.",
        2024, ("Sci-Fi", "Drama"), 98.0, "PG-13",
        colors=("0x120a2a", "0x5b3fa8"),
    ),
    TitleSpec(
        "tidepool-tales",
        "Tidepool Tales",
        "Pip the hermit crab needs a bigger shell before the big tide. Friends help.",
        2022, ("Kids", "Animation"), 72.0, "G",
        colors=("0x0f7c8c", "0xf2c14e"),
    ),
    TitleSpec(
        "salt-and-ember",
        "Salt & Ember",
        "A travelling cook follows the old salt roads of the Atlantic coast, one fire at a time.",
        2021, ("Documentary", "Food"), 64.0, "PG",
        colors=("0x3b1f0e", "0xd9792b"),
    ),
    TitleSpec(
        "paper-lanterns",
        "Paper Lanterns",
        "A wedding planner who hates weddings has one week to organise her sister's.",
        2020, ("Comedy", "Romance"), 52.0, "PG",
        colors=("0x8c2f39", "0xfcb9b2"),
    ),
    TitleSpec(
        "glass-canyon",
        "Glass Canyon",
        "A ransom drop in the desert goes wrong in every way it can. Premium plan only.",
        2024, ("Thriller", "Crime"), 44.0, "R",
        requires_plan="premium",
        colors=("0x1a1a1a", "0xb23a48"),
    ),
    TitleSpec(
        "the-midnight-ledger",
        "The Midnight Ledger",
        "An auditor at a London bank finds a column that should not add up, and does. "
        "Available in the United Kingdom only.",
        2022, ("Crime", "Drama"), 36.0, "TV-MA",
        regions=("GB",),
        colors=("0x0d0d0d", "0x4a6b3a"),
    ),
    TitleSpec(
        "northern-lines",
        "Northern Lines",
        "Railway workers keep a single-track line open through an Arctic winter.",
        2019, ("Documentary",), 30.0, "TV-PG",
        regions=("US", "CA", "GB", "IE"),
        colors=("0x0e2a47", "0x9fd3c7"),
    ),
)
"""Eight titles, one of ten minutes (seek and download tests), mixed ratings, plans and regions."""

TEST_TITLES: tuple[TitleSpec, ...] = (
    TitleSpec(
        "pocket-meadow",
        "Pocket Meadow",
        "Test title: kids, everywhere, basic plan.",
        2024, ("Kids",), 12.0, "G",
        colors=("0x2d6a4f", "0xb7e4c7"),
    ),
    TitleSpec(
        "vault-nine",
        "Vault Nine",
        "Test title: adults only, premium plan.",
        2023, ("Sci-Fi", "Thriller"), 16.0, "R",
        requires_plan="premium",
        colors=("0x14213d", "0xfca311"),
    ),
    TitleSpec(
        "harbour-lights",
        "Harbour Lights",
        "Test title: United Kingdom only; ends on a short segment.",
        2022, ("Drama",), 22.0, "TV-MA",
        regions=("GB",),
        colors=("0x3d0c11", "0xd90429"),
    ),
)
"""Three short titles that exercise the region, plan and maturity checks."""
