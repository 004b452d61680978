"""Repeated inputs: the plan's last round meets inputs it met before, so that state kept between
calls shows.

A function that caches its answer keyed on the seed alone answers a later call with the same
seed and another ``x_batch`` with the earlier answer; one keyed on ``x_batch`` alone does the
same with another seed; one that counts its calls, or draws from a generator it never resets,
answers the same inputs twice in two ways. So the last round replaces some of its fresh cases
with derived ones, each from an earlier case of the same shape (no new shape, no new compile):

- for each value parameter (a seed): the earlier case's other parameters, another value;
- for each array parameter: the earlier case's other parameters, another array;
- for each dimension passed as a parameter of its own (``features``: no array's shape holds
  it), the earlier case's arrays and values with another size: a cache keyed on the arrays and
  the seed alone answers with the earlier case's output. This one case is a shape the plan does
  not otherwise meet (one compile more): the arrays fix every other dimension;
- two exact repeats of earlier cases, in the reverse of the order they first ran.

Every derived case lies after the case it repeats, with other calls between them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..problem import ArrayInput, IntInput, Problem
from .case import Case, Value


def _value_params(problem: Problem) -> list[IntInput]:
    return [i for i in problem.value_inputs if i.name in problem.parameters]


def _array_params(problem: Problem) -> list[ArrayInput]:
    return [a for a in problem.array_inputs if a.name in problem.parameters]


def _free_dimension_params(problem: Problem) -> list[IntInput]:
    """Shape inputs passed to the entry point that no array's shape holds: only a call with
    the same arrays and another size of these tells a cache that ignores them."""
    in_arrays = {d for a in problem.array_inputs for d in a.shape if isinstance(d, str)}
    return [
        i for i in problem.shape_inputs if i.name in problem.parameters and i.name not in in_arrays
    ]


def extra_shapes(problem: Problem) -> int:
    """How many shapes the repeats may add to the ``distinct_shapes`` that cover the ranges:
    one per dimension passed on its own."""
    return len(_free_dimension_params(problem))


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


def _derived(problem: Problem, slot: Case, earlier: Case, kind: str, name: str) -> Case | None:
    """The slot's case turned into one that shares all but ``name`` with ``earlier``."""
    if kind in ("value", "dimension"):
        spec = problem.inputs[name]
        assert isinstance(spec, IntInput)
        value = _other_value(spec, int(earlier.values[name]), int(slot.values[name]))
        if value is None:
            return None
        return Case({**earlier.values, name: value}, "repeat_inputs", earlier.kinds)
    array = slot.values[name]
    previous = earlier.values[name]
    assert isinstance(array, np.ndarray) and isinstance(previous, np.ndarray)
    if array.shape != previous.shape or np.array_equal(array, previous):
        return None
    changes: dict[str, Value] = {name: array}
    kinds = dict(earlier.kinds)
    if name in slot.kinds:
        kinds[name] = slot.kinds[name]
    else:
        kinds.pop(name, None)
    return Case({**earlier.values, **changes}, "repeat_inputs", kinds)


def add_repeats(problem: Problem, cases: Sequence[Case], shapes: int) -> list[Case]:
    """The plan with derived cases in place of some of its last round's fresh ones.

    ``cases`` come round after round, one case per shape each round (``plan._interleave``);
    a plan with a single round has nothing earlier to repeat and comes back unchanged.
    """
    out = list(cases)
    rounds = -(-len(out) // shapes) if shapes else 0
    if rounds < 2:
        return out
    last = (rounds - 1) * shapes
    wanted: list[tuple[str, str]] = [("value", s.name) for s in _value_params(problem)]
    wanted += [("array", s.name) for s in _array_params(problem)]
    wanted += [("dimension", s.name) for s in _free_dimension_params(problem)]
    wanted += [("exact", ""), ("exact", "")]
    # A short last round borrows the end of the round before: every kind of repeat is kept.
    first = max(shapes, min(last, len(out) - len(wanted)))
    positions = _slots(first, len(out) - first, len(wanted))
    exact_sources = sorted(range(min(shapes, first)), key=lambda j: -j)[:2]  # later one first
    for position, (kind, name) in zip(positions, wanted, strict=False):
        if kind == "exact":
            if not exact_sources:
                continue
            source = out[exact_sources.pop(0)]
            out[position] = Case(source.values, "repeat", source.kinds)
            continue
        earlier = out[position - shapes]  # the same shape, one round before
        derived = _derived(problem, out[position], earlier, kind, name)
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
