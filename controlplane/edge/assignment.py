"""Which edge caches which title.

Titles are sorted by id and dealt round-robin: title *i* is cached on the ``copies`` edges
``(i*copies + j) mod n`` for j in 0..copies-1, where ``copies = round(2n/3)`` clamped to 1..n
(2 of 3 edges, 1 of 2, 3 of 4 or 5...). Every title is on ``copies`` distinct edges, edge loads
differ by at most one title, and with at least n titles and n >= 2 no edge caches everything.
The rule depends only on the ids, so it is the same on every run.
"""

from __future__ import annotations

from collections.abc import Iterable


def copies_per_title(edge_count: int) -> int:
    return max(1, min(edge_count, round(edge_count * 2 / 3)))


def assign_titles(title_ids: Iterable[str], edge_count: int) -> list[frozenset[str]]:
    """The set of cached title ids for each of ``edge_count`` edges, in edge order."""
    if edge_count < 1:
        raise ValueError("edge_count must be >= 1")
    copies = copies_per_title(edge_count)
    cached: list[set[str]] = [set() for _ in range(edge_count)]
    for index, title_id in enumerate(sorted(title_ids)):
        for offset in range(copies):
            cached[(index * copies + offset) % edge_count].add(title_id)
    return [frozenset(titles) for titles in cached]
