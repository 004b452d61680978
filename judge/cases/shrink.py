"""Shrinking: a failing case made smaller, step by step, the same way every time.

Shape inputs are first halved together (a structural mistake may fail the same way only while
two sizes stay equal), then integer inputs are bisected one by one (the smallest value that
still fails, between the largest one seen to pass and the current one: about 31 calls for a
seed in ``[0, 2**31)``); then array values are made plainer. Every step must fail the same
way and be strictly simpler (``Case.complexity``), and the whole search is bounded by a number
of calls, never by a clock, so the same file always shrinks to the same case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..problem import ArrayInput, Problem
from .case import Case, Value
from .strategies import _shape_of, satisfies

# At most this many distinct cases are tried while shrinking one failure.
MAX_SHRINK_CALLS = 150


def _bisect(value: int, low: int, floor: int | None) -> int | None:
    """The next value to try below ``value``: the range's low end first, then halfway between
    the largest value known to pass (``floor``) and ``value``; None when ``value`` is the
    smallest that fails."""
    if value <= low:
        return None
    if floor is None:
        return low
    middle = (floor + value) // 2
    return middle if floor < middle < value else None


def _simple_nonzero(spec: ArrayInput) -> float:
    for candidate in (1.0, -1.0, spec.max, spec.min):
        if spec.min <= candidate <= spec.max and abs(candidate) >= spec.min_magnitude:
            return candidate
    return spec.max


def _resized(problem: Problem, case: Case, name: str, value: int) -> Case | None:
    ints = {i.name: int(case.values[i.name]) for i in problem.int_inputs}
    ints[name] = value
    changes: dict[str, Value] = {name: value}
    for spec in problem.array_inputs:
        array = case.values[spec.name]
        assert isinstance(array, np.ndarray)
        new_shape = _shape_of(spec, ints)
        if new_shape == array.shape:
            continue
        sliced = array[tuple(slice(0, d) for d in new_shape)].copy()
        if not satisfies(spec, sliced):
            sliced.reshape(-1)[0] = _simple_nonzero(spec)
        if not satisfies(spec, sliced):
            return None
        changes[spec.name] = sliced
    return case.replace(changes)


def shrink_candidates(
    problem: Problem, case: Case, floors: dict[str, int] | None = None
) -> Iterator[Case]:
    """Simpler variants of a failing case, most promising first.

    Every shape input halved at once, then one bisection step for each integer input (shape
    inputs first: each costs a compile;
    ``floors`` holds, per input, the largest value seen to pass with the others as they are),
    then plainer array values at the same shape (cheap): all ones, rounded values, single
    elements zeroed. Every candidate is one the problem could have generated, and strictly
    simpler than ``case`` by ``Case.complexity``.
    """
    for candidate, _ in _simpler(problem, case, floors or {}):
        yield candidate


def _simpler(
    problem: Problem, case: Case, floors: dict[str, int]
) -> Iterator[tuple[Case, str | None]]:
    """Candidates with the integer input each one bisects (None for array changes)."""
    for candidate, name in _candidates(problem, case, floors):
        if candidate.complexity(problem) < case.complexity(problem):
            yield candidate, name


def _together(problem: Problem, case: Case) -> Case | None:
    """Every shape input halfway down to its low end at once, or None when fewer than two
    would change.

    A structural mistake often fails the same way only while two sizes stay equal (a batch
    mapped over the wrong axis of an input gives an output of the right shape only while both
    axes have the same size): moving one size alone changes how it fails, so bisecting each
    alone stalls at the sizes the plan drew. Halving them together keeps them equal and
    reaches the smallest shape that still fails, and with it a short reproducer.
    """
    sizes = {s.name: int(case.values[s.name]) for s in problem.shape_inputs}
    lower = {s.name: s.min + (sizes[s.name] - s.min) // 2 for s in problem.shape_inputs}
    if sum(lower[n] < sizes[n] for n in sizes) < 2:
        return None
    candidate: Case | None = case
    for name, value in lower.items():
        if candidate is not None and value < sizes[name]:
            candidate = _resized(problem, candidate, name, value)
    return candidate


def _candidates(
    problem: Problem, case: Case, floors: dict[str, int]
) -> Iterator[tuple[Case, str | None]]:
    together = _together(problem, case)
    if together is not None:
        yield together, None
    for spec in problem.shape_inputs:
        value = _bisect(int(case.values[spec.name]), spec.min, floors.get(spec.name))
        if value is not None:
            candidate = _resized(problem, case, spec.name, value)
            if candidate is not None:
                yield candidate, spec.name
    for spec in problem.value_inputs:
        value = _bisect(int(case.values[spec.name]), spec.min, floors.get(spec.name))
        if value is not None:
            yield case.replace({spec.name: value}), spec.name
    for array_spec in problem.array_inputs:
        array = case.values[array_spec.name]
        assert isinstance(array, np.ndarray)
        simple = _simple_nonzero(array_spec)
        options = [np.full(array.shape, simple, dtype=array.dtype)]
        if array.dtype.kind == "f":
            options += [np.round(array), np.round(array * 2) / 2, np.round(array, 1)]
        if array.size <= 16:
            for flat in range(array.size):
                if array.reshape(-1)[flat] != 0:
                    zeroed = array.copy()
                    zeroed.reshape(-1)[flat] = 0
                    options.append(zeroed)
        for option in options:
            option = np.clip(option, array_spec.min, array_spec.max).astype(array.dtype)
            if satisfies(array_spec, option) and not np.array_equal(option, array):
                yield case.replace({array_spec.name: option}), None


class ShrinkStopped(Exception):
    """Raised by a ``fails`` callback to end shrinking where it is (the grading's deadline)."""


@dataclass(frozen=True)
class Shrunk:
    """Where shrinking ended: the case, the steps taken to it, the distinct cases tried."""

    case: Case
    steps: int
    calls: int


def shrink(
    problem: Problem,
    case: Case,
    fails: Callable[[Case], bool],
    max_calls: int = MAX_SHRINK_CALLS,
) -> Shrunk:
    """The smallest case reached from ``case`` through cases for which ``fails`` is True.

    Greedy: the first candidate that fails becomes the current case and the candidates start
    over; a bisection candidate that does not fail raises that input's floor. ``fails`` is
    called at most once per distinct case and at most ``max_calls`` times in all.
    """
    seen: dict[str, bool] = {case.key: True}
    floors: dict[str, int] = {}
    current, steps = case, 0
    try:
        while True:
            for candidate, name in _simpler(problem, current, floors):
                if candidate.key not in seen:
                    if len(seen) - 1 >= max_calls:
                        return Shrunk(current, steps, len(seen) - 1)
                    seen[candidate.key] = fails(candidate)
                if seen[candidate.key]:
                    # A bisected input keeps its floor; any other change voids every floor.
                    floors = {name: floors[name]} if name in floors else {}
                    current, steps = candidate, steps + 1
                    break
                if name is not None:
                    floors[name] = int(candidate.values[name])
                    break
            else:
                return Shrunk(current, steps, len(seen) - 1)
    except ShrinkStopped:
        return Shrunk(current, steps, len(seen) - 1)
