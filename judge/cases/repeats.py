"""Repeated inputs: the plan's last round meets inputs it met before, so that state kept between
calls shows.

A function that caches something keyed on part of its arguments answers a later call that
shares the key with what it kept for an earlier one; one that counts its calls, or draws from a
generator it never resets, answers the same inputs twice in two ways. So the last round (and,
when it is short, the end of the round before) replaces fresh cases with derived ones, each
made from an earlier case, with other calls between them:

- for each value parameter (a seed): the earlier case's other arguments, another value;
- for each array parameter: the earlier case's other arguments, another array of its shape;
- for each of ``facets.dimension_moves``: the earlier case's values, the dimensions the move
  keeps, the bytes of the arrays it keeps (reshaped), every other dimension changed and the
  other arrays drawn again at their new shape (for an x of shape (batch, in_dim) and a features
  parameter: batch alone, in_dim alone, features alone, batch and in_dim together around the
  same bytes of x). Each may be a
  shape the plan does not otherwise meet (one compile more): one already met is preferred.
  A reshape needs sizes another split shares: where no planned shape has them, an *anchor*
  case at such sizes comes first (one more case and shape; never for the bundled problems);
- two exact repeats of earlier cases, in the reverse of the order they first ran.

So every key made of a proper part of the facets (``facets``) is caught: for each facet g
outside the key that two valid inputs can differ on while sharing the key, some derived case
shares the key with an earlier case and differs on g. This holds when the plan has room for
every derived case (``count - distinct_shapes`` at least ``len(wanted_repeats(problem))``); a
shorter plan keeps those listed first.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence

import numpy as np

from ..problem import ArrayInput, IntInput, Problem
from .case import Case, Value
from .facets import DimensionMove, array_size, dimension_moves, dimension_names, domain_values
from .strategies import _draw_many, _shape_of, _sub_seed, array_strategy

Wanted = tuple[str, str | DimensionMove]


def _value_params(problem: Problem) -> list[IntInput]:
    return [i for i in problem.value_inputs if i.name in problem.parameters]


def _array_params(problem: Problem) -> list[ArrayInput]:
    return [a for a in problem.array_inputs if a.name in problem.parameters]


def extra_shapes(problem: Problem) -> int:
    """How many shapes the repeats may add to the ``distinct_shapes`` that cover the ranges: at
    most one per dimension move and per anchor (none when a move lands on a shape met)."""
    return sum(kind in ("dimension", "anchor") for kind, _ in wanted_repeats(problem))


def wanted_repeats(problem: Problem, first_round: Sequence[Case] | None = None) -> list[Wanted]:
    """The derived cases, in the order they are placed: an anchor for each dimension move that
    no case of ``first_round`` (the plan's shapes) allows, then values, arrays, dimension moves
    and two exact repeats. Without ``first_round``, an anchor for each move that changes
    several dimensions (a reshape: the only ones some shapes do not allow), so at most."""
    moves = dimension_moves(problem)
    wanted: list[Wanted] = [("anchor", m) for m in moves if _needs_anchor(problem, m, first_round)]
    wanted += [("value", s.name) for s in _value_params(problem)]
    wanted += [("array", s.name) for s in _array_params(problem)]
    wanted += [("dimension", move) for move in moves]
    return [*wanted, ("exact", ""), ("exact", "")]


def _needs_anchor(
    problem: Problem, move: DimensionMove, first_round: Sequence[Case] | None
) -> bool:
    """Whether no planned shape allows the move. A dimension changed alone is allowed from any
    shape (its range has another value); a reshape needs sizes that another split has."""
    if len(move.changed(dimension_names(problem))) < 2:
        return False
    if first_round is None:
        return True
    return not any(next(_moved_sizes(problem, move, c), None) for c in first_round)


def _slots(first: int, count: int, wanted: int) -> list[int]:
    """``wanted`` positions among ``first .. first + count - 1``, every other one when there is
    room (a fresh case between two derived ones), else the first ``wanted``."""
    positions = list(range(first, first + count))
    spread = positions[1::2]
    if len(spread) >= wanted:
        return spread[:wanted]
    rest = [p for p in positions if p not in spread]
    return sorted(spread + rest[: wanted - len(spread)])


def _other_value(spec: IntInput, earlier: int, drawn: int) -> int | None:
    """``drawn``, or a neighbour of ``earlier`` when they coincide; None when the range has
    only one value."""
    if drawn != earlier:
        return drawn
    for candidate in (earlier + 1, earlier - 1):
        if spec.min <= candidate <= spec.max:
            return candidate
    return None


def _derived(
    problem: Problem, slot: Case, earlier: Case, kind: str, name: str, seed: int
) -> Case | None:
    """The slot's case turned into one that shares all but ``name`` with ``earlier``."""
    if kind == "value":
        spec = problem.inputs[name]
        assert isinstance(spec, IntInput)
        value = _other_value(spec, int(earlier.values[name]), int(slot.values[name]))
        if value is None:
            return None
        return Case({**earlier.values, name: value}, "repeat_inputs", earlier.kinds)
    spec = problem.inputs[name]
    assert isinstance(spec, ArrayInput)
    array = _other_array(spec, slot.values[name], earlier.values[name], seed)
    if array is None:
        return None
    kinds = dict(earlier.kinds)
    if name in slot.kinds:
        kinds[name] = slot.kinds[name]
    else:
        kinds.pop(name, None)
    return Case({**earlier.values, name: array}, "repeat_inputs", kinds)


def _other_array(spec: ArrayInput, drawn: Value, previous: Value, seed: int) -> np.ndarray | None:
    """``drawn``, or when it is the same as ``previous`` (a small array in a narrow range) one
    drawn again that is not; None when none is found."""
    assert isinstance(drawn, np.ndarray) and isinstance(previous, np.ndarray)
    candidates = [drawn] if drawn.shape == previous.shape else []
    if not candidates or np.array_equal(drawn, previous):
        strategy = array_strategy(spec, previous.shape)
        candidates = _draw_many(strategy, 5, _sub_seed(seed, "other", spec.name), tries=5)
    return next((a for a in candidates if not np.array_equal(a, previous)), None)


def _moved_sizes(problem: Problem, move: DimensionMove, before: Case) -> Iterator[dict[str, int]]:
    """Every size of the changed dimensions that the move allows from ``before``: each changed,
    each within its range, the kept arrays' sizes unchanged. Candidates: a spread of each range
    and the sizes ``before`` has (so that a reshape may swap two of them)."""
    names = dimension_names(problem)
    changed = move.changed(names)
    sizes = {d: int(before.values[d]) for d in names}
    choices = []
    for name in changed:
        spec = problem.inputs[name]
        assert isinstance(spec, IntInput)
        found = set(domain_values(spec.min, spec.max, 16)) | set(sizes.values())
        choices.append(sorted(v for v in found if spec.min <= v <= spec.max and v != sizes[name]))
    shapes = {a.name: a.shape for a in problem.array_inputs}
    for combination in itertools.product(*choices):
        after = {**sizes, **dict(zip(changed, combination, strict=True))}
        if all(
            array_size(shapes[a], after) == array_size(shapes[a], sizes) for a in move.kept_arrays
        ):
            yield dict(zip(changed, combination, strict=True))


def _moved(
    problem: Problem, before: Case, sizes: dict[str, int], move: DimensionMove, seed: int
) -> Case | None:
    """``before`` with ``sizes``: kept arrays reshaped, the others drawn again; None when an
    array cannot be drawn."""
    values: dict[str, Value] = {**before.values, **sizes}
    for spec in problem.array_inputs:
        old = before.values[spec.name]
        assert isinstance(old, np.ndarray)
        shape = _shape_of(
            spec, {k: int(v) for k, v in values.items() if not isinstance(v, np.ndarray)}
        )
        if shape == old.shape:
            continue
        if spec.name in move.kept_arrays:
            values[spec.name] = old.reshape(shape)
            continue
        drawn = _draw_many(array_strategy(spec, shape), 1, _sub_seed(seed, spec.name), tries=2)
        if not drawn:
            return None
        values[spec.name] = drawn[0]
    return Case(values, "repeat_inputs", before.kinds)


def _dimension_case(
    problem: Problem,
    out: Sequence[Case],
    position: int,
    shapes: int,
    move: DimensionMove,
    seed: int,
) -> Case | None:
    """The move made from an earlier case with at least one call between: a shape the plan
    already meets when one allows it, else the case one round before when it allows the move,
    the pick among sizes seeded by the plan."""
    rng = random.Random(_sub_seed(seed, "repeat", position))
    met = {c.shape_key(problem) for c in out}
    earlier = [position - shapes] if position - shapes >= 0 else []
    earlier += [i for i in range(position - 2, -1, -1) if i != position - shapes]
    best: tuple[bool, int, float] | None = None
    chosen: tuple[Case, dict[str, int]] | None = None
    for rank, index in enumerate(earlier):
        for sizes in _moved_sizes(problem, move, out[index]):
            shape = tuple(
                sizes.get(i.name, int(out[index].values[i.name])) for i in problem.shape_inputs
            )
            score = (shape not in met, rank, rng.random())
            if best is None or score < best:
                best, chosen = score, (out[index], sizes)
    if chosen is None:
        return None
    return _moved(problem, chosen[0], chosen[1], move, _sub_seed(seed, "repeat", position))


def _anchor_case(problem: Problem, earlier: Case, move: DimensionMove, seed: int) -> Case | None:
    """``earlier`` at the sizes the move can be made from (its witness), arrays drawn again: a
    shape the covering shapes lack, met before the move is made from it."""
    names = set(dimension_names(problem))
    sizes = {d: v for d, v in move.witness if d in names}
    return _moved(problem, earlier, sizes, DimensionMove(frozenset(), frozenset()), seed)


def _make(
    problem: Problem, out: Sequence[Case], position: int, shapes: int, wanted: Wanted, seed: int
) -> Case | None:
    """One derived case for the slot at ``position``, or None when it cannot be made."""
    kind, what = wanted
    sub_seed = _sub_seed(seed, "repeat", position)
    if isinstance(what, DimensionMove):
        if kind == "anchor":
            return _anchor_case(problem, out[position - shapes], what, sub_seed)
        return _dimension_case(problem, out, position, shapes, what, seed)
    # a value or an array: the same shape, one round before
    return _derived(problem, out[position], out[position - shapes], kind, what, sub_seed)


def add_repeats(problem: Problem, cases: Sequence[Case], shapes: int, seed: int = 0) -> list[Case]:
    """The plan with derived cases in place of some of its last round's fresh ones.

    ``cases`` come round after round, one case per shape each round (``plan._interleave``);
    a plan with a single round has nothing earlier to repeat and comes back unchanged.
    """
    out = list(cases)
    rounds = -(-len(out) // shapes) if shapes else 0
    if rounds < 2:
        return out
    last = (rounds - 1) * shapes
    wanted = wanted_repeats(problem, out[:shapes])
    # A short last round borrows the end of the round before: every kind of repeat is kept.
    first = max(shapes, min(last, len(out) - len(wanted)))
    positions = _slots(first, len(out) - first, len(wanted))
    exact_sources = sorted(range(min(shapes, first)), key=lambda j: -j)[:2]  # later one first
    for position, entry in zip(positions, wanted, strict=False):
        derived: Case | None = None
        if entry[0] != "exact":
            derived = _make(problem, out, position, shapes, entry, seed)
        elif exact_sources:
            source = out[exact_sources.pop(0)]
            derived = Case(source.values, "repeat", source.kinds)
        if derived is not None:
            out[position] = derived
    return out


def repeated_pairs(cases: Sequence[Case]) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of cases with identical inputs (for tests and reports)."""
    first: dict[str, int] = {}
    pairs = []
    for index, case in enumerate(cases):
        if case.key in first:
            pairs.append((first[case.key], index))
        else:
            first[case.key] = index
    return pairs
