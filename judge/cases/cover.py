"""Choosing the plan's shapes to cover every declared range, not at random.

A plan meets few distinct shapes (each costs a compile), so where they fall decides what is
ever tested: drawn at random, 8 shapes over ``1..8`` in three dimensions leave the middle of
every range unmet, and code wrong only for mid-sized inputs passes. Here each shape dimension's
range is cut into strata (one value each when the range has no more values than there are
shapes; contiguous bands otherwise) and the shapes are chosen so that every stratum of every
dimension is met, the problem's boundary shapes included and counted.

The search is a seeded greedy assignment, restarted in other orders until it covers all (or,
where the boundary shapes make that impossible, as much as it can): a pure function of the
problem and the seed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..problem import IntInput

ATTEMPTS = 200


def strata(spec: IntInput, count: int) -> list[tuple[int, int]]:
    """``[lo, hi]`` cut into at most ``count`` contiguous bands of near-equal width."""
    size = spec.max - spec.min + 1
    parts = max(1, min(size, count))
    edges = [spec.min + (size * k) // parts for k in range(parts + 1)]
    return [(edges[k], edges[k + 1] - 1) for k in range(parts)]


def stratum_of(value: int, bands: Sequence[tuple[int, int]]) -> int:
    return next(k for k, (lo, hi) in enumerate(bands) if lo <= value <= hi)


@dataclass
class _Group:
    """Cells of one shape that must hold the same value: one dimension, or several tied by
    ``=other`` in a boundary entry. ``value`` is set when the entry pins it."""

    row: int
    names: list[str]
    lo: int
    hi: int
    value: int | None = None


def _groups(
    specs: Mapping[str, IntInput], entries: Sequence[Mapping[str, int | str]], rows: int
) -> list[_Group]:
    """Every shape's cells, grouped by ``=other`` ties, pinned ones with their value."""
    groups: list[_Group] = []
    for row in range(rows):
        entry = entries[row] if row < len(entries) else {}
        parent = {name: name for name in specs}

        def root(name: str, parent: dict[str, str] = parent) -> str:
            while parent[name] != name:
                name = parent[name]
            return name

        for name, wanted in entry.items():
            if name in specs and isinstance(wanted, str) and wanted.startswith("="):
                target = wanted[1:]
                if target in specs:
                    parent[root(name)] = root(target)
        tied: dict[str, list[str]] = {}
        for name in specs:
            tied.setdefault(root(name), []).append(name)
        for names in tied.values():
            lo = max(specs[n].min for n in names)
            hi = min(specs[n].max for n in names)
            group = _Group(row, names, lo, max(lo, hi))
            for name in names:
                pinned = entry.get(name)
                if pinned == "min":
                    group.value = specs[name].min
                elif pinned == "max":
                    group.value = specs[name].max
                elif isinstance(pinned, int) and not isinstance(pinned, bool):
                    group.value = pinned
            groups.append(group)
    return groups


def _attempt(
    groups: list[_Group],
    bands: Mapping[str, list[tuple[int, int]]],
    rng: random.Random,
) -> dict[tuple[int, str], int]:
    """One greedy assignment: pinned cells first, then ties, then single cells, each taking a
    value whose strata are still unmet in as many of its dimensions as possible."""
    met: dict[str, set[int]] = {name: set() for name in bands}
    cells: dict[tuple[int, str], int] = {}

    def put(group: _Group, value: int) -> None:
        for name in group.names:
            cells[(group.row, name)] = value
            met[name].add(stratum_of(value, bands[name]))

    for group in groups:
        if group.value is not None:
            put(group, group.value)
    free = [g for g in groups if g.value is None]
    rng.shuffle(free)
    free.sort(key=lambda g: -len(g.names))  # stable: ties first, in the shuffled order
    for group in free:
        best: list[int] = []
        best_gain = -1
        for name in group.names:  # one candidate per unmet stratum, within the group's range
            for k, (lo, hi) in enumerate(bands[name]):
                lo, hi = max(lo, group.lo), min(hi, group.hi)
                if k in met[name] or lo > hi:
                    continue
                value = rng.randint(lo, hi)
                gain = sum(stratum_of(value, bands[n]) not in met[n] for n in group.names)
                if gain > best_gain:
                    best, best_gain = [value], gain
                elif gain == best_gain:
                    best.append(value)
        put(group, rng.choice(best) if best else rng.randint(group.lo, group.hi))
    return cells


def cover_shapes(
    specs: Mapping[str, IntInput],
    entries: Sequence[Mapping[str, int | str]],
    count: int,
    seed: int,
) -> list[dict[str, int]]:
    """``count`` distinct shapes, the boundary entries' first and in their order, chosen so that
    every stratum of every dimension is met; fewer when the ranges hold fewer shapes."""
    if not specs:
        return [{}]
    rng = random.Random(seed)
    bands = {name: strata(spec, count) for name, spec in specs.items()}
    wanted = sum(len(b) for b in bands.values())
    groups = _groups(specs, entries, count)
    best: list[dict[str, int]] = []
    best_score = (-1, -1)
    for _ in range(ATTEMPTS):
        cells = _attempt(groups, bands, rng)
        shapes: list[dict[str, int]] = []
        for row in range(count):
            shape = {name: cells[(row, name)] for name in specs}
            if shape not in shapes:
                shapes.append(shape)
        met = {(n, stratum_of(s[n], bands[n])) for s in shapes for n in specs}
        score = (len(shapes), len(met))
        if score > best_score:
            best, best_score = shapes, score
        if score == (count, wanted):
            break
    return best


def coverage(
    specs: Mapping[str, IntInput], shapes: Sequence[Mapping[str, int]], count: int
) -> dict[str, list[tuple[int, int]]]:
    """The strata of each dimension that ``shapes`` leave unmet (empty lists when all are)."""
    unmet: dict[str, list[tuple[int, int]]] = {}
    for name, spec in specs.items():
        bands = strata(spec, count)
        hit = {stratum_of(int(s[name]), bands) for s in shapes}
        unmet[name] = [band for k, band in enumerate(bands) if k not in hit]
    return unmet
