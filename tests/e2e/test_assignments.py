"""``judge check`` for assignments, as tests: every bundled assignment valid, and each of its
examples in ``submissions/assignments/<name>/`` graded as its ``expected.yaml`` declares, per
problem (the checks are ``judge.assignment.check``'s, so the two cannot disagree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge import GradeOptions
from judge.assignment import assignment_names, default_assignments_dir, load_assignment
from judge.assignment.check import check_assignment, check_example, count_checks, examples

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS_DIR = ROOT / "problems"
OPTIONS = GradeOptions(limits={"call_s": 8.0})
ASSIGNMENTS = assignment_names(default_assignments_dir(PROBLEMS_DIR))
EXAMPLES = [
    (name, path, said)
    for name in ASSIGNMENTS
    for path, said in examples(load_assignment(name, PROBLEMS_DIR), PROBLEMS_DIR)[0].items()
]


def test_the_bundled_assignment_and_its_examples_are_there() -> None:
    assert "hw_vmap" in ASSIGNMENTS
    files = {path.name for name, path, _ in EXAMPLES if name == "hw_vmap"}
    assert {"complete.py", "one_wrong.py", "one_missing.py"} <= files


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_assignment_yaml_is_valid_and_expected_yaml_matches_the_examples(name: str) -> None:
    valid, matches = list(check_assignment(name, PROBLEMS_DIR, OPTIONS))[:2]
    assert valid.passed, valid.message
    assert matches.passed, matches.message


def test_judge_check_counts_the_assignment_checks() -> None:
    only_problems = count_checks(["nn_vmap_forward"], PROBLEMS_DIR)
    everything = count_checks(None, PROBLEMS_DIR)
    assert everything >= only_problems + 2 + len(EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "path", "said"), EXAMPLES, ids=[f"{n}/{p.name}" for n, p, _ in EXAMPLES]
)
def test_example_gets_its_verdict_and_codes_per_problem(
    name: str, path: Path, said: dict[str, list[str]]
) -> None:
    result = check_example(load_assignment(name, PROBLEMS_DIR), path, said, OPTIONS)
    assert result.passed, result.message
