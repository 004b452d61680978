"""Small cuts of issue 26: `judge new --into DIR` makes DIR, and a check with nothing to check
says `skipped` (never `pass`), in the table and in JUnit."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import judge.check as check_module
from judge import GradeOptions
from judge.check import CheckResult
from judge.cli import main
from judge.render import junit


def test_new_makes_the_folder_it_writes_into(tmp_path: Path) -> None:
    into = tmp_path / "course-problems" / "nested"
    assert main(["new", "dense_forward", "--into", str(into)]) == 0
    assert (into / "problems" / "dense_forward" / "problem.yaml").is_file()


def test_new_refuses_a_file_as_its_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main(["new", "dense_forward", "--into", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_problem_without_examples_is_skipped_not_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["new", "dense_forward", "--into", str(tmp_path)]) == 0
    shutil.rmtree(tmp_path / "submissions")  # as a wheel install or a bundle's setup has it
    ran = CheckResult("dense_forward", "ran", True)
    monkeypatch.setattr(check_module, "check_reference", lambda *a: ran)  # no grading needed here
    monkeypatch.setattr(check_module, "check_fingerprint", lambda *a: ran)
    results = list(
        check_module.check_problem("dense_forward", tmp_path / "problems", GradeOptions())
    )
    examples = [r for r in results if "matches the examples" in r.name]
    assert len(examples) == 1 and examples[0].skipped and "nothing to check" in examples[0].skipped
    suites = ET.fromstring(junit.render_checks(results))
    assert suites.get("skipped") == "1" and suites.get("failures") == "0"
    assert suites.find(".//testcase/skipped") is not None


def test_check_takes_an_assignment_by_name_as_a_problem() -> None:
    from judge.assignment.check import assignment_names_in, count_checks
    from judge.problem import default_problems_dir

    folder = default_problems_dir()
    (name,) = assignment_names_in(folder)[:1]
    assert count_checks([name], folder) >= 2  # its own checks, and no problem's
    assert count_checks([name], folder) < count_checks(None, folder)
    assert count_checks(["nn_vmap_forward"], folder) + count_checks([name], folder) == (
        count_checks(["nn_vmap_forward", name], folder)
    )
