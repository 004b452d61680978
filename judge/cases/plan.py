"""The case plan: few distinct shapes (the boundary ones first, all of them chosen to cover the
declared ranges), many values for each, and repeated inputs that catch state kept between
calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from ..errors import ProblemError
from ..problem import Problem
from .case import Case, Value
from .cover import cover_shapes
from .repeats import add_repeats
from .strategies import _draw_many, _shape_of, _sub_seed, array_strategy


def _plan_shapes(problem: Problem, seed: int) -> list[dict[str, int]]:
    specs = {i.name: i for i in problem.shape_inputs}
    return cover_shapes(
        specs, problem.cases.boundary, problem.cases.distinct_shapes, _sub_seed(seed, "shapes")
    )


def plan_cases(problem: Problem, seed: int = 0) -> list[Case]:
    """The cases, in the order they run: each shape once, boundary shapes first, then again.

    Value inputs (a seed) take their range's ends on the first two cases; array inputs that
    may come as several kinds (numpy, jax) take each in turn; the last round repeats inputs
    met before (``repeats``). Raises ProblemError if the inputs can generate no case at all: a
    spec that generates nothing is an error.
    """
    shapes = _plan_shapes(problem, seed)
    if not shapes:
        raise ProblemError(
            str(problem.directory / "problem.yaml"),
            [("cases", "no input shape could be generated")],
        )
    count = problem.cases.count
    per_shape = [
        count // len(shapes) + (1 if j < count % len(shapes) else 0) for j in range(len(shapes))
    ]
    drawn = [_draw_values(problem, shape, per_shape[j], seed, j) for j, shape in enumerate(shapes)]
    cases = _interleave(problem, drawn, len(shapes), max(per_shape))
    _place_value_ends(problem, cases)
    _assign_kinds(problem, cases, len(shapes))
    _distinct(problem, cases)
    return add_repeats(problem, cases, len(shapes), seed)


def _draw_values(
    problem: Problem, shape: dict[str, int], count: int, seed: int, j: int
) -> list[dict[str, Value]]:
    """``count`` cases of one shape: its dimensions plus drawn values and arrays."""
    parts: dict[str, st.SearchStrategy[Any]] = {
        i.name: st.integers(i.min, i.max) for i in problem.value_inputs
    }
    for spec in problem.array_inputs:
        parts[spec.name] = array_strategy(spec, _shape_of(spec, shape))
    examples = _draw_many(
        st.fixed_dictionaries(parts), count, _sub_seed(seed, "values", j), tries=count * 3 + 10
    )
    if not examples:
        raise ProblemError(
            str(problem.directory / "problem.yaml"),
            [("inputs", f"no input could be generated for shape {shape}")],
        )
    return [{**shape, **values} for values in examples]


def _interleave(
    problem: Problem, drawn: list[list[dict[str, Value]]], shapes: int, rounds: int
) -> list[Case]:
    """Round after round, one case of each shape; the first round's boundary cases take their
    entry's value inputs."""
    cases: list[Case] = []
    boundary_count = min(len(problem.cases.boundary), shapes)
    for round_ in range(rounds):
        for j in range(shapes):
            if round_ >= len(drawn[j]):
                continue
            values = drawn[j][round_]
            origin = "generated"
            if round_ == 0 and j < boundary_count:
                entry = problem.cases.boundary[j]
                for spec in problem.value_inputs:
                    if spec.name in entry:
                        wanted = entry[spec.name]
                        values[spec.name] = (
                            spec.min
                            if wanted == "min"
                            else spec.max
                            if wanted == "max"
                            else int(wanted)
                        )
                origin = "boundary"
            cases.append(Case(values, origin))
    return cases


def _place_value_ends(problem: Problem, cases: list[Case]) -> None:
    """Both ends of each value input's range, on the first cases whose boundary entry leaves it
    free; an end a boundary entry already set need not be placed again."""
    for spec in problem.value_inputs:
        placed = {
            cases[i].values[spec.name]
            for i in range(len(cases))
            if spec.name in _boundary_entry(problem, i)
        }
        free = (i for i in range(len(cases)) if spec.name not in _boundary_entry(problem, i))
        for end in (spec.min, spec.max):
            if end in placed:
                continue
            index = next(free, None)
            if index is not None:
                cases[index] = cases[index].replace({spec.name: end}, cases[index].origin)


def _distinct(problem: Problem, cases: list[Case]) -> None:
    """No fresh case repeats an earlier one by chance (a 1 x 1 shape's drawn values can be a
    boundary case's): the exact repeats the last round adds are the plan's only ones, met in
    the order it chooses. A duplicate's first value input moves to the nearest unused value."""
    seen: set[str] = set()
    specs = problem.value_inputs
    for index, case in enumerate(cases):
        for step in range(1, 64):
            if case.key not in seen or not specs:
                break
            spec = specs[0]
            value = int(case.values[spec.name])
            moved = value + step if value + step <= spec.max else value - step
            case = cases[index].replace({spec.name: max(spec.min, moved)}, case.origin)
        cases[index] = case
        seen.add(case.key)


def _boundary_entry(problem: Problem, index: int) -> Mapping[str, int | str]:
    boundary = problem.cases.boundary
    return boundary[index] if index < len(boundary) else {}


def _assign_kinds(problem: Problem, cases: list[Case], shapes: int) -> None:
    """Each array input declared with several kinds takes them in turn, case by case and, for
    each shape, round by round (so every shape meets each kind when it has the cases)."""
    for spec in problem.array_inputs:
        if len(spec.kinds) < 2:
            continue
        for index, case in enumerate(cases):
            kind = spec.kinds[(index + index // max(shapes, 1)) % len(spec.kinds)]
            kinds = {k: v for k, v in case.kinds.items() if k != spec.name}
            if kind != "numpy":
                kinds[spec.name] = kind
            cases[index] = Case(case.values, case.origin, kinds)
