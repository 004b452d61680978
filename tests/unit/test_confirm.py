"""Confirming a failure in a fresh worker: which earlier calls to replay, and how the learner is
told that the answer depends on them. Pure parts, no worker."""

from __future__ import annotations

import numpy as np
import pytest

from judge import diagnose, wording
from judge.cases import Case
from judge.grading.confirm import Confirmed, Confirmer, likeliest_earlier
from judge.grading.outcome import Outcome
from judge.problem import load_problem
from judge.result import Severity

PROBLEM = load_problem("nn_vmap_forward")
PARAMETERS = PROBLEM.parameters


def case(seed: int, x: list[float], features: int = 2) -> Case:
    array = np.array([x], dtype=np.float32)
    values = {"seed": seed, "batch": 1, "in_dim": len(x), "features": features, "x_batch": array}
    return Case(values)


def outcome(of: Case, got: list[float] | None = None) -> Outcome:
    found = Outcome(of)
    if got is not None:
        found.got = np.array(got, dtype=np.float32)
    return found


def test_the_call_whose_answer_came_back_is_the_one_replayed() -> None:
    """A cache hands back an earlier answer: the first call that gave it made the state."""
    origin, reuser, other, failing = case(5, [1.0]), case(5, [2.0]), case(9, [3.0]), case(5, [4.0])
    outcomes = {
        origin.key: outcome(origin, [0.5, 0.25]),
        reuser.key: outcome(reuser, [0.5, 0.25]),  # already the stale answer
        other.key: outcome(other, [7.0, 8.0]),
    }
    shown = outcome(failing, [0.5, 0.25])
    history = [origin, other, reuser, failing]
    assert likeliest_earlier(shown, history, outcomes, PARAMETERS) == [origin]


def test_otherwise_the_calls_sharing_most_arguments_in_their_order() -> None:
    failing = case(5, [4.0])
    history = [case(5, [1.0]), case(7, [4.0], 3), case(8, [9.0], 3), case(5, [2.0]), failing]
    found = likeliest_earlier(outcome(failing, [1.0, 2.0]), history, {}, PARAMETERS, count=2)
    assert found == [history[0], history[3]]  # seed and features alike: 2 arguments each
    assert likeliest_earlier(outcome(failing), [failing], {}, PARAMETERS) == []


def test_only_calls_before_the_failing_run_count() -> None:
    failing, later = case(5, [4.0]), case(5, [1.0])
    history = [case(1, [0.0], 3), failing, later]
    assert likeliest_earlier(outcome(failing), history, {}, PARAMETERS) == [history[0]]


def test_a_confirmation_that_needed_earlier_calls_says_so() -> None:
    shown = outcome(case(0, [1.0]))
    assert not Confirmed(shown, calls=[shown]).needs_earlier_calls
    assert Confirmed(shown, [case(0, [2.0])]).needs_earlier_calls
    assert Confirmed(shown, [], reproduced=False).needs_earlier_calls
    seeded = outcome(case(0, [1.0]))
    seeded.reply = {"global_random": True}
    assert Confirmed(seeded, calls=[seeded]).seeded and not Confirmed(shown, calls=[shown]).seeded


@pytest.mark.parametrize("reproduced", [True, False])
def test_the_state_diagnostic_names_the_calls_and_has_advice(reproduced: bool) -> None:
    earlier = [case(5, [1.0]), case(6, [1.0], 3)]
    found = diagnose.state_between_calls(PROBLEM, case(5, [2.0]), earlier, "passed", reproduced)
    assert found.code == "state_between_calls" and found.severity is Severity.ERROR
    assert "gives the right answer as the first call of a fresh process" in found.message
    assert found.hint == wording.GENERIC_HINTS["state_between_calls"]
    assert found.evidence["reproduced"] is reproduced
    if reproduced:
        assert "after 2 earlier calls (seed 5, batch=1" in found.message
        assert found.evidence["earlier_calls"] == [c.describe(PROBLEM) for c in earlier]
    else:
        assert "did not happen again" in found.message


def test_the_reproducer_makes_the_earlier_calls_and_seeds_when_asked() -> None:
    first, last = case(5, [1.0]), case(5, [2.0])
    line = last.reproducer(PROBLEM, [first], seeded=True)
    assert line.startswith("import numpy as np; import random; random.seed(0); np.random.seed(0)")
    assert line.count("nn_vmap_forward(") == 2 and line.count("np.random.seed(0)") == 2
    assert line.index(first.call(PROBLEM)) < line.index(last.call(PROBLEM))
    assert last.reproducer(PROBLEM) == f"import numpy as np; {last.call(PROBLEM)}"


class CountingEvaluator:
    """A fresh 'worker' per run whose function fails once it has been called ``limit`` times:
    what a counter does, whatever the arguments."""

    problem = PROBLEM

    def __init__(self, limit: int) -> None:
        self.limit, self.calls, self.runs = limit, 0, []

    def restart(self) -> bool:
        self.calls = 0
        self.runs.append([])
        return True

    def evaluate(self, of: Case, reuse: bool = False) -> Outcome:
        self.calls += 1
        self.runs[-1].append(of)
        found = Outcome(of)
        found.failure = None if self.calls < self.limit else "mismatch"
        return found

    @staticmethod
    def fails_like(outcome: Outcome, failing: Outcome) -> bool:
        return not outcome.passed and outcome.signature == failing.signature


def failing_like() -> Outcome:
    found = Outcome(case(0, [0.0]))
    found.failure = "mismatch"
    return found


@pytest.mark.parametrize("limit", [2, 4])
def test_a_counting_sequence_is_simplified_to_the_smallest_case_repeated(limit: int) -> None:
    """Four plan calls (the last fails) become the smallest of them repeated: twice when two
    calls suffice, else as many times as the sequence had calls."""
    big = Case({**case(3, [1.0, 2.0, 3.0]).values, "batch": 1, "in_dim": 3})
    small = case(1, [5.0], 1)
    calls = [big, small, case(2, [1.0, 1.0]), case(4, [2.0, 2.0, 2.0])]
    evaluator = CountingEvaluator(limit)
    found = Confirmer(evaluator)._simplify(calls, failing_like())  # type: ignore[arg-type]
    assert found is not None
    sequence, outcomes = found
    assert sequence == [small] * limit
    assert outcomes[-1].failure == "mismatch" and all(o.passed for o in outcomes[:-1])
    assert len(evaluator.runs) <= 3, "three fresh workers at most"


def test_a_sequence_that_needs_its_own_inputs_is_kept() -> None:
    """A cache keyed on the seed fails only when another x_batch comes with a seed met before:
    repeating one case never fails, so nothing simpler is claimed."""

    class SeedCache(CountingEvaluator):
        def evaluate(self, of: Case, reuse: bool = False) -> Outcome:
            self.runs[-1].append(of)
            found = Outcome(of)
            first = next(c for c in self.runs[-1] if c.values["seed"] == of.values["seed"])
            found.failure = None if first.key == of.key else "mismatch"
            return found

    calls = [case(7, [2.0]), case(5, [1.0]), case(5, [3.0])]  # the smallest first: seed 7
    assert Confirmer(SeedCache(0))._simplify(calls, failing_like()) is None  # type: ignore[arg-type]
