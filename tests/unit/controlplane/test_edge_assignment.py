"""The cache assignment rule."""

from __future__ import annotations

import pytest

from controlplane.edge.assignment import assign_titles, copies_per_title


def test_three_edges_cache_two_of_three() -> None:
    cached = assign_titles(["c", "a", "b"], 3)
    assert cached == [frozenset({"a", "b"}), frozenset({"a", "c"}), frozenset({"b", "c"})]


@pytest.mark.parametrize("edges", range(1, 8))
@pytest.mark.parametrize("titles", [1, 2, 3, 5, 10, 31])
def test_every_title_is_somewhere_and_loads_are_even(edges: int, titles: int) -> None:
    ids = [f"t{i:02d}" for i in range(titles)]
    cached = assign_titles(ids, edges)
    assert len(cached) == edges
    for title_id in ids:
        assert sum(title_id in c for c in cached) == copies_per_title(edges)
    sizes = [len(c) for c in cached]
    assert max(sizes) - min(sizes) <= 1
    if edges >= 2 and titles >= edges:
        assert all(len(c) < titles for c in cached)


def test_copies() -> None:
    assert [copies_per_title(n) for n in range(1, 7)] == [1, 1, 2, 3, 3, 4]


def test_assignment_is_deterministic_and_order_free() -> None:
    assert assign_titles(["x", "y", "z", "w"], 3) == assign_titles(["w", "z", "y", "x"], 3)
    with pytest.raises(ValueError):
        assign_titles(["x"], 0)
