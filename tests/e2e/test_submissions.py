"""``judge check``, as tests: one test per check of every problem in the repository.

Each problem package must be valid, its reference accepted and its fingerprints not, and every
example in ``submissions/<problem>/<verdict>/`` must get that verdict and the diagnostic codes
``submissions/<problem>/expected.yaml`` declares for it, the first being the root cause. The
checks are the ones ``judge check`` runs (``judge.check``), so the two cannot disagree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge import GradeOptions, Verdict, grade, load_problem
from judge.check import check_example, check_fingerprint, check_reference, examples
from judge.problem import problem_names

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS_DIR = ROOT / "problems"
PROBLEMS = problem_names(PROBLEMS_DIR)
OPTIONS = GradeOptions(call_s=8.0)  # keeps the endless loop short

EXAMPLES = [(name, example) for name in PROBLEMS for example in examples(name, PROBLEMS_DIR)[0]]
FINGERPRINTS = [
    (name, index)
    for name in PROBLEMS
    for index in range(len(load_problem(name, PROBLEMS_DIR).fingerprints))
]


def test_there_are_problems_and_examples() -> None:
    assert len(PROBLEMS) >= 2
    for name in PROBLEMS:
        found = examples(name, PROBLEMS_DIR)[0]
        assert any(e.verdict == "accepted" for e in found), f"{name} has no accepted example"
        assert any(e.verdict == "wrong_answer" for e in found), f"{name} has no wrong example"


@pytest.mark.parametrize("name", PROBLEMS)
def test_expected_yaml_matches_the_examples(name: str) -> None:
    found, problems = examples(name, PROBLEMS_DIR)
    assert not problems
    for example in found:
        if example.verdict != "accepted":
            assert example.codes, f"{example.name}: declare at least its root-cause code"


@pytest.mark.slow
@pytest.mark.parametrize("name", PROBLEMS)
def test_reference_is_accepted(name: str) -> None:
    result = check_reference(load_problem(name, PROBLEMS_DIR), OPTIONS)
    assert result.passed, result.message


@pytest.mark.slow
@pytest.mark.parametrize(("name", "index"), FINGERPRINTS, ids=[f"{n}-{i}" for n, i in FINGERPRINTS])
def test_fingerprint_is_not_accepted(name: str, index: int) -> None:
    result = check_fingerprint(load_problem(name, PROBLEMS_DIR), index, OPTIONS)
    assert result.passed, result.message


@pytest.mark.slow
@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[f"{n}/{e.name}" for n, e in EXAMPLES])
def test_example_gets_its_verdict_and_codes(name: str, example) -> None:
    result = check_example(load_problem(name, PROBLEMS_DIR), example, OPTIONS)
    assert result.passed, result.message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "example"),
    [(n, e) for n, e in EXAMPLES if e.verdict == "wrong_answer"][:6],
    ids=lambda v: getattr(v, "name", v),
)
def test_a_wrong_answer_report_is_complete(name: str, example) -> None:
    """Strict JSON; advice on every diagnostic; a case to paste when an output was wrong."""
    report = grade(example.path, name, OPTIONS)
    data = report.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    for diagnostic in data["diagnostics"]:
        assert diagnostic["message"] and diagnostic["hint"], diagnostic
    assert 0.0 <= report.score < 1.0 and report.verdict is Verdict.WRONG_ANSWER
    entry_point = load_problem(name, PROBLEMS_DIR).entry_point
    if report.cases["passed"] < report.cases["run"]:
        assert report.failing_case is not None, report.summary
        assert f"{entry_point}(" in report.failing_case.reproducer
