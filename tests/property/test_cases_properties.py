"""The case plan: deterministic, within the spec, with its boundaries; shrinking goes down."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from judge.cases import (
    Case,
    extra_shapes,
    json_values,
    plan_cases,
    satisfies,
    shrink_candidates,
)
from judge.problem import ArrayInput, CaseSpec, IntInput, Problem, load_problem

PROBLEM = load_problem("nn_vmap_forward")


@functools.cache
def plan(seed: int) -> tuple[Case, ...]:
    return tuple(plan_cases(PROBLEM, seed))


def shape(case: Case) -> tuple[int, int, int]:
    return (case.values["batch"], case.values["in_dim"], case.values["features"])


def test_same_seed_same_cases_other_seed_other_cases() -> None:
    assert [c.key for c in plan(0)] == [c.key for c in plan_cases(PROBLEM, 0)]
    assert [c.key for c in plan(0)] != [c.key for c in plan(1)]


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_the_plan_keeps_its_promises(seed: int) -> None:
    cases = plan(seed)
    assert len(cases) == PROBLEM.cases.count
    shapes = [shape(c) for c in cases]
    assert len(set(shapes)) <= PROBLEM.cases.distinct_shapes + extra_shapes(PROBLEM)
    assert (1, 1, 1) in shapes
    assert any(b == i > 1 for b, i, _ in shapes), "batch == in_dim > 1"
    assert any(b == f > 1 for b, _, f in shapes), "batch == features > 1"
    assert (8, 8, 8) in shapes, "the largest shape"
    repeated = [s for s in set(shapes) if shapes.count(s) > 1]
    assert repeated, "one shape met twice"
    twins = [c for c in cases if shape(c) == repeated[0]]
    assert twins[0].key != twins[1].key, "a repeated shape gets other seeds or values"
    seeds = {c.values["seed"] for c in cases}
    assert {0, 2**31 - 1} <= seeds
    spec = PROBLEM.inputs["x_batch"]
    for case in cases:
        x = case.values["x_batch"]
        assert x.dtype == np.float32
        assert x.shape == (case.values["batch"], case.values["in_dim"])
        assert satisfies(spec, x)


# plan_cases draws with Hypothesis itself, so these tests take seeds as parameters rather than
# nesting one @given inside another.
@pytest.mark.parametrize("seed", [0, 7, 2**32])
def test_every_shrink_candidate_is_simpler_and_valid(seed: int) -> None:
    spec = PROBLEM.inputs["x_batch"]
    for case in plan(seed)[::3]:
        check_candidates(case, spec)


def check_candidates(case: Case, spec) -> None:
    for candidate in shrink_candidates(PROBLEM, case):
        assert candidate.complexity(PROBLEM) < case.complexity(PROBLEM)
        x = candidate.values["x_batch"]
        assert x.shape == (candidate.values["batch"], candidate.values["in_dim"])
        assert satisfies(spec, x)
        assert candidate != case


def test_shrinking_terminates_on_any_greedy_path() -> None:
    """Always taking the first candidate reaches a case with none, in few steps."""
    case = max(plan(3), key=lambda c: c.size(PROBLEM))
    for _step in range(500):
        nxt = next(shrink_candidates(PROBLEM, case), None)
        if nxt is None:
            break
        case = nxt
    else:
        pytest.fail("shrinking did not terminate")
    assert shape(case) == (1, 1, 1)


@pytest.mark.parametrize("seed", [0, 7, 2**32])
def test_the_reproducer_rebuilds_the_exact_inputs(seed: int) -> None:
    for case in plan(seed):
        check_reproducer(case)


def check_reproducer(case: Case) -> None:
    captured: list[tuple] = []
    namespace = {"np": np, "nn_vmap_forward": lambda *args: captured.append(args)}
    statement = case.reproducer(PROBLEM).split("; ", 1)[1]
    eval(statement, namespace)  # our own generated text, not learner input
    (args,) = captured
    assert args[0] == case.values["seed"] and args[2] == case.values["features"]
    assert args[1].dtype == case.values["x_batch"].dtype
    assert args[1].tobytes() == case.values["x_batch"].tobytes()


# --- the same promises as a Hypothesis property over plan seeds --------------------------------


def check_plan(problem: Problem, cases: Sequence[Case]) -> None:
    """What every plan promises, for any problem: count, specs, shapes, distinct shapes."""
    assert len(cases) == problem.cases.count
    shapes = [c.shape_key(problem) for c in cases]
    assert len(set(shapes)) <= problem.cases.distinct_shapes + extra_shapes(problem)
    for case in cases:
        assert set(case.values) == set(problem.inputs)
        for spec in problem.int_inputs:
            value = case.values[spec.name]
            assert isinstance(value, int) and spec.min <= value <= spec.max, (spec.name, value)
        for spec in problem.array_inputs:
            array = case.values[spec.name]
            assert isinstance(array, np.ndarray)
            assert array.dtype == np.dtype(spec.dtype)
            assert array.shape == expected_shape(problem, spec, case)
            assert satisfies(spec, array), (spec.name, array)


def expected_shape(problem: Problem, spec: ArrayInput, case: Case) -> tuple[int, ...]:
    return tuple(int(case.values[d]) if isinstance(d, str) else d for d in spec.shape)


def check_shrinking(problem: Problem, case: Case) -> int:
    count = 0
    for candidate in shrink_candidates(problem, case):
        count += 1
        assert candidate.complexity(problem) < case.complexity(problem)
        assert candidate.origin == "shrunk"
        for spec in problem.int_inputs:
            value = candidate.values[spec.name]
            assert isinstance(value, int) and spec.min <= value <= spec.max
        for spec in problem.array_inputs:
            array = candidate.values[spec.name]
            assert array.dtype == np.dtype(spec.dtype)
            assert array.shape == expected_shape(problem, spec, candidate)
            assert satisfies(spec, array), (spec.name, array)
    return count


def check_reproducer_of(problem: Problem, case: Case) -> None:
    captured: list[tuple] = []
    text = case.reproducer(problem)
    prefix = "import numpy as np; "
    assert text.startswith(prefix + problem.entry_point + "(")
    namespace = {"np": np, problem.entry_point: lambda *args: captured.append(args)}
    eval(text[len(prefix) :], namespace)  # our own generated text, not learner input
    (args,) = captured
    assert len(args) == len(problem.parameters)
    for name, arg in zip(problem.parameters, args, strict=True):
        value = case.values[name]
        if isinstance(value, np.ndarray):
            assert isinstance(arg, np.ndarray)
            assert arg.dtype == value.dtype and arg.shape == value.shape
            assert arg.tobytes() == value.tobytes(), name  # bit-identical, -0.0 included
        else:
            assert type(arg) is int and arg == value


@settings(
    deadline=None,
    max_examples=3,
    database=None,
    # plan_cases runs its own seeded Hypothesis search; nesting it here is what is tested.
    suppress_health_check=[HealthCheck.nested_given, HealthCheck.too_slow],
)
@given(st.integers(0, 2**64 - 1))
@example(0)
def test_any_plan_seed_keeps_the_promises(seed: int) -> None:
    cases = plan_cases(PROBLEM, seed)
    if seed == 0:  # inside another Hypothesis run, the plan is the same as outside one
        assert [c.key for c in cases] == [c.key for c in plan(0)]
    check_plan(PROBLEM, cases)
    shapes = [shape(c) for c in cases]
    assert cases[0].origin == "boundary" and shapes[0] == (1, 1, 1)
    assert (8, 8, 8) in shapes
    assert any(b == i > 1 for b, i, _ in shapes)
    assert any(b == f > 1 for b, _, f in shapes)
    assert [c.values["seed"] for c in cases[:2]] == [0, 2**31 - 1]
    for case in cases:
        check_reproducer_of(PROBLEM, case)
    for case in cases[:: len(cases) // 3]:
        check_shrinking(PROBLEM, case)


def test_the_first_round_meets_every_shape_once() -> None:
    cases = plan(5)
    first_round = [shape(c) for c in cases[: PROBLEM.cases.distinct_shapes]]
    assert len(set(first_round)) == PROBLEM.cases.distinct_shapes
    assert [c.origin for c in cases[:4]] == ["boundary"] * 4
    assert all(c.origin == "generated" for c in cases[4:16])
    assert {c.origin for c in cases[16:]} == {"repeat_inputs", "repeat"}, "8 derived cases"
    counts = {s: [shape(c) for c in cases].count(s) for s in first_round}
    beyond = [c for c in cases if shape(c) not in counts]
    assert sum(counts.values()) == 24 - len(beyond) and min(counts.values()) >= 2
    assert 1 <= len({shape(c) for c in beyond}) <= 4 <= extra_shapes(PROBLEM), "one per move"
    assert all(c.origin == "repeat_inputs" for c in beyond)


def test_the_only_identical_cases_are_the_planned_exact_repeats() -> None:
    cases = plan(0)
    repeats = [k for k, c in enumerate(cases) if c.origin == "repeat"]
    assert len(repeats) == 2
    assert len({c.key for c in cases}) == len(cases) - len(repeats)


# --- any problem: a synthetic one with several arrays, dtypes and a fixed dimension ------------


def synthetic() -> Problem:
    inputs = {
        "seed": IntInput("seed", -5, 5, "value"),
        "n": IntInput("n", 1, 6),
        "m": IntInput("m", 2, 4),
        "a": ArrayInput("a", "int32", ("n", 3), 2, 9, True, 5.0, None),
        "b": ArrayInput("b", "float64", ("m", "n"), -1.0, 1.0),
        "c": ArrayInput("c", "float16", ("n",), 0.5, 2.0, True, 1.5, 1),
    }
    return dataclasses.replace(
        PROBLEM,
        inputs=inputs,
        parameters=("seed", "a", "b", "c"),
        cases=CaseSpec(10, 3, 5, ({"n": "=m"}, {"n": "max", "m": "min"})),
    )


SYNTHETIC = synthetic()


@pytest.mark.parametrize("seed", [0, 1, 99])
def test_a_synthetic_problem_keeps_the_same_promises(seed: int) -> None:
    cases = plan_cases(SYNTHETIC, seed)
    check_plan(SYNTHETIC, cases)
    assert cases[0].values["n"] == cases[0].values["m"]
    assert (cases[1].values["n"], cases[1].values["m"]) == (6, 2)
    assert [c.values["seed"] for c in cases[:2]] == [-5, 5]
    candidates = 0
    for case in cases:
        check_reproducer_of(SYNTHETIC, case)
        candidates += check_shrinking(SYNTHETIC, case)
    assert candidates > len(cases)  # the checks above ran on something


def test_a_value_input_reaches_both_ends_when_a_boundary_pins_one() -> None:
    wide_seed = IntInput("seed", 0, 2**31 - 1, "value")  # too wide to reach an end by chance
    problem = dataclasses.replace(
        SYNTHETIC,
        inputs={**SYNTHETIC.inputs, "seed": wide_seed},
        cases=CaseSpec(10, 3, 5, ({"n": "=m"}, {"n": "max", "seed": "min"})),
    )
    seeds = [c.values["seed"] for c in plan_cases(problem, 0)]
    assert {0, 2**31 - 1} <= set(seeds)


# --- literals and identity --------------------------------------------------------------------


@settings(deadline=None, max_examples=100)
@given(
    st.sampled_from(["float16", "float32", "float64"]).flatmap(
        lambda dtype: hnp.arrays(np.dtype(dtype), hnp.array_shapes(min_dims=1, max_dims=1))
    )
)
def test_json_values_give_back_the_same_floats(array: np.ndarray) -> None:
    values = json_values(array)
    text = json.dumps(values, allow_nan=False)  # NaN and infinities travel as strings
    back = np.array([float(v) for v in json.loads(text)], dtype=array.dtype)
    finite = np.isfinite(array)
    assert back[finite].tobytes() == array[finite].tobytes()
    assert [str(v) for v in np.asarray(values, dtype=object)[~finite]] == [
        str(float(v)) for v in array[~finite]
    ]


def test_json_values_are_short() -> None:
    assert json_values(np.array([-3.575, 0.1], np.float32)) == [-3.575, 0.1]
    assert json_values(np.array([1, -2], np.int32)) == [1, -2]


def test_to_json_keeps_declaration_order_and_exact_values() -> None:
    case = plan(0)[3]
    data = json.loads(json.dumps(case.to_json(PROBLEM), allow_nan=False))
    assert list(data) == list(PROBLEM.inputs)
    assert data["seed"] == case.values["seed"] and data["batch"] == case.values["batch"]
    x = data["x_batch"]
    assert x["dtype"] == "float32" and x["shape"] == list(case.values["x_batch"].shape)
    assert np.array(x["values"], np.float32).tobytes() == case.values["x_batch"].tobytes()


def test_case_identity_is_its_values() -> None:
    x = np.array([[0.5, -1.0]], np.float32)
    base = {"seed": 3, "batch": 1, "in_dim": 2, "features": 4, "x_batch": x}
    same = Case({**base, "x_batch": x.copy()}, origin="shrunk")
    assert Case(base) == same and hash(Case(base)) == hash(same)
    assert Case(base) != Case({**base, "seed": 4})
    assert Case(base) != Case({**base, "x_batch": x.astype(np.float64)})
    assert Case(base) != Case({**base, "x_batch": x.reshape(2, 1)})
    assert Case(base) != "not a case"
    changed = Case(base).replace({"seed": 9})
    assert changed.origin == "shrunk" and changed.values["seed"] == 9
    assert changed.values["x_batch"] is x
    assert Case(base).describe(PROBLEM) == "seed 3, batch=1, in_dim=2, features=4"
    assert Case(base).args(PROBLEM) == [3, x, 4]
    assert Case(base).size(PROBLEM) == 8
    assert Case(base).complexity(PROBLEM) == (7, 3, 3.0 + 0.5 + 1.0 + 1.0)


def test_satisfies_checks_range_and_magnitude() -> None:
    spec = PROBLEM.inputs["x_batch"]
    assert isinstance(spec, ArrayInput)
    assert satisfies(spec, np.array([[0.0, 0.25]], np.float32))
    assert satisfies(spec, np.array([[-4.0, 4.0]], np.float32))
    assert not satisfies(spec, np.array([[0.0, 0.2]], np.float32))  # below min_magnitude
    assert not satisfies(spec, np.zeros((2, 2), np.float32))
    assert not satisfies(spec, np.array([[4.001]], np.float32))
    assert not satisfies(spec, np.array([[-4.5, 1.0]], np.float32))
    assert not satisfies(spec, np.zeros((0, 2), np.float32))  # nothing reaches the magnitude
    plain = dataclasses.replace(spec, nonzero=False)
    assert satisfies(plain, np.zeros((2, 2), np.float32))
    assert satisfies(plain, np.zeros((0, 2), np.float32))
