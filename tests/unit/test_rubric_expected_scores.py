"""expected.yaml's declared scores: read in one place, malformed entries named by file and
field, and an example whose score leaves its range failing ``judge check``."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.check import Example, check_example, in_range, read_expected
from judge.grading import GradeOptions
from judge.problem import load_problem
from judge.result import Diagnostic, Report, Severity, Verdict

PROBLEM = load_problem("nn_vmap_forward")


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expected.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_both_forms_are_read(tmp_path: Path) -> None:
    path = written(
        tmp_path,
        "accepted/a.py: []\n"
        "wrong_answer/b.py: [no_nn_vmap]\n"
        "wrong_answer/c.py: {codes: [not_flattened], score: [0.9, 0.95]}\n"
        "compile_error/d.py: {codes: [syntax_error], score: 0}\n"
        "accepted/e.py: {score: 1.0}\n",
    )
    declared, problems = read_expected(path)
    assert problems == []
    assert declared["accepted/a.py"].codes == () and declared["accepted/a.py"].score is None
    assert declared["wrong_answer/b.py"].codes == ("no_nn_vmap",)
    assert declared["wrong_answer/c.py"].score == (0.9, 0.95)
    assert declared["compile_error/d.py"].score == (0.0, 0.0)
    assert declared["accepted/e.py"].score == (1.0, 1.0)


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ("wrong_answer/b.py: {codes: [x], score: 1.5}", "wrong_answer/b.py.score", "a number in"),
        ("wrong_answer/b.py: {codes: [x], score: [0.6, 0.2]}", "wrong_answer/b.py.score", "above"),
        ("wrong_answer/b.py: {codes: [x], score: high}", "wrong_answer/b.py.score", "a range"),
        ("wrong_answer/b.py: {codes: [x], score: 1.0}", "wrong_answer/b.py.score", "accepted"),
        ("accepted/a.py: {score: [0.5, 1.0]}", "accepted/a.py.score", "accepted example"),
        ("wrong_answer/b.py: {codes: [x], scores: 0.5}", "wrong_answer/b.py.scores", "unknown"),
        ("wrong_answer/b.py: {codes: x}", "wrong_answer/b.py.codes", "a list of codes"),
        ("wrong_answer/b.py: 0.5", "wrong_answer/b.py.codes", "a list of codes"),
    ],
)
def test_a_malformed_entry_is_one_line_naming_file_and_field(
    tmp_path: Path, entry: str, field: str, words: str
) -> None:
    path = written(tmp_path, entry + "\n")
    _, problems = read_expected(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: {field}: ") and words in problems[0]
    assert "\n" not in problems[0]


def report(verdict: Verdict, score: float, codes: list[str]) -> Report:
    return Report(
        problem=PROBLEM.name,
        submission="x.py",
        verdict=verdict,
        score=score,
        summary="s",
        diagnostics=[Diagnostic(c, Severity.ERROR, "m") for c in codes],
    )


def test_a_score_outside_its_range_fails_the_check() -> None:
    example = Example(Path("x.py"), "wrong_answer", ("not_flattened",), (0.9, 0.95))
    inside = check_example(
        PROBLEM, example, GradeOptions(), report(Verdict.WRONG_ANSWER, 0.9375, ["not_flattened"])
    )
    assert inside.passed, inside.message
    outside = check_example(
        PROBLEM, example, GradeOptions(), report(Verdict.WRONG_ANSWER, 0.45, ["not_flattened"])
    )
    assert not outside.passed
    assert outside.message == "score 0.45, expected [0.9, 0.95] (expected.yaml)"


def test_an_undeclared_score_is_not_checked() -> None:
    example = Example(Path("x.py"), "wrong_answer", ("not_flattened",))
    result = check_example(
        PROBLEM, example, GradeOptions(), report(Verdict.WRONG_ANSWER, 0.01, ["not_flattened"])
    )
    assert result.passed


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(1e-4, 1))
def test_in_range_accepts_every_rounded_score_inside_and_none_beyond(
    a: float, b: float, t: float, beyond: float
) -> None:
    """Reports round scores to 4 decimals: a score inside the range stays inside once rounded,
    and one a rounding step or more outside is out."""
    low, high = min(a, b), max(a, b)
    assert in_range(round(low + t * (high - low), 4), (low, high))
    assert not in_range(round(high + beyond, 4) + 1e-4, (low, high))
    assert not in_range(round(low - beyond, 4) - 1e-4, (low, high))


ROOT = Path(__file__).resolve().parents[2]


def readme_scores() -> dict[tuple[str, str], tuple[float, str]]:
    """The manual's table of example scores (docs/grading-a-file.md, Scoring):
    (problem, example) -> (score, declared)."""
    text = (ROOT / "docs" / "grading-a-file.md").read_text(encoding="utf-8")
    table = text.split("<!-- example scores: begin -->", 1)[1].split("<!-- example scores: end")[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("problem", "---"):
            rows[(cells[0], cells[1])] = (float(cells[3]), cells[4])
    return rows


def shown(score: tuple[float, float]) -> str:
    low, high = score
    return f"{low:g}" if low == high else f"[{low:g}, {high:g}]"


def test_the_readme_table_of_scores_matches_expected_yaml() -> None:
    """Every example that is neither accepted nor a compile error has a row; each row shows
    the range expected.yaml declares, and a measured score inside it."""
    from judge.check import examples
    from judge.problem import problem_names

    rows = readme_scores()
    wanted = {}
    for name in problem_names(ROOT / "problems"):
        for example in examples(name, ROOT / "problems")[0]:
            if example.verdict not in ("accepted", "compile_error"):
                wanted[(name, example.name)] = example.score
    assert set(rows) == set(wanted)
    for key, (score, declared) in rows.items():
        assert wanted[key] is not None, key
        assert declared == shown(wanted[key]), key
        assert in_range(score, wanted[key]), key
