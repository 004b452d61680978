"""``judge batch`` picks a student's file as Gradescope does (one rule, ``judge.candidates``),
says which in the student's feedback, regrades when the pick changes the file, and shows the
student no path of the class and no advice meant for the instructor."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from batch_helpers import FakeGrade, fake_source

from judge import autograder
from judge.batch import collect, run_batch
from judge.batch import student as batch_student
from judge.candidates import PICKS, student_view
from judge.grading import GradeOptions
from judge.problem import Problem
from judge.render import classroom, gradescope, prairielearn
from judge.result import Report

ENTRY = "nn_vmap_forward"
OTHER = "def helper():\n    return 1\n"
INSTRUCTOR_WORDS = ("judge grade", "judge batch", "run the batch", "--pick")

FOLDERS = {
    "two_define": {"b.py": fake_source(), "a.py": fake_source(), "notes.py": OTHER},
    "none_defines": {"z.py": OTHER, "sub/y.py": OTHER},
    "one_defines": {"helpers.py": OTHER, "deep/sol.py": fake_source()},
    "nested": {"sub/b.py": fake_source(), "a.py": fake_source()},
}


def make_class(root: Path, newest: str = "b.py") -> Path:
    for student, files in FOLDERS.items():
        for name, text in files.items():
            path = root / student / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            stamp = 2_000_000 if Path(name).name == newest else 1_000_000
            os.utime(path, (stamp, stamp))
    return root


@pytest.mark.parametrize("pick", PICKS)
def test_the_same_file_as_gradescope(tmp_path: Path, pick: str) -> None:
    root = make_class(tmp_path / "class")
    entries = {e.student: e for e in collect(root, ENTRY, tmp_path / "scratch", pick=pick).entries}
    for student in FOLDERS:
        chosen, notes = autograder.choose(root / student, ENTRY, pick)
        entry = entries[student]
        assert entry.path == chosen, (student, pick)
        if chosen is None:
            assert entry.issue is not None and entry.issue[0] == "ambiguous_submission"
            continue
        assert (entry.note.message if entry.note else None) == (notes[0] if notes else None)


def _feedback_texts(out: Path, student: str) -> str:
    stem = out / "feedback" / student
    return stem.with_suffix(".md").read_text() + stem.with_suffix(".html").read_text()


def test_feedback_names_the_file_graded_and_no_class_path(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    root = make_class(tmp_path / "class")
    run_batch(root, problem, tmp_path / "out")
    lines = [
        json.loads(line) for line in (tmp_path / "out" / "reports.jsonl").read_text().splitlines()
    ]
    stored = {line["batch"]["student"]: line for line in lines}
    assert stored["nested"]["submission"] == f"{root}/nested/a.py"  # the instructor's path
    page = _feedback_texts(tmp_path / "out", "nested")
    assert "graded a.py, not sub/b.py" in page
    assert str(root) not in page and "class/" not in page
    assert "deep/sol.py" in _feedback_texts(tmp_path / "out", "one_defines")
    gradebook = (tmp_path / "out" / "gradebook.csv").read_text()
    assert f"{root}/nested/a.py" in gradebook


def test_nothing_graded_tells_the_student_what_to_do_and_the_instructor_the_rest(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    root = make_class(tmp_path / "class")
    (root / "gone").mkdir()
    (root / "gone" / "x.py").symlink_to(tmp_path / "missing.py")
    run_batch(root, problem, tmp_path / "out", pick="error")
    reports = (tmp_path / "out" / "reports.jsonl").read_text()
    assert "judge grade FILE" in reports and str(root) in reports  # the instructor's view
    for student in ("two_define", "none_defines", "nested", "gone"):
        page = _feedback_texts(tmp_path / "out", student)
        assert str(root) not in page and "class/" not in page, student
        assert not any(words in page for words in INSTRUCTOR_WORDS), student
    assert "Submit exactly one file that defines nn_vmap_forward" in _feedback_texts(
        tmp_path / "out", "two_define"
    )


def test_platform_outputs_of_a_class_report_show_no_class_path(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    root = make_class(tmp_path / "class")
    result = run_batch(root, problem, tmp_path / "out", pick="error")
    for record in result.records:
        seen = student_view(Report.from_dict(record.report), record.student)
        shown = {k: v for k, v in gradescope.results(seen).items() if k != "extra_data"}
        texts = {  # extra_data: the instructor's, never shown to learners
            "gradescope": json.dumps(shown),
            "prairielearn": prairielearn.render(seen),
            # test_code is the command that grades the file: the one learner-run command
            "classroom": json.dumps(
                [{**t, "test_code": ""} for t in classroom.results(seen)["tests"]]
            ),
        }
        for name, text in texts.items():
            assert str(root) not in text and "class/" not in text, (record.student, name)
            assert not any(words in text for words in INSTRUCTOR_WORDS), (record.student, name)


def test_gradescope_shows_the_learners_names(
    tmp_path: Path, problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(autograder, "grade", FakeGrade())
    (tmp_path / "submission").mkdir()
    for name, text in FOLDERS["nested"].items():
        (tmp_path / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "submission" / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    results = autograder.autograde(Path("."), ENTRY, None, GradeOptions())
    output = results["output"]
    assert "graded a.py, not sub/b.py" in output
    assert output.count("graded a.py") == 1  # the note, not again in the report below
    assert "submission/" not in output and "judge grade" not in output
    assert results["extra_data"]["report"]["submission"] == "a.py"
    strict = autograder.autograde(Path("."), ENTRY, None, GradeOptions(), pick="error")
    assert strict["tests"] == [] and "keep one" in strict["output"]
    assert "judge grade" not in strict["output"]


def _one_student(tmp_path: Path, older: str, newer: str) -> Path:
    """A class of one student, ``s``, with two files that define the function: ``a.py``
    (first by name, older) and ``b.py`` (newer)."""
    root = tmp_path / "class"
    (root / "s").mkdir(parents=True)
    (root / "s" / "a.py").write_text(older)
    (root / "s" / "b.py").write_text(newer)
    os.utime(root / "s" / "a.py", (1_000_000, 1_000_000))
    return root


def test_a_pick_that_changes_the_file_regrades(
    tmp_path: Path, problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeGrade()
    monkeypatch.setattr(batch_student, "grade", fake)
    root = _one_student(tmp_path, fake_source("wrong_answer", 0.5), fake_source())
    first = run_batch(root, problem, tmp_path / "out")
    assert first.graded == ["s"] and first.records[0].verdict == "wrong_answer"
    again = run_batch(root, problem, tmp_path / "out")
    assert again.reused == ["s"]
    newest = run_batch(root, problem, tmp_path / "out", pick="newest")
    assert newest.graded == ["s"] and newest.records[0].verdict == "accepted"
    assert newest.records[0].report["submission"].endswith("s/b.py")
    strict = run_batch(root, problem, tmp_path / "out", pick="error")
    assert strict.graded == ["s"] and strict.records[0].verdict == "judge_error"
    assert fake.calls == ["a.py", "b.py"]


def test_a_pick_of_an_identical_file_regrades_to_name_it(
    tmp_path: Path, problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_student, "grade", FakeGrade())
    root = _one_student(tmp_path, fake_source(), fake_source())  # only the names differ
    first = run_batch(root, problem, tmp_path / "out")
    assert first.records[0].report["submission"].endswith("s/a.py")
    newest = run_batch(root, problem, tmp_path / "out", pick="newest")
    assert newest.graded == ["s"]
    assert newest.records[0].report["submission"].endswith("s/b.py")


def test_an_assignments_feedback_shows_no_class_path(tmp_path: Path) -> None:
    from judge.assignment.report import AssignmentReport, PartReport
    from judge.batch import assigned
    from judge.batch.store import Record
    from judge.result import Diagnostic, Severity, Verdict

    shown = f"{tmp_path}/class/oscar/sub/sol.py"
    missing = Diagnostic("values_mismatch", Severity.ERROR, f"{shown}: 2 values differ", "")
    parts = [
        PartReport(
            name,
            "f",
            10.0,
            Report(name, shown, verdict, score, f"{verdict} in {shown}", diagnostics=[missing]),
        )
        for name, verdict, score in (
            ("p1", Verdict.ACCEPTED, 1.0),
            ("p2", Verdict.WRONG_ANSWER, 0.5),
        )
    ]
    report = AssignmentReport("hw", "Homework", shown, parts)
    record = Record("oscar", report.to_dict(), "ab" * 32, None, "1", "1", "k", "2026-01-01", 1.0)
    for page in (assigned.feedback_markdown(record), assigned.feedback_html(record)):
        assert str(tmp_path) not in page and "class/" not in page
        assert "sub/sol.py" in page
    assert shown in json.dumps(record.report)  # the instructor's record keeps the path


def test_an_assignments_gradescope_output_says_the_pick_once() -> None:
    from judge.assignment import render as assignment_render
    from judge.assignment.report import AssignmentReport, PartReport
    from judge.result import Diagnostic, Severity, Verdict

    note = "2 submitted files define f: graded a.py, not b.py. Submit only the file to grade."
    said = Diagnostic("ambiguous_submission", Severity.WARNING, note, "")
    parts = [
        PartReport(
            name,
            "f",
            5.0,
            Report(name, "a.py", Verdict.ACCEPTED, 1.0, "accepted", diagnostics=[said]),
        )
        for name in ("p1", "p2")
    ]
    report = AssignmentReport("hw", "Homework", "a.py", parts)
    output = assignment_render.gradescope_results(report, notes=[note])["output"]
    assert output.count("graded a.py, not b.py") == 1
