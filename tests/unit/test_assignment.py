"""Assignments without grading: assignment.yaml validated and found, the report's rules and its
renderings, a class's gradebook, summary and resume facts. Fast: no worker is started."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml

from judge import cli
from judge.assignment import (
    ASSIGNMENT_SCHEMA,
    AssignmentReport,
    PartReport,
    default_assignments_dir,
    load_assignment,
)
from judge.assignment.render import gradescope_results, render_json, render_text
from judge.batch import Record, gradebook_text, read_records
from judge.batch.assigned import problem_means
from judge.errors import ProblemError, ProblemNotFound
from judge.result import Diagnostic, Report, RubricResult, Severity, Verdict

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS = ROOT / "problems"


def problem_set(tmp_path: Path, assignment: dict | str, name: str = "hw") -> Path:
    """A copy of the bundled problem set with one assignment; returns its problems folder."""
    shutil.copytree(PROBLEMS, tmp_path / "problems")
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    folder = tmp_path / "assignments" / name
    folder.mkdir(parents=True)
    text = assignment if isinstance(assignment, str) else yaml.safe_dump(assignment)
    (folder / "assignment.yaml").write_text(text)
    return tmp_path / "problems"


def test_the_bundled_assignment_has_both_problems() -> None:
    assignment = load_assignment("hw_vmap", PROBLEMS)
    assert [p.name for p in assignment.parts] == ["nn_vmap_forward", "nn_vmap_ensemble"]
    assert assignment.max_points == 20
    assert assignment.entry_points == ("nn_vmap_forward", "nn_vmap_ensemble")
    assert all(p.problem.reference_entry_point == "" for p in assignment.parts)


def test_assignments_are_found_beside_the_problems_folder(tmp_path: Path) -> None:
    problems = problem_set(
        tmp_path, {"name": "hw", "problems": [{"problem": "nn_vmap_forward", "points": 3}]}
    )
    assert default_assignments_dir(problems) == tmp_path / "assignments"
    assert load_assignment("hw", problems).max_points == 3
    # a path to the file works too, its problems found beside it
    assert load_assignment(str(tmp_path / "assignments" / "hw" / "assignment.yaml")).name == "hw"


def test_judge_assignments_variable_names_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_ASSIGNMENTS", str(tmp_path))
    assert default_assignments_dir(PROBLEMS) == tmp_path


def test_an_unknown_assignment_gets_a_did_you_mean() -> None:
    with pytest.raises(
        ProblemNotFound, match=r"no assignment named 'hw_vmp'.*did you mean 'hw_vmap'"
    ):
        load_assignment("hw_vmp", PROBLEMS)


def test_a_renamed_function_keeps_the_references_name(tmp_path: Path) -> None:
    problems = problem_set(
        tmp_path,
        {
            "name": "hw",
            "problems": [{"problem": "nn_vmap_forward", "points": 5, "entry_point": "forward"}],
        },
    )
    (part,) = load_assignment("hw", problems).parts
    assert part.entry_point == "forward"
    assert part.problem.reference_entry_point == "nn_vmap_forward"


def test_every_error_is_listed_with_its_field(tmp_path: Path) -> None:
    problems = problem_set(
        tmp_path,
        {
            "name": "other",
            "problem": [],
            "problems": [
                {"problem": "nn_vmap_forwrd", "points": 1},
                {"problem": "nn_vmap_ensemble", "points": -2},
                {"problem": "nn_vmap_ensemble", "points": "ten"},
                {"problem": "nn_vmap_forward", "points": 1, "entry_point": "not valid"},
                {"problem": "nn_vmap_forward", "points": 1, "extra": 1},
            ],
        },
    )
    with pytest.raises(ProblemError) as caught:
        load_assignment("hw", problems)
    fields = dict(caught.value.errors)
    assert "differs from its folder name 'hw'" in fields["name"]
    assert "did you mean 'problems'" in fields["problem"]
    assert "did you mean 'nn_vmap_forward'" in fields["problems[0].problem"]
    assert "expected a positive number, got -2" in fields["problems[1].points"]
    assert "'ten' (str)" in fields["problems[2].points"]
    assert "identifier" in fields["problems[3].entry_point"]
    assert "unknown key" in fields["problems[4].extra"]
    assert caught.value.path.endswith("assignment.yaml")


def test_a_problem_or_a_function_twice_is_an_error(tmp_path: Path) -> None:
    problems = problem_set(
        tmp_path,
        {
            "name": "hw",
            "problems": [
                {"problem": "nn_vmap_forward", "points": 1},
                {"problem": "nn_vmap_forward", "points": 1},
                {"problem": "nn_vmap_ensemble", "points": 1, "entry_point": "nn_vmap_forward"},
            ],
        },
    )
    with pytest.raises(ProblemError) as caught:
        load_assignment("hw", problems)
    fields = dict(caught.value.errors)
    assert "listed twice" in fields["problems[1].problem"]
    assert "another problem's function" in fields["problems[2].entry_point"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["grade", "x.py", "--assignment", "hw", "--problem", "p"], "not both"),
        (["batch", "class", "--out", "o"], "pass --problem NAME or --assignment NAME"),
        (["gradescope-bundle"], "pass PROBLEM NAME or --assignment NAME"),
        (["autograde", "--root", "r"], "pass --problem NAME or --assignment NAME"),
        (["gradescope-bundle", "--assignment", "hw", "--points", "50"], "leave --points out"),
        (["grade", "x.py", "--assignment", "hw", "--format", "junit"], "--format junit"),
        (["grade", "x.py", "--assignment", "nope"], "no assignment named 'nope'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = problem_set(
        tmp_path, {"name": "hw", "problems": [{"problem": "nn_vmap_forward", "points": 1}]}
    )
    code = cli.main([*argv, "--problems", str(problems)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and words in err, err


def test_an_invalid_assignment_exits_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = problem_set(
        tmp_path, "name: hw\nproblems:\n  - {problem: nn_vmap_forward, points: 0}\n"
    )
    code = cli.main(["grade", "x.py", "--assignment", "hw", "--problems", str(problems)])
    err = capsys.readouterr().err
    assert code == 2
    assert "assignment.yaml: problems[0].points: expected a positive number, got 0" in err


# --- the report ----------------------------------------------------------------------------------


def report(problem: str, verdict: Verdict, score: float) -> Report:
    diagnostics = (
        []
        if verdict is Verdict.ACCEPTED
        else [
            Diagnostic("entry_point_missing", Severity.ERROR, f"{problem} is missing", "define it")
        ]
    )
    rubric = [
        {"id": "outputs_match", "title": "outputs", "check": "outputs", "weight": 0.6,
         "required": True, "passed": score == 1.0, "score": 0.6 * score, "codes": []},
        {"id": "structure", "title": "structure", "check": "transform", "weight": 0.4,
         "required": True, "passed": score == 1.0, "score": 0.4 * score, "codes": []},
    ]  # fmt: skip
    return Report(problem, "hw.py", verdict, score, f"{verdict}", diagnostics=diagnostics,
                  environment={"sandbox": "bwrap", "judge": "0"},
                  rubric=[RubricResult.from_dict(item) for item in rubric])  # fmt: skip


def assignment_report(*verdicts: tuple[Verdict, float]) -> AssignmentReport:
    parts = [
        PartReport(f"p{k}", f"f{k}", 10.0 * (k + 1), report(f"p{k}", verdict, score))
        for k, (verdict, score) in enumerate(verdicts)
    ]
    return AssignmentReport("hw", "Homework", "hw.py", parts, {"total_s": 1.5})


@pytest.mark.parametrize(
    ("verdicts", "expected", "code"),
    [
        ([(Verdict.ACCEPTED, 1.0), (Verdict.ACCEPTED, 1.0)], Verdict.ACCEPTED, 0),
        ([(Verdict.ACCEPTED, 1.0), (Verdict.COMPILE_ERROR, 0.0)], Verdict.COMPILE_ERROR, 1),
        ([(Verdict.WRONG_ANSWER, 0.5), (Verdict.COMPILE_ERROR, 0.0)], Verdict.WRONG_ANSWER, 1),
        ([(Verdict.WRONG_ANSWER, 0.5), (Verdict.JUDGE_ERROR, 0.0)], Verdict.JUDGE_ERROR, 3),
    ],
)
def test_the_verdict_and_exit_code_follow_judge_grades_rule(
    verdicts: list[tuple[Verdict, float]], expected: Verdict, code: int
) -> None:
    made = assignment_report(*verdicts)
    assert made.verdict is expected
    assert made.exit_code == code


def test_points_are_each_problems_score_times_its_points() -> None:
    made = assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.WRONG_ANSWER, 0.25))
    assert [p.points for p in made.parts] == [10.0, 5.0]
    assert (made.points, made.max_points, made.score) == (15.0, 30.0, 0.5)


def test_the_json_document_has_its_own_schema_and_reads_back() -> None:
    made = assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.COMPILE_ERROR, 0.0))
    data = json.loads(render_json(made))
    assert data["schema"] == ASSIGNMENT_SCHEMA
    assert [p["problem"] for p in data["problems"]] == ["p0", "p1"]
    assert all(p["report"]["schema"] == "judge.report/1" for p in data["problems"])
    assert (data["points"], data["max_points"], data["verdict"]) == (10.0, 30.0, "compile_error")
    assert AssignmentReport.from_dict(data).to_dict() == data


def test_the_text_report_has_the_total_each_section_and_a_table() -> None:
    text = render_text(assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.COMPILE_ERROR, 0.0)))
    lines = text.splitlines()
    assert lines[0].startswith("compile_error  hw · hw.py · 10 / 30 points")
    assert any(line.startswith("── p0 · 10 / 10 points") for line in lines)
    assert any(line.startswith("── p1 · 0 / 20 points") for line in lines)
    assert "p1 is missing" in text  # the section is the problem's own report
    assert lines[-1].split() == ["total", "10", "/", "30"]


def test_gradescope_gets_a_test_per_item_per_problem_out_of_the_assignments_points() -> None:
    made = assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.WRONG_ANSWER, 0.5))
    results = gradescope_results(made, visibility={"p1": {"structure": "hidden"}})
    names = [t["name"] for t in results["tests"]]
    assert names == ["p0: outputs", "p0: structure", "p1: outputs", "p1: structure"]
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(30.0)
    assert results["score"] == 20.0
    assert results["tests"][3]["visibility"] == "hidden"
    assert "shown later" in results["output"]  # a hidden item hides the total too
    assert results["extra_data"]["report"]["schema"] == ASSIGNMENT_SCHEMA


# --- a class -------------------------------------------------------------------------------------


def record(student: str, made: AssignmentReport) -> Record:
    return Record(student, made.to_dict(), "sha", None, "v1", "0", "opts", "2026-01-01", 1.0)


def test_the_gradebook_has_a_points_column_per_problem_and_the_total(tmp_path: Path) -> None:
    good = record("alice", assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.ACCEPTED, 1.0)))
    half = record("bob", assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.WRONG_ANSWER, 0.5)))
    rows = list(csv.DictReader(io.StringIO(gradebook_text([good, half]))))
    assert rows[1]["points"] == "20" and rows[1]["max_points"] == "30"
    assert (rows[1]["points:p0"], rows[1]["points:p1"]) == ("10", "10")
    assert rows[1]["rubric:p1/outputs_match"] == "6"  # 0.5 of 0.6 of 20 points
    assert rows[1]["codes"] == "p1:entry_point_missing"
    assert rows[1]["problem"] == "hw"


def test_an_assignment_record_survives_reports_jsonl(tmp_path: Path) -> None:
    made = record("bob", assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.WRONG_ANSWER, 0.5)))
    (tmp_path / "reports.jsonl").write_text(made.to_json() + "\n")
    (back,), bad = read_records(tmp_path / "reports.jsonl")
    assert bad == 0
    assert (back.problem, back.verdict, back.score) == ("hw", "wrong_answer", made.score)


def test_the_summary_row_and_the_mean_points_per_problem() -> None:
    a = record("a", assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.COMPILE_ERROR, 0.0)))
    b = record("b", assignment_report((Verdict.ACCEPTED, 1.0), (Verdict.ACCEPTED, 1.0)))
    row = a.summary_row()
    assert row.root_cause == "entry_point_missing"
    assert row.root_message == "p1: p1 is missing"
    assert [(ident, passed) for ident, _, passed in row.rubric] == [("p0", True), ("p1", False)]
    assert problem_means([a, b]) == [
        ("p0 (mean points)", "10.00 of 10"),
        ("p1 (mean points)", "10.00 of 20"),
        ("total (mean points)", "20.00 of 30"),
    ]
