"""The case plan: deterministic, within the spec, with its boundaries; shrinking goes down."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from judge.cases import Case, plan_cases, satisfies, shrink_candidates
from judge.problem import load_problem

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
    assert len(set(shapes)) <= PROBLEM.cases.distinct_shapes
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
