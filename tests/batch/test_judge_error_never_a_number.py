"""A judge_error is never a number (issue 26): no grade in the gradebook, the exports and the
summary's statistics, and the students with none named on stderr. Records are built directly."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from batch_helpers import ROOT

from judge import cli
from judge.assignment.report import AssignmentReport, PartReport
from judge.batch import (
    Record,
    assigned,
    gradebook_text,
    no_grade,
    no_grade_line,
    summary_html,
    write_outputs,
)
from judge.render import lms
from judge.render import summary as summary_render
from judge.result import Report, Verdict

GOLDEN = ROOT / "tests" / "unit" / "golden" / "wrong_answer.json"
ROSTER = "file_id,Student,ID,SIS User ID,SIS Login ID,Section\n" + "".join(
    f"{s},{s.title()},{100 + k},s{k},{s}@x,A\n" for k, s in enumerate("abcde")
)


def _record(student: str, verdict: str, score: float) -> Record:
    report = json.loads(GOLDEN.read_text())
    report["verdict"], report["score"] = verdict, score
    when = "2025-01-01T00:00:00"
    return Record(student, report, "ab" * 32, "cd" * 32, "1.0.0", "0.1.0", "k", when, 1.0)


def _class() -> list[Record]:
    """Two judge_errors (stored with score 0, as a batch stores them) among three grades."""
    return [
        _record("a", "judge_error", 0.0),
        _record("b", "judge_error", 0.0),
        _record("c", "accepted", 1.0),
        _record("d", "wrong_answer", 0.4),
        _record("e", "wrong_answer", 0.5),
    ]


def test_a_judge_error_has_no_score() -> None:
    records = _class()
    assert [r.score for r in records] == [None, None, 1.0, 0.4, 0.5]
    no_number = _record("f", "wrong_answer", 0.0)
    del no_number.report["score"]
    assert no_number.score is None  # no real grading: no number either
    assert _record("g", "wrong_answer", 0.0).score == 0.0  # a real zero stays a zero


def test_two_judge_errors_are_two_empty_gradebook_cells() -> None:
    rows = list(csv.DictReader(io.StringIO(gradebook_text(_class()))))
    assert {r["student"]: r["score"] for r in rows} == {
        "a": "",
        "b": "",
        "c": "1",
        "d": "0.4",
        "e": "0.5",
    }
    assert [r["verdict"] for r in rows[:2]] == ["judge_error", "judge_error"]
    assert all(v == "" for r in rows[:2] for k, v in r.items() if k.startswith("rubric:"))


@pytest.mark.parametrize("kind", ["canvas", "csv"])
def test_two_judge_errors_are_two_empty_export_cells(kind: str) -> None:
    scores = {r.student: r.score for r in _class()}
    text, unmatched = lms.export(kind, scores, lms.read_roster(ROSTER), 20, "hw")
    rows = list(csv.reader(io.StringIO(text)))
    body = rows[2:] if kind == "canvas" else rows[1:]
    column = -1 if kind == "canvas" else 2
    assert [r[column] for r in body] == ["", "", "20", "8", "10"]
    assert unmatched == []


def test_the_summary_counts_the_others_only() -> None:
    rows = [r.summary_row() for r in _class()]
    assert summary_render.graded_scores(rows) == [1.0, 0.4, 0.5]
    assert sum(summary_render.score_histogram(rows)) == 3
    assert summary_render.ungraded_note(rows) == "2 judge errors, not counted"
    page = summary_html(_class())
    assert "mean score 0.63, median 0.50" in page  # not 0.38 with two zeros
    assert page.count("2 judge errors, not counted") == 2  # by the mean and the histogram
    assert summary_render.ungraded_note(rows[2:]) == ""
    assert summary_render.ungraded_note(rows[:1]) == "1 judge error, not counted"


def test_the_stderr_line_names_the_students_with_no_grade() -> None:
    records = _class()
    assert no_grade(records) == ["a", "b"]
    assert no_grade_line(records) == (
        "judge: 2 students have no grade (judge_error): a, b — see their feedback"
    )
    assert no_grade_line(records[:1]) == (
        "judge: 1 student has no grade (judge_error): a — see their feedback"
    )
    assert no_grade_line(records[2:]) is None
    assert "\x1b" not in (no_grade_line([_record("\x1b[2J", "judge_error", 0.0)]) or "")


def test_the_export_command_leaves_judge_errors_empty(tmp_path: Path) -> None:
    write_outputs(tmp_path / "out", _class())
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    target = tmp_path / "canvas.csv"
    argv = ["export", str(tmp_path / "out"), "--roster", str(roster), "--points", "10",
            "--out", str(target), "--assignment", "HW 1 (123)"]  # fmt: skip
    assert cli.main(argv) == 0
    rows = list(csv.reader(io.StringIO(target.read_text())))
    assert rows[0][-1] == "HW 1 (123)"
    assert [r[-1] for r in rows[2:]] == ["", "", "10", "4", "5"]


def test_a_canvas_rosters_points_possible_row_is_dropped() -> None:
    header, *students = ROSTER.splitlines(keepends=True)
    copied = header + "    Points Possible,,,,,,\n" + "".join(students)
    roster = lms.read_roster(copied)
    assert [r["file_id"] for r in roster] == list("abcde")
    canvas_order = "Student,ID,SIS User ID,SIS Login ID,Section,hw,file_id\n"
    canvas_order += "    Points Possible,,,,,20,\nAnn,101,s1,ann@x,A,,a\n"
    assert [r["file_id"] for r in lms.read_roster(canvas_order)] == ["a"]
    text, _ = lms.export("canvas", {"a": 1.0}, roster, 20, "hw")
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0].strip() for r in rows].count("Points Possible") == 1
    assert rows[1] == ["Points Possible", "", "", "", "", "20"]
    assert len(rows) == 2 + 5


def _assignment(student: str, *verdicts: tuple[Verdict, float]) -> Record:
    parts = [
        PartReport(f"p{k}", f"f{k}", 10.0, Report(f"p{k}", "hw.py", verdict, score, str(verdict)))
        for k, (verdict, score) in enumerate(verdicts)
    ]
    made = AssignmentReport("hw", "Homework", "hw.py", parts, {"total_s": 1.0})
    when = "2025-01-01T00:00:00"
    return Record(student, made.to_dict(), "ab" * 32, None, "1", "0.1.0", "k", when, 1.0)


def test_an_assignments_judge_error_leaves_its_points_empty() -> None:
    broken = _assignment("a", (Verdict.ACCEPTED, 1.0), (Verdict.JUDGE_ERROR, 0.0))
    fine = _assignment("b", (Verdict.ACCEPTED, 1.0), (Verdict.WRONG_ANSWER, 0.5))
    rows = list(csv.DictReader(io.StringIO(gradebook_text([broken, fine]))))
    assert [(r["score"], r["points"], r["points:p0"], r["points:p1"]) for r in rows] == [
        ("", "", "10", ""),
        ("0.75", "15", "10", "5"),
    ]
    assert rows[0]["max_points"] == "20"
    assert assigned.problem_means([broken, fine]) == [
        ("p0 (mean points)", "10.00 of 10"),
        ("p1 (mean points)", "5.00 of 10"),
        ("total (mean points)", "15.00 of 20"),
    ]
