"""Shrinking: smaller shapes sparingly, same-shape simplifications freely."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..problem import ArrayInput, Problem
from .case import Case, Value
from .strategies import _shape_of, satisfies


def _smaller(value: int, low: int) -> list[int]:
    out: list[int] = []
    for candidate in (low, low + 1, low + (value - low) // 2, value - 1):
        if low <= candidate < value and candidate not in out:
            out.append(candidate)
    return out


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


def shrink_candidates(problem: Problem, case: Case) -> Iterator[Case]:
    """Simpler variants of a failing case, most promising first.

    Smaller shapes first (each costs a compile), then smaller value inputs, then plainer
    array values at the same shape (cheap): all ones, rounded values, single elements zeroed.
    Every candidate is one the problem could have generated, and strictly simpler than
    ``case`` by ``Case.complexity``.
    """
    for candidate in _candidates(problem, case):
        if candidate.complexity(problem) < case.complexity(problem):
            yield candidate


def _candidates(problem: Problem, case: Case) -> Iterator[Case]:
    for spec in problem.shape_inputs:
        for value in _smaller(int(case.values[spec.name]), spec.min):
            candidate = _resized(problem, case, spec.name, value)
            if candidate is not None:
                yield candidate
    for spec in problem.value_inputs:
        for value in _smaller(int(case.values[spec.name]), spec.min):
            yield case.replace({spec.name: value})
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
                yield case.replace({array_spec.name: option})
