"""The argument facets a cache can be keyed on, and the changes of dimensions that tell apart
every key made of some of them.

A learner's function may keep something between calls keyed on part of its arguments: its
answer keyed on the seed, or its variables keyed on ``(seed, features)``. A later call with the
same key and another value of something the kept thing depends on then gets a stale answer (or,
for variables of another shape, Flax's ScopeParamShapeError). A key is made of *facets*:

- each value parameter (``seed``): its value;
- each array parameter (``x_batch``): its contents, the flat values ``tobytes()`` sees, not its
  shape (a key made of ``x.tobytes()`` confuses a (2, 3) array with its (3, 2) reshape);
- each dimension: an integer input named in an array parameter's shape (``batch``,
  ``in_dim``; ``x.shape`` is the set of them) or passed as a parameter of its own
  (``features``).

A cache keyed on the facets S is caught by a later call that agrees with an earlier one on S
and differs on a facet g outside S. The plan (``repeats``) holds such a pair for every S and
every g that two valid inputs can differ on while agreeing on S (a key that fixes g, as
x_batch's bytes and batch fix in_dim, needs none). One pair that changes a value or an array
alone serves every S. A dimension cannot always change alone: the arrays whose shape holds it
change too, or keep their bytes only when another dimension changes with it (a reshape). So the
pairs for dimensions are ``dimension_moves``: the maximal patterns (dimensions kept, arrays
whose bytes are kept, every other dimension changed) that valid inputs allow.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ..problem import Problem

# Dimension assignments searched when the moves are worked out: every one when the ranges hold
# no more, else as many values of each range, its ends included, as keep to about this many.
DOMAIN_LIMIT = 4096

Shape = tuple[str | int, ...]


@dataclass(frozen=True)
class Facet:
    """One thing a cache key can be made of. ``kind``: value, array or dimension."""

    name: str
    kind: str


@dataclass(frozen=True)
class DimensionMove:
    """A pair of calls that keep ``kept`` dimensions, keep the bytes of ``kept_arrays`` (reshaped
    where their shape changes) and change every other dimension."""

    kept: frozenset[str]
    kept_arrays: frozenset[str]
    # Sizes of every dimension from which the move can be made: where no planned shape allows
    # it, the plan first meets these (``repeats``' anchor).
    witness: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def changed(self, dimensions: Sequence[str]) -> list[str]:
        return [d for d in dimensions if d not in self.kept]


def array_parameters(problem: Problem) -> dict[str, Shape]:
    """Each array parameter's declared shape, by name."""
    return {a.name: a.shape for a in problem.array_inputs if a.name in problem.parameters}


def dimension_names(problem: Problem) -> list[str]:
    """Integer inputs a call shows as sizes: named in an array parameter's shape or passed on
    their own, in declaration order (value inputs, such as a seed, are values)."""
    named = {d for shape in array_parameters(problem).values() for d in shape if isinstance(d, str)}
    return [i.name for i in problem.shape_inputs if i.name in named or i.name in problem.parameters]


def facets(problem: Problem) -> list[Facet]:
    """Every facet of a call: values, arrays, dimensions."""
    out = [Facet(i.name, "value") for i in problem.value_inputs if i.name in problem.parameters]
    out += [Facet(name, "array") for name in array_parameters(problem)]
    out += [Facet(name, "dimension") for name in dimension_names(problem)]
    return out


def array_size(shape: Shape, sizes: Mapping[str, int]) -> int:
    return math.prod(int(sizes[d]) if isinstance(d, str) else d for d in shape)


def dimension_moves(problem: Problem) -> list[DimensionMove]:
    """The dimension changes the plan makes: for each dimension g, the maximal patterns of a pair
    of valid inputs that differ on g. Each changes every dimension it does not keep (keeping one
    more would make a larger pattern), so one pair per pattern serves all the dimensions it
    changes. For an x of shape (batch, in_dim) and a features parameter: batch alone, in_dim
    alone, features alone, and batch and in_dim together around the same bytes of x."""
    ranges = tuple((i.name, i.min, i.max) for i in problem.shape_inputs)
    names = tuple(dimension_names(problem))
    arrays = tuple(sorted(array_parameters(problem).items()))
    return list(_moves(ranges, names, arrays))


@functools.cache
def _moves(
    ranges: tuple[tuple[str, int, int], ...],
    names: tuple[str, ...],
    arrays: tuple[tuple[str, Shape], ...],
) -> tuple[DimensionMove, ...]:
    domain = list(_domain({n: (lo, hi) for n, lo, hi in ranges if n in names}))
    realisable = [
        DimensionMove(frozenset(kept), frozenset(kept_arrays), tuple(witness.items()))
        for kept in _subsets(names)
        if len(kept) < len(names)
        for kept_arrays in _subsets(tuple(name for name, _ in arrays))
        if (witness := _witness(domain, names, kept, dict(arrays), kept_arrays)) is not None
    ]
    found: list[DimensionMove] = []
    for g in names:
        for move in _maximal([m for m in realisable if g not in m.kept]):
            if move not in found:
                found.append(move)
    # Fewest dimensions changed first, then in declaration order: batch, in_dim, features, both.
    return tuple(
        sorted(
            found,
            key=lambda m: [len(names) - len(m.kept)] + [names.index(d) for d in m.changed(names)],
        )
    )


def _subsets(items: Sequence[str]) -> Iterator[tuple[str, ...]]:
    for size in range(len(items) + 1):
        yield from itertools.combinations(items, size)


def _maximal(moves: list[DimensionMove]) -> list[DimensionMove]:
    def below(a: DimensionMove, b: DimensionMove) -> bool:
        return a != b and a.kept <= b.kept and a.kept_arrays <= b.kept_arrays

    return [m for m in moves if not any(below(m, other) for other in moves)]


def domain_values(lo: int, hi: int, count: int) -> list[int]:
    """``count`` values of ``[lo, hi]`` spread evenly, both ends included; all when fewer."""
    if hi - lo + 1 <= count:
        return list(range(lo, hi + 1))
    return sorted({lo + (hi - lo) * k // max(count - 1, 1) for k in range(count)})


def _domain(ranges: Mapping[str, tuple[int, int]]) -> Iterator[dict[str, int]]:
    per = max(2, int(DOMAIN_LIMIT ** (1 / max(len(ranges), 1))))
    values = [domain_values(lo, hi, per) for lo, hi in ranges.values()]
    for combination in itertools.product(*values):
        yield dict(zip(ranges, combination, strict=True))


def _witness(
    domain: list[dict[str, int]],
    names: Sequence[str],
    kept: Sequence[str],
    arrays: Mapping[str, Shape],
    kept_arrays: Sequence[str],
) -> dict[str, int] | None:
    """Sizes from which another assignment agrees on ``kept`` and on the sizes of
    ``kept_arrays`` while differing on every other dimension; None when there are none."""
    changed = [d for d in names if d not in kept]
    groups: dict[tuple[int, ...], list[dict[str, int]]] = {}
    for sizes in domain:
        key = tuple(sizes[d] for d in kept) + tuple(
            array_size(arrays[a], sizes) for a in kept_arrays
        )
        groups.setdefault(key, []).append(sizes)
    for group in groups.values():
        for a, b in itertools.combinations(group, 2):
            if all(a[d] != b[d] for d in changed):
                return a
    return None
