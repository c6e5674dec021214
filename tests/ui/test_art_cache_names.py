"""The art cache's file names: the same across control-plane ports, new for a new art version."""

from __future__ import annotations

from ui.artwork import ArtCache


def test_cache_names_follow_path_and_query_not_the_port() -> None:
    v1 = "http://127.0.0.1:4100/v1/art/t1/poster.jpg?v=abc"
    assert ArtCache.cache_name(v1) == ArtCache.cache_name(v1.replace("4100", "4200"))
    assert ArtCache.cache_name(v1) != ArtCache.cache_name(v1.replace("v=abc", "v=def"))
    assert ArtCache.cache_name(v1) != ArtCache.cache_name(v1.split("?")[0])
    assert ArtCache.cache_name(v1).endswith(".jpg")
