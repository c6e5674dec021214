"""A small seeded mutation fuzzer (stdlib only: hypothesis is not in the environment).

:class:`Mutator` turns seed inputs into hostile ones two ways: structure-aware (a JSON body
with one value swapped for a nasty one: NaN, ±Infinity, 1e400, 2^63, 10^30, deep nesting, huge
strings, wrong types, other ids) and byte-level (flip, cut, splice, duplicate, insert a nasty
token). :func:`run` feeds a target until a time or count budget is spent and reports executions
per second; the target raises ``AssertionError`` on a finding. A run is reproducible from its
seed.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

NASTY_TOKENS = ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 40, "-0", "1e-400",
                "null", "true", "[]", "{}", '"', "\\", "\\u0000", "\\ud800", "\u0000", "²",
                "١٢", "\ufeff", "[" * 200, "{" * 200, "\n", "\r\n", ",", ":", "#", "@",
                "nan", "inf", "-1", "0x10", "1_000", " " * 50, "%00", "../")

NASTY_VALUES: tuple[Any, ...] = (None, True, False, 0, -1, 1.5, 2**31, 2**53 + 1, 2**63,
                                 10**30, -(10**30), 1e308, -1e308, 5e-324, "", " ", "x" * 5000,
                                 "\u0000", "NaN", "2024-01-01", "../../etc/passwd", [], {},
                                 [None], {"": None}, ["x"] * 50)


@dataclass
class Stats:
    executions: int = 0
    seconds: float = 0.0
    findings: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.executions / self.seconds if self.seconds else 0.0


class Mutator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def _nasty(self) -> Any:
        r = self.random
        pick = r.randrange(6)
        if pick == 0:
            depth = r.choice((31, 33, 64, 1000, 50_000))
            return _Raw("[" * depth + "]" * depth)
        if pick == 1:
            return _Raw(r.choice(("NaN", "Infinity", "-Infinity", "1e400", "-1e999")))
        return r.choice(NASTY_VALUES)

    def _mutate_value(self, value: Any, depth: int = 0) -> Any:
        r = self.random
        if isinstance(value, dict) and value and r.random() < 0.8:
            key = r.choice(sorted(value))
            out = dict(value)
            action = r.randrange(4)
            if action == 0:
                del out[key]
            elif action == 1:
                out[key + r.choice(("", "_", "X"))] = self._nasty()
            else:
                out[key] = self._mutate_value(value[key], depth + 1)
            return out
        if isinstance(value, list) and value and r.random() < 0.8:
            out_list = list(value)
            i = r.randrange(len(out_list))
            out_list[i] = self._mutate_value(out_list[i], depth + 1)
            if r.random() < 0.2:
                out_list = out_list * r.choice((2, 10, 600))
            return out_list
        return self._nasty()

    def structured(self, seed: Any) -> str:
        return _dumps(self._mutate_value(seed))

    def bytewise(self, text: str) -> str:
        r = self.random
        chars = list(text)
        for _ in range(r.randint(1, 4)):
            action = r.randrange(5)
            i = r.randrange(len(chars) + 1)
            if action == 0 and chars:
                chars[min(i, len(chars) - 1)] = chr(r.randrange(0x20, 0x7F))
            elif action == 1 and chars:
                del chars[i:i + r.randint(1, 8)]
            elif action == 2:
                chars[i:i] = list(r.choice(NASTY_TOKENS))
            elif action == 3 and chars:
                j = r.randrange(len(chars))
                chars[i:i] = chars[j:j + r.randint(1, 40)]
            else:
                chars[i:i] = list(str(r.choice(NASTY_VALUES)))
        return "".join(chars)

    def mutate(self, seeds: Sequence[Any]) -> str:
        """One hostile input from ``seeds`` (JSON values, or strings for text formats)."""
        seed = self.random.choice(seeds)
        if isinstance(seed, str):
            text = seed
            for _ in range(self.random.randint(1, 3)):
                text = self.bytewise(text)
            return text
        if self.random.random() < 0.7:
            return self.structured(seed)
        return self.bytewise(json.dumps(seed))


class _Raw:
    """A JSON fragment written as is (NaN, deep nesting): what ``json.dumps`` cannot make."""

    def __init__(self, text: str) -> None:
        self.text = text


def _dumps(value: Any) -> str:
    if isinstance(value, _Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    return json.dumps(value)


def run(target: Callable[[str], None], mutator: Mutator, seeds: Sequence[Any], *,
        seconds: float, max_executions: int | None = None,
        clock: Callable[[], float] = time.monotonic) -> Stats:
    """Feed ``target`` until ``seconds`` or ``max_executions`` run out; findings are the
    messages of the ``AssertionError`` it raised (with the input), the first 20 kept."""
    stats = Stats()
    start = clock()
    while clock() - start < seconds and (max_executions is None
                                         or stats.executions < max_executions):
        text = mutator.mutate(seeds)
        try:
            target(text)
        except AssertionError as exc:
            if len(stats.findings) < 20:
                stats.findings.append(f"{exc} <- {text[:300]!r}")
        stats.executions += 1
    stats.seconds = clock() - start
    return stats
