"""Every example submission gets the verdict of its folder and the diagnostics declared for it.

``submissions/<problem>/<verdict>/<file>`` holds the examples; ``submissions/<problem>/
expected.yaml`` maps each file to the diagnostic codes its report must contain, the first of
them being the report's first diagnostic (the root cause, shown first to the learner).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from judge import GradeOptions, Verdict, grade
from judge.problem import problem_names

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
PROBLEMS = problem_names(ROOT / "problems")
OPTIONS = GradeOptions(call_s=8.0)  # keeps the endless loop short


def corpus() -> list[tuple[str, Path]]:
    found = []
    for problem in PROBLEMS:
        for path in sorted((SUBMISSIONS / problem).glob("*/*")):
            if path.suffix in (".py", ".ipynb"):
                found.append((problem, path))
    return found


def expected_codes(problem: str) -> dict[str, list[str]]:
    return yaml.safe_load((SUBMISSIONS / problem / "expected.yaml").read_text()) or {}


def test_the_corpus_and_its_expectations_list_the_same_files() -> None:
    assert corpus(), "no example submissions found"
    for problem in PROBLEMS:
        declared = set(expected_codes(problem))
        present = {str(p.relative_to(SUBMISSIONS / problem)) for q, p in corpus() if q == problem}
        assert declared == present, (
            f"only in expected.yaml: {sorted(declared - present)}; "
            f"only on disk: {sorted(present - declared)}"
        )
        folders = {p.parent.name for q, p in corpus() if q == problem}
        assert folders <= {str(v) for v in Verdict}, f"unknown verdict folders: {folders}"
        assert "accepted" in folders, f"{problem} has no accepted example"


def test_every_known_wrong_example_declares_its_codes() -> None:
    for problem in PROBLEMS:
        for name, codes in expected_codes(problem).items():
            if not name.startswith("accepted/"):
                assert codes, f"{problem}/{name}: declare at least its root-cause code"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("problem", "path"), corpus(), ids=[f"{q}/{p.parent.name}/{p.name}" for q, p in corpus()]
)
def test_example_gets_its_verdict_and_diagnostics(problem: str, path: Path) -> None:
    wanted = expected_codes(problem)[str(path.relative_to(SUBMISSIONS / problem))]
    report = grade(path, problem, OPTIONS)
    codes = [d.code for d in report.diagnostics]
    assert report.verdict == path.parent.name, f"{report.summary}; diagnostics {codes}"
    missing = [c for c in wanted if c not in codes]
    assert not missing, f"missing {missing}; got {codes}"
    if wanted:
        assert codes[0] == wanted[0], f"root cause should be {wanted[0]}; got {codes}"
    assert (report.score == 1.0) == (report.verdict is Verdict.ACCEPTED)
    assert 0.0 <= report.score <= 1.0
    data = report.to_dict()
    json.dumps(data, allow_nan=False)  # strict JSON, whatever the learner returned
    for diagnostic in data["diagnostics"]:
        assert diagnostic["message"] and diagnostic["hint"], diagnostic
    if report.failing_case is not None:
        assert f"{report.problem}(" in report.failing_case.reproducer
