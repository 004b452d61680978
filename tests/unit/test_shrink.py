"""Shrinking reaches the smallest shape that still fails, also when two sizes must stay equal."""

from __future__ import annotations

import functools

from judge.cases import Case, shrink
from judge.cases.plan import plan_cases
from judge.problem import load_problem

PROBLEM = load_problem("nn_vmap_forward")


@functools.cache
def plan() -> tuple[Case, ...]:
    return tuple(plan_cases(PROBLEM, 0))


def _equal_sizes(case: Case) -> bool:
    """A batch mapped over the feature axis fails as a values mismatch only while
    ``batch == in_dim`` (else the output's shape differs: another kind of failure)."""
    return int(case.values["batch"]) == int(case.values["in_dim"]) >= 2


def test_sizes_that_must_stay_equal_shrink_together_to_the_smallest() -> None:
    starts = [c for c in plan() if _equal_sizes(c) and int(c.values["batch"]) >= 4]
    assert starts, "the plan has a case with batch == in_dim >= 4"
    for start in starts:
        shrunk = shrink(PROBLEM, start, _equal_sizes)
        sizes = {n: int(shrunk.case.values[n]) for n in ("batch", "in_dim", "features")}
        assert sizes == {"batch": 2, "in_dim": 2, "features": 1}, start.describe(PROBLEM)
        assert len(shrunk.case.reproducer(PROBLEM)) < 150, "a short line to paste"


def test_shrinking_sizes_together_is_deterministic_and_within_the_budget() -> None:
    start = max((c for c in plan() if _equal_sizes(c)), key=lambda c: c.size(PROBLEM))
    first = shrink(PROBLEM, start, _equal_sizes, max_calls=40)
    assert first == shrink(PROBLEM, start, _equal_sizes, max_calls=40)
    assert first.calls <= 40
