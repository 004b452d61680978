"""Every cache keyed on part of the arguments is caught by the plan: checked by enumeration.

A facet is what a cache key can be made of (``judge/cases/facets.py``, restated here on its
own): each value parameter, each array parameter's bytes (not its shape), each dimension (named
in an array parameter's shape, or passed as a parameter itself). For every proper non-empty set
S of facets and every facet g outside S that two valid inputs can differ on while agreeing on S
(worked out here by brute force over every size of every dimension), a cache keyed on S that
keeps something depending on g (the answer; the variables, which depend on in_dim) is run over
the plan in order: it stores the first call's g under the key and is caught when a later call
with the same key has another g. Every such (S, g) must be caught. No JAX: the planned inputs
only. In both bundled problems a change of any facet changes the reference's answer: another
seed or in_dim other params, another x_batch other outputs, another batch or features (or a
reshape of x_batch) another output length.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from judge.cases import Case, extra_shapes, plan_cases
from judge.cases.facets import facets
from judge.cases.repeats import wanted_repeats
from judge.problem import ArrayInput, CaseSpec, IntInput, Problem, load_problem

PROBLEMS = {name: load_problem(name) for name in ("nn_vmap_forward", "nn_vmap_ensemble")}
NESTED = settings(
    deadline=None,
    max_examples=4,
    database=None,
    # plan_cases runs its own seeded Hypothesis search; nesting it here is what is tested.
    suppress_health_check=[HealthCheck.nested_given, HealthCheck.too_slow],
)
# The shapes the repeats add to each bundled problem's distinct_shapes at most, and how many
# cases they derive: one per value, one per array, batch, in_dim, features, batch and in_dim
# swapped around the same bytes; and two exact repeats. (No anchor: some covering shape always
# has batch != in_dim, which allows the swap.)
EXTRA_SHAPES = 4
DERIVED_CASES = 8

Facets = dict[str, str]  # name: "value", "array" or "dimension"
Key = frozenset[str]


@functools.cache
def plan(name: str, seed: int) -> tuple[Case, ...]:
    return tuple(plan_cases(PROBLEMS[name], seed))


def facets_of(problem: Problem) -> Facets:
    arrays = [a for a in problem.array_inputs if a.name in problem.parameters]
    named = {d for a in arrays for d in a.shape if isinstance(d, str)}
    found = {i.name: "value" for i in problem.value_inputs if i.name in problem.parameters}
    found.update({a.name: "array" for a in arrays})
    for spec in problem.shape_inputs:
        if spec.name in named or spec.name in problem.parameters:
            found[spec.name] = "dimension"
    return found


def facet(case: Case, name: str) -> int | bytes:
    value = case.values[name]
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value).tobytes()
    return int(value)


def keys(facets: Facets) -> Iterator[Key]:
    """Every proper non-empty set of facets."""
    for size in range(1, len(facets)):
        for names in itertools.combinations(sorted(facets), size):
            yield frozenset(names)


def needed(problem: Problem, facets: Facets, key: Key) -> list[str]:
    """The facets outside ``key`` that two valid inputs can differ on while agreeing on it: a
    value or an array always can; a dimension when two sizings agree on the key's dimensions
    and on the sizes of the key's arrays and differ on it."""
    dims = [n for n, kind in facets.items() if kind == "dimension"]
    arrays = {a.name: a.shape for a in problem.array_inputs if a.name in key}
    groups: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
    ranges = [range(problem.inputs[d].min, problem.inputs[d].max + 1) for d in dims]  # type: ignore[union-attr]
    for values in itertools.product(*ranges):
        sizes = dict(zip(dims, values, strict=True))
        group = tuple(sizes[d] for d in dims if d in key) + tuple(
            math.prod(sizes[d] if isinstance(d, str) else d for d in shape)
            for shape in arrays.values()
        )
        groups.setdefault(group, set()).add(values)
    out = [n for n, kind in facets.items() if n not in key and kind != "dimension"]
    for k, name in enumerate(dims):
        if name not in key and any(len({v[k] for v in g}) > 1 for g in groups.values()):
            out.append(name)
    return out


def caught(cases: Sequence[Case], key: Key, differing: str) -> bool:
    """Whether a cache keyed on ``key``, filled by the first call with each key, meets a later
    call with that key and another ``differing``."""
    stored: dict[tuple[int | bytes, ...], int | bytes] = {}
    for case in cases:
        found = tuple(facet(case, name) for name in sorted(key))
        value = facet(case, differing)
        if stored.setdefault(found, value) != value:
            return True
    return False


def missed(problem: Problem, cases: Sequence[Case]) -> list[tuple[list[str], str]]:
    """Each (key, facet) a cache could get wrong that the plan never shows."""
    facets = facets_of(problem)
    return [
        (sorted(key), g)
        for key in keys(facets)
        for g in needed(problem, facets, key)
        if not caught(cases, key, g)
    ]


def check_sizes(problem: Problem, cases: Sequence[Case], bound: int) -> None:
    """The declared count of cases; at most ``bound`` shapes beyond the declared ones, a bound
    ``extra_shapes`` states too."""
    assert len(cases) == problem.cases.count
    shapes = {c.shape_key(problem) for c in cases}
    assert len(shapes) <= problem.cases.distinct_shapes + min(bound, extra_shapes(problem))


# --- the bundled problems ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_every_partial_key_is_caught(name: str, seed: int) -> None:
    problem = PROBLEMS[name]
    cases = plan(name, seed)
    assert not missed(problem, cases)
    check_sizes(problem, cases, EXTRA_SHAPES)
    derived = [c for c in cases if c.origin in ("repeat_inputs", "repeat")]
    assert len(derived) == DERIVED_CASES
    assert all(c.origin in ("boundary", "generated") for c in cases[: problem.cases.count // 2])


@NESTED
@given(st.sampled_from(sorted(PROBLEMS)), st.integers(0, 2**64 - 1))
@example("nn_vmap_forward", 2**64 - 1)
def test_any_plan_seed_catches_every_partial_key(name: str, seed: int) -> None:
    problem = PROBLEMS[name]
    cases = plan_cases(problem, seed)
    assert not missed(problem, cases)
    check_sizes(problem, cases, EXTRA_SHAPES)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_the_judge_and_this_test_mean_the_same_facets(name: str) -> None:
    problem = PROBLEMS[name]
    assert {f.name: f.kind for f in facets(problem)} == facets_of(problem)
    assert facets_of(problem) == {
        "seed": "value",
        "x_batch": "array",
        "batch": "dimension",
        "in_dim": "dimension",
        "features": "dimension",
    }


def test_the_issue_cache_is_caught_by_another_in_dim() -> None:
    """Variables kept by (seed, features): a later call with both and another in_dim."""
    problem = PROBLEMS["nn_vmap_forward"]
    key = frozenset({"seed", "features"})
    assert "in_dim" in needed(problem, facets_of(problem), key)
    for seed in (0, 1, 2):
        assert caught(plan("nn_vmap_forward", seed), key, "in_dim")


def test_a_key_that_fixes_every_facet_needs_nothing() -> None:
    """x_batch's bytes and batch fix in_dim; its bytes alone do not (a (2, 3) array and its
    (3, 2) reshape), nor do batch and features."""
    problem = PROBLEMS["nn_vmap_forward"]
    facets = facets_of(problem)
    assert needed(problem, facets, frozenset({"seed", "x_batch", "batch", "features"})) == []
    assert needed(problem, facets, frozenset({"seed", "x_batch", "features"})) == [
        "batch",
        "in_dim",
    ]
    assert "in_dim" in needed(problem, facets, frozenset({"seed", "batch", "features"}))


def test_the_simulated_cache_tells_a_stale_key_from_a_right_one() -> None:
    x, y = np.ones((1, 2), np.float32), np.zeros((2, 1), np.float32)
    calls = [
        Case({"seed": 1, "batch": 1, "in_dim": 2, "features": 3, "x_batch": x}),
        Case({"seed": 2, "batch": 1, "in_dim": 2, "features": 3, "x_batch": x}),
        Case({"seed": 1, "batch": 2, "in_dim": 1, "features": 3, "x_batch": y}),
    ]
    assert caught(calls, frozenset({"x_batch"}), "seed")
    assert caught(calls, frozenset({"seed", "features"}), "in_dim")
    assert not caught(calls, frozenset({"seed", "batch"}), "in_dim")
    assert not caught(calls, frozenset({"seed", "x_batch"}), "features")


# --- any problem: arrays sharing dimensions, constant dimensions, a dimension on its own -------


def synthetic(count: int) -> Problem:
    inputs = {
        "seed": IntInput("seed", -5, 5, "value"),
        "n": IntInput("n", 1, 6),
        "m": IntInput("m", 2, 4),
        "k": IntInput("k", 1, 3),
        "a": ArrayInput("a", "int32", ("n", 3), 2, 9, True, 5.0, None),
        "b": ArrayInput("b", "float64", ("m", "n"), -1.0, 1.0),
        "c": ArrayInput("c", "float16", ("n",), 0.5, 2.0, True, 1.5, 1),
    }
    return dataclasses.replace(
        PROBLEMS["nn_vmap_forward"],
        inputs=inputs,
        parameters=("seed", "a", "b", "c", "k"),
        cases=CaseSpec(count, 3, 5, ({"n": "=m"}, {"n": "max", "m": "min"})),
    )


@pytest.mark.parametrize("seed", [0, 1, 99])
def test_a_problem_with_several_arrays_catches_every_partial_key(seed: int) -> None:
    """Three arrays over n and m, one with a constant dimension, and k passed on its own."""
    problem = synthetic(18)
    cases = plan_cases(problem, seed)
    assert not missed(problem, cases)
    check_sizes(problem, cases, extra_shapes(problem))


def test_a_reshape_no_planned_shape_allows_gets_an_anchor() -> None:
    """x of shape (p, r): only (2, 3) and (3, 2) share a size. The planned shapes (1, 2) and
    (3, 3) allow no reshape, so the repeats first meet (2, 3) or (3, 2), then reshape it (a
    dimension changed alone may happen to meet one too: the anchor makes it certain)."""
    inputs = {
        "p": IntInput("p", 1, 3),
        "r": IntInput("r", 2, 3),
        "x": ArrayInput("x", "float32", ("p", "r"), -4.0, 4.0, True, 0.5, 2),
    }
    boundary = ({"p": 1, "r": 2}, {"p": 3, "r": 3})
    problem = dataclasses.replace(
        PROBLEMS["nn_vmap_forward"],
        inputs=inputs,
        parameters=("x",),
        cases=CaseSpec(10, 2, 1, boundary),
    )
    cases = plan_cases(problem, 0)
    assert [c.shape_key(problem) for c in cases[:2]] == [(1, 2), (3, 3)]
    assert [kind for kind, _ in wanted_repeats(problem, cases[:2])].count("anchor") == 1
    assert cases[3].shape_key(problem) in ((2, 3), (3, 2)), "the anchor, at the first slot"
    assert {(2, 3), (3, 2)} <= {c.shape_key(problem) for c in cases}
    assert caught(cases, frozenset({"x"}), "p") and caught(cases, frozenset({"x"}), "r")
    assert not missed(problem, cases)
    check_sizes(problem, cases, extra_shapes(problem))


DIMS = ("p", "q", "r")


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """A small problem: up to three dimensions, one or two arrays over them (a constant size
    now and then), a seed or not, a dimension passed on its own or not."""
    ranges = {d: draw(st.tuples(st.integers(1, 3), st.integers(0, 3))) for d in DIMS}
    inputs: dict[str, IntInput | ArrayInput] = {
        d: IntInput(d, lo, lo + extra) for d, (lo, extra) in ranges.items()
    }
    parameters: list[str] = []
    if draw(st.booleans()):
        inputs["seed"] = IntInput("seed", 0, 100, "value")
        parameters.append("seed")
    dim = st.sampled_from(DIMS) | st.integers(1, 2)
    for k in range(draw(st.integers(1, 2))):
        shape = tuple(draw(st.lists(dim, min_size=1, max_size=3)))
        inputs[f"x{k}"] = ArrayInput(f"x{k}", "float32", shape, -4.0, 4.0, decimals=2)
        parameters.append(f"x{k}")
    if draw(st.booleans()):
        parameters.append(draw(st.sampled_from(DIMS)))
    base = PROBLEMS["nn_vmap_forward"]
    shapes = draw(st.integers(2, 4))
    problem = dataclasses.replace(base, inputs=inputs, parameters=tuple(parameters))
    room = len(wanted_repeats(problem))  # every derived case fits after the first round
    return dataclasses.replace(problem, cases=CaseSpec(shapes + room, shapes, 1, ()))


@settings(NESTED, max_examples=12)
@given(problems(), st.integers(0, 2**32))
def test_any_small_problem_catches_every_partial_key(problem: Problem, seed: int) -> None:
    cases = plan_cases(problem, seed)
    assert not missed(problem, cases)
    check_sizes(problem, cases, extra_shapes(problem))
