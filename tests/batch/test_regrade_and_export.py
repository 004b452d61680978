"""Forcing a regrade, and the LMS export of a class's grades."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from batch_helpers import FakeGrade, fake_source, write_class

from judge import cli
from judge.batch import run_batch
from judge.errors import UsageError
from judge.problem import Problem
from judge.render import lms


def test_regrade_grades_the_named_students_again_and_only_them(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    source = write_class(
        tmp_path / "class",
        {f"{s}.py": fake_source("accepted", 1.0) for s in ("ann", "bo", "cy")},
    )
    out = tmp_path / "out"
    run_batch(source, problem, out, jobs=1)
    assert sorted(fake_grade.calls) == ["ann.py", "bo.py", "cy.py"]
    fake_grade.calls.clear()
    run_batch(source, problem, out, jobs=1)  # unchanged: all reused
    assert fake_grade.calls == []
    run_batch(source, problem, out, jobs=1, regrade=["bo"])
    assert fake_grade.calls == ["bo.py"]
    fake_grade.calls.clear()
    run_batch(source, problem, out, jobs=1, regrade=[])  # everyone
    assert sorted(fake_grade.calls) == ["ann.py", "bo.py", "cy.py"]


def test_canvas_export_maps_the_roster_and_scales_to_points() -> None:
    roster = lms.read_roster(
        "file_id,Student,ID,SIS User ID,SIS Login ID,Section\n"
        'ann,"Lee, Ann",101,s1,ann@x,A\n'
        "bo,Bo Chan,102,s2,bo@x,A\n"
        "dee,Dee Vo,104,s4,dee@x,B\n"
    )
    text, unmatched = lms.export(
        "canvas", {"ann": 1.0, "bo": 0.455, "zed": 0.5}, roster, 20, "nn_vmap_forward"
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "nn_vmap_forward"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "20"
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["101"][0] == "Lee, Ann" and by_id["101"][-1] == "20"
    assert by_id["102"][-1] == "9.1"
    assert by_id["104"][-1] == ""  # on the roster, no result: left empty, never zero
    assert unmatched == ["zed"]


def test_a_roster_without_file_ids_is_refused() -> None:
    with pytest.raises(ValueError, match="file_id"):
        lms.read_roster("Student,ID\nAnn,1\n")


def test_export_command_writes_the_file_and_warns_of_unmatched(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_class(
        tmp_path / "class",
        {"ann.py": fake_source("accepted", 1.0), "zed.py": fake_source("wrong_answer", 0.5)},
    )
    run_batch(source, problem, tmp_path / "out", jobs=1)
    roster = tmp_path / "roster.csv"
    roster.write_text("file_id,lms_id\nann,u-1\n")
    target = tmp_path / "grades.csv"
    argv = ["export", str(tmp_path / "out"), "--lms", "csv", "--roster", str(roster),
            "--points", "10", "--out", str(target)]  # fmt: skip
    assert cli.main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows == [{"file_id": "ann", "lms_id": "u-1", "points": "10", "points_possible": "10"}]
    assert "zed has a result but no roster row" in capsys.readouterr().err


def test_a_file_name_that_is_not_utf8_is_graded_and_stored_not_a_crash(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    source = tmp_path / "class"
    source.mkdir()
    (source / "good.py").write_text(fake_source("accepted", 1.0))
    bad = os.fsdecode(bytes(source) + b"/bad\xff\xfe.py")
    Path(bad).write_text(fake_source("wrong_answer", 0.5))
    result = run_batch(source, problem, tmp_path / "out", jobs=1)
    students = sorted(r.student for r in result.records)
    assert students == ["bad\\xff\\xfe", "good"]
    for name in ("reports.jsonl", "gradebook.csv", "summary.html"):
        (tmp_path / "out" / name).read_text(encoding="utf-8")  # valid UTF-8 throughout


def test_junit_output_shows_learner_escapes_visibly_and_stays_xml() -> None:
    import xml.etree.ElementTree as ET

    from judge.render import junit
    from judge.result import Report, Verdict

    report = Report(
        problem="p", submission="s.py", verdict=Verdict.ACCEPTED, score=1.0, summary="ok",
        output={"stdout": "hi\x1b]0;owned\x07\x1b[2J\x9b31m", "stderr": ""},
    )  # fmt: skip
    text = junit.render(report)
    assert "\x1b" not in text and "\x07" not in text
    ET.fromstring(text)  # well-formed


def test_an_unknown_regrade_id_is_refused_before_anyone_is_graded(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    source = write_class(
        tmp_path / "class", {f"{s}.py": fake_source("accepted", 1.0) for s in ("ann", "bob")}
    )
    with pytest.raises(UsageError, match=r"no student 'bobb' \(did you mean bob\?\)"):
        run_batch(source, problem, tmp_path / "out", jobs=1, regrade=["ann", "bobb"])
    assert fake_grade.calls == []
    with pytest.raises(UsageError, match=r"no student 'zzz'$"):  # nothing close: no guess
        run_batch(source, problem, tmp_path / "out", jobs=1, regrade=["zzz"])


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--regrade", "ann"], ["ann"]),
        (["--regrade=ann,bo"], ["ann", "bo"]),
        (["--regrade", "ann", "--regrade", "cy"], ["ann", "cy"]),
        (["--regrade-all"], []),
        ([], None),
    ],
)
def test_regrade_ids_come_after_the_flag_and_never_swallow_the_source(
    flags: list[str], expected: list[str] | None
) -> None:
    from judge.cli import _regrade
    from judge.cli_args import build_parser

    # The flag before SOURCE: SOURCE stays the source (nargs="*" used to eat it).
    args = build_parser().parse_args(["batch", *flags, "class", "--problem", "p", "--out", "o"])
    assert args.source == "class"
    assert _regrade(args) == expected


def test_regrade_refuses_an_empty_id_list() -> None:
    from judge.cli_args import build_parser

    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["batch", "class", "--out", "o", "--regrade=,"])
    assert stopped.value.code == 2
