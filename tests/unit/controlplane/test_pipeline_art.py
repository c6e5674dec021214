"""Generated key art: the poster carries the title, not the metadata the app prints under it."""

from __future__ import annotations

from pathlib import Path

from controlplane.pipeline.art import ArtText, _backdrop_text, _poster_text
from controlplane.pipeline.fonts import Fonts

FONTS = Fonts(bold=Path("/f/bold.ttf"), regular=Path("/f/regular.ttf"), mono=Path("/f/mono.ttf"))
TEXT = ArtText("Night Harbor", "2023 · Drama · Thriller", "PG-13", "A harbour pilot.")


def test_the_poster_prints_the_name_only() -> None:
    graph = _poster_text(TEXT, 600, 900, FONTS)
    assert "Night Harbor" in graph or ("Night" in graph and "Harbor" in graph)
    for metadata in ("2023", "Drama", "Thriller", "PG-13"):
        assert metadata not in graph, metadata


def test_the_backdrop_keeps_its_text() -> None:
    graph = _backdrop_text(TEXT, 1280, 720, FONTS)
    assert "2023" in graph and "PG-13" in graph
