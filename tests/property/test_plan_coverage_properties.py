"""The plan covers every declared range, repeats inputs to catch state, and shrinking bisects:
for both bundled problems and for problems Hypothesis makes up."""

from __future__ import annotations

import dataclasses
import functools
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from judge.cases import Case, extra_shapes, plan_cases, repeated_pairs, shrink
from judge.cases.cover import cover_shapes, coverage, strata, stratum_of
from judge.problem import CaseSpec, IntInput, Problem, load_problem

PROBLEMS = {name: load_problem(name) for name in ("nn_vmap_forward", "nn_vmap_ensemble")}
NESTED = settings(
    deadline=None,
    max_examples=4,
    database=None,
    # plan_cases runs its own seeded Hypothesis search; nesting it here is what is tested.
    suppress_health_check=[HealthCheck.nested_given, HealthCheck.too_slow],
)


@functools.cache
def plan(name: str, seed: int) -> tuple[Case, ...]:
    return tuple(plan_cases(PROBLEMS[name], seed))


def specs(problem: Problem) -> dict[str, IntInput]:
    return {i.name: i for i in problem.shape_inputs}


# --- coverage --------------------------------------------------------------------------------


@NESTED
@given(st.sampled_from(sorted(PROBLEMS)), st.integers(0, 2**64 - 1))
@example("nn_vmap_forward", 0)
@example("nn_vmap_ensemble", 0)
def test_every_value_of_every_dimension_is_met_within_the_distinct_shapes(
    name: str, seed: int
) -> None:
    problem = PROBLEMS[name]
    cases = plan(name, seed) if seed == 0 else tuple(plan_cases(problem, seed))
    covering = [c for c in cases if c.origin != "repeat_inputs"]
    shapes = {c.shape_key(problem) for c in covering}
    assert len(shapes) == problem.cases.distinct_shapes
    everything = {c.shape_key(problem) for c in cases}
    # The repeats' dimension moves (batch, in_dim, features alone; a reshape) may each add a
    # shape: the covering shapes meet each value of each dimension once, so no two of them differ
    # in one dimension alone, but a later move may land on an earlier move's shape.
    assert len(shapes) < len(everything) <= len(shapes) + 4 <= len(shapes) + extra_shapes(problem)
    for spec in problem.shape_inputs:
        met = {int(c.values[spec.name]) for c in covering}
        assert met == set(range(spec.min, spec.max + 1)), (spec.name, sorted(met))


def test_the_issue_plan_no_longer_misses_the_middle() -> None:
    """nn_vmap_forward once met batch only at {1, 7, 8}: every value 1..8 now."""
    cases = plan("nn_vmap_forward", 0)
    assert {c.values["batch"] for c in cases} == set(range(1, 9))


@settings(deadline=None, max_examples=60)
@given(
    lo=st.integers(-50, 50),
    width=st.integers(1, 400),
    count=st.integers(1, 12),
)
def test_strata_cut_the_range_into_contiguous_bands(lo: int, width: int, count: int) -> None:
    spec = IntInput("n", lo, lo + width - 1)
    bands = strata(spec, count)
    assert len(bands) == min(width, count)
    assert bands[0][0] == spec.min and bands[-1][1] == spec.max
    for (_, hi), (next_lo, _) in itertools.pairwise(bands):
        assert next_lo == hi + 1
    sizes = [hi - lo + 1 for lo, hi in bands]
    assert max(sizes) - min(sizes) <= 1
    assert all(stratum_of(v, bands) == k for k, (a, b) in enumerate(bands) for v in (a, b))


@settings(deadline=None, max_examples=60)
@given(
    ranges=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 300)), min_size=1, max_size=4),
    count=st.integers(1, 10),
    seed=st.integers(0, 2**32),
)
def test_free_shapes_cover_every_stratum(
    ranges: list[tuple[int, int]], count: int, seed: int
) -> None:
    """With no boundary entries to pin anything, every stratum of every dimension is met."""
    found = {f"d{k}": IntInput(f"d{k}", lo, lo + extra) for k, (lo, extra) in enumerate(ranges)}
    shapes = cover_shapes(found, [], count, seed)
    assert shapes == cover_shapes(found, [], count, seed)  # a pure function of the seed
    combinations = int(np.prod([s.max - s.min + 1 for s in found.values()]))
    assert len(shapes) == min(count, combinations)
    assert len({tuple(s.values()) for s in shapes}) == len(shapes)
    if len(shapes) == count:
        assert all(not unmet for unmet in coverage(found, shapes, count).values())


def test_boundary_pins_and_ties_are_kept() -> None:
    found = {n: IntInput(n, 1, 6) for n in ("a", "b", "c")}
    entries = [{"a": 1, "b": "min", "c": "max"}, {"a": "=b", "c": 2}, {"b": "=c"}]
    shapes = cover_shapes(found, entries, 6, 7)
    assert shapes[0] == {"a": 1, "b": 1, "c": 6}
    assert shapes[1]["a"] == shapes[1]["b"] and shapes[1]["c"] == 2
    assert shapes[2]["b"] == shapes[2]["c"]
    assert all(not unmet for unmet in coverage(found, shapes, 6).values())


# --- repeats ---------------------------------------------------------------------------------


def same(a: Case, b: Case, name: str) -> bool:
    x, y = a.values[name], b.values[name]
    if isinstance(x, np.ndarray):
        return x.shape == y.shape and x.tobytes() == y.tobytes()
    return int(x) == int(y)


@NESTED
@given(st.sampled_from(sorted(PROBLEMS)), st.integers(0, 2**64 - 1))
@example("nn_vmap_forward", 0)
@example("nn_vmap_ensemble", 0)
def test_the_plan_repeats_inputs_so_state_shows(name: str, seed: int) -> None:
    """Same seed with another x_batch, same x_batch with another seed, same seed and x_batch
    with another features (the rest alike), same seed and features with another in_dim, and two
    exact repeats met in the reverse of their first order, with calls between."""
    problem = PROBLEMS[name]
    cases = plan(name, seed) if seed == 0 else tuple(plan_cases(problem, seed))
    pairs = [(i, j) for j in range(len(cases)) for i in range(j)]

    def exists(differing: str) -> bool:
        others = [p for p in problem.parameters if p != differing]
        return any(
            all(same(cases[i], cases[j], p) for p in others)
            and not same(cases[i], cases[j], differing)
            for i, j in pairs
        )

    assert exists("x_batch"), "the same seed and features, another x_batch"
    assert exists("seed"), "the same x_batch and features, another seed"
    assert exists("features"), "the same seed and x_batch, another features"
    assert any(
        all(same(cases[i], cases[j], p) for p in ("seed", "features"))
        and cases[i].values["in_dim"] != cases[j].values["in_dim"]
        for i, j in pairs
    ), "the same seed and features, another in_dim (test_cache_key_coverage: every key)"
    exact = repeated_pairs(cases)
    assert len(exact) >= 2
    assert all(j - i > 1 for i, j in exact), "a repeat is never the very next call"
    (first_i, first_j), (second_i, second_j) = sorted(exact, key=lambda p: p[1])[:2]
    assert first_j < second_j and first_i > second_i, "met again in the reverse order"


def test_a_plan_of_one_round_has_nothing_to_repeat() -> None:
    problem = dataclasses.replace(
        PROBLEMS["nn_vmap_forward"], cases=CaseSpec(8, 8, 4, ({"batch": 1},))
    )
    cases = plan_cases(problem, 0)
    assert all(c.origin in ("boundary", "generated") for c in cases)


# --- shrinking -------------------------------------------------------------------------------

FORWARD = PROBLEMS["nn_vmap_forward"]


@settings(deadline=None, max_examples=40)
@given(threshold=st.integers(0, 2**31 - 1), start=st.integers(0, 23))
@example(threshold=65536, start=3)
def test_a_seed_shrinks_by_bisection_to_the_smallest_failing_one(
    threshold: int, start: int
) -> None:
    case = plan("nn_vmap_forward", 0)[start].replace({"seed": 2**31 - 1})
    calls: list[Case] = []

    def fails(candidate: Case) -> bool:
        calls.append(candidate)
        return int(candidate.values["seed"]) >= threshold

    shrunk = shrink(FORWARD, case, fails)
    assert shrunk.case.values["seed"] == threshold
    assert shrunk.calls == len(calls) == len({c.key for c in calls}), "no case tried twice"
    seed_calls = [c for c in calls if c.shape_key(FORWARD) == shrunk.case.shape_key(FORWARD)]
    assert len(seed_calls) <= 31 + 40, "about log2(2**31) seeds, plus plainer arrays"
    again = shrink(FORWARD, case, lambda c: int(c.values["seed"]) >= threshold)
    assert again == shrunk, "the same failure shrinks the same way"


@settings(deadline=None, max_examples=40)
@given(
    batch=st.integers(1, 8),
    in_dim=st.integers(1, 8),
    features=st.integers(1, 8),
    start=st.integers(0, 23),
)
def test_shapes_shrink_to_the_smallest_failing_corner(
    batch: int, in_dim: int, features: int, start: int
) -> None:
    """A failure that needs every dimension at least some size shrinks to exactly that."""
    case = plan("nn_vmap_forward", 0)[start]
    sizes = {"batch": batch, "in_dim": in_dim, "features": features}
    if any(int(case.values[n]) < v for n, v in sizes.items()):
        return  # the starting case would not fail

    def fails(candidate: Case) -> bool:
        return all(int(candidate.values[n]) >= v for n, v in sizes.items())

    shrunk = shrink(FORWARD, case, fails)
    assert {n: shrunk.case.values[n] for n in sizes} == sizes


def test_the_call_budget_is_a_count() -> None:
    case = plan("nn_vmap_forward", 0)[3].replace({"seed": 2**31 - 1})
    shrunk = shrink(FORWARD, case, lambda c: True, max_calls=5)
    assert shrunk.calls == 5 and shrunk.steps == 5


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_the_plan_draws_inputs_as_declared(name: str) -> None:
    problem = PROBLEMS[name]
    for case in plan(name, 0):
        for spec in problem.array_inputs:
            assert case.values[spec.name].dtype == np.dtype(spec.dtype)
            assert type(case.values[spec.name]) is np.ndarray
            assert spec.name not in case.kinds  # numpy only: the problems declare kinds [numpy]


def test_an_input_declared_with_two_kinds_comes_as_each_in_turn() -> None:
    x = dataclasses.replace(FORWARD.inputs["x_batch"], kinds=("numpy", "jax"))
    problem = dataclasses.replace(FORWARD, inputs={**FORWARD.inputs, "x_batch": x})
    cases = plan_cases(problem, 0)
    kinds = [c.kinds.get("x_batch", "numpy") for c in cases]
    assert {"numpy", "jax"} == set(kinds)
    jax_case = next(c for c in cases if c.kinds)
    assert "jnp.asarray(np.array(" in jax_case.reproducer(problem)
    assert jax_case.reproducer(problem).startswith("import numpy as np; import jax.numpy as jnp; ")
    assert jax_case.to_json(problem)["x_batch"]["kind"] == "jax.Array"
    numpy_twin = Case(jax_case.values, jax_case.origin)
    assert numpy_twin.key != jax_case.key, "the kind is part of a case's identity"
    assert jax_case.replace({"seed": 1}).kinds == jax_case.kinds
    for shape in {c.shape_key(problem) for c in cases if c.origin != "repeat_inputs"}:
        met = {c.kinds.get("x_batch", "numpy") for c in cases if c.shape_key(problem) == shape}
        assert met == {"numpy", "jax"}, shape
