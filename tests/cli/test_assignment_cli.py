"""Assignments end to end: ``judge grade --assignment``, ``judge batch --assignment`` (and its
resume), a renamed function, and the Gradescope bundle with ``judge autograde``. Slow: each
grades real files in JAX workers."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml

from judge import cli

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS = ROOT / "problems"
EXAMPLES = ROOT / "submissions" / "assignments" / "hw_vmap"
ENSEMBLE = ROOT / "submissions" / "nn_vmap_ensemble" / "accepted" / "canonical.py"

pytestmark = pytest.mark.slow


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_grade_scores_each_problem_and_a_missing_function_costs_only_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [
        "grade",
        str(EXAMPLES / "one_missing.py"),
        "--assignment",
        "hw_vmap",
        "--format",
        "json",
    ]
    code, out, _ = run([*argv, "--problems", str(PROBLEMS)], capsys)
    data = json.loads(out)
    assert code == 1  # not every problem accepted
    assert data["schema"] == "judge.assignment/1"
    sections = {p["problem"]: p for p in data["problems"]}
    assert sections["nn_vmap_forward"]["verdict"] == "accepted"
    assert sections["nn_vmap_forward"]["points"] == 10
    assert sections["nn_vmap_ensemble"]["verdict"] == "compile_error"
    missing = sections["nn_vmap_ensemble"]["report"]["diagnostics"][0]
    assert missing["code"] == "entry_point_missing"
    assert "Rename" not in missing["message"]  # never "rename nn_vmap_forward": another problem's
    assert (data["points"], data["max_points"], data["verdict"]) == (10, 20, "compile_error")


def test_an_assignment_may_rename_a_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The learner's ``ensemble`` is graded; the reference still defines nn_vmap_ensemble."""
    shutil.copytree(PROBLEMS, tmp_path / "problems")
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    folder = tmp_path / "assignments" / "hw"
    folder.mkdir(parents=True)
    spec = {"problem": "nn_vmap_ensemble", "points": 4, "entry_point": "ensemble"}
    (folder / "assignment.yaml").write_text(yaml.safe_dump({"name": "hw", "problems": [spec]}))
    learner = tmp_path / "hw.py"
    learner.write_text(ENSEMBLE.read_text().replace("def nn_vmap_ensemble(", "def ensemble("))
    argv = ["grade", str(learner), "--assignment", "hw", "--problems", str(tmp_path / "problems")]
    code, out, _ = run(argv, capsys)
    assert code == 0, out
    assert out.splitlines()[0].startswith("accepted  hw · ")
    assert out.splitlines()[-1].split() == ["total", "4", "/", "4"]


def test_batch_writes_a_column_per_problem_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "class"
    source.mkdir()
    shutil.copy(EXAMPLES / "complete.py", source / "alice.py")
    shutil.copy(EXAMPLES / "one_missing.py", source / "bob.py")
    out = tmp_path / "out"
    argv = ["batch", str(source), "--assignment", "hw_vmap", "--out", str(out), "--jobs", "2"]
    code, printed, _ = run([*argv, "--problems", str(PROBLEMS)], capsys)
    assert code == 0
    assert "graded 2, reused 0" in printed
    rows = {
        r["student"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))
    }
    assert (rows["alice"]["points"], rows["alice"]["verdict"]) == ("20", "accepted")
    assert rows["bob"]["points:nn_vmap_forward"] == "10"
    assert rows["bob"]["points:nn_vmap_ensemble"] == "0"
    assert rows["bob"]["points"] == "10" and rows["bob"]["max_points"] == "20"
    assert rows["bob"]["codes"] == "nn_vmap_ensemble:entry_point_missing"
    feedback = (out / "feedback" / "bob.md").read_text()
    assert "── nn_vmap_forward · 10 / 10 points" in feedback
    assert "── nn_vmap_ensemble · 0 / 10 points" in feedback
    summary = (out / "summary.html").read_text()
    assert "nn_vmap_ensemble (mean points): 5.00 of 10" in summary
    # A rerun reuses both; a line torn by a kill is ignored and that student graded again.
    lines = (out / "reports.jsonl").read_text().splitlines()
    torn = next(line for line in lines if '"student": "bob"' in line)
    kept = [line for line in lines if line != torn]
    (out / "reports.jsonl").write_text("\n".join([*kept, torn[: len(torn) // 2]]))
    code, printed, _ = run([*argv, "--problems", str(PROBLEMS)], capsys)
    assert code == 0
    assert "graded 1, reused 1" in printed


def test_the_gradescope_bundle_and_autograde_grade_the_assignment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "autograder.zip"
    argv = ["gradescope-bundle", "--assignment", "hw_vmap", "-o", str(bundle)]
    code, printed, _ = run([*argv, "--problems", str(PROBLEMS)], capsys)
    assert code == 0 and "worth 20 points" in printed
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        archive.extractall(root / "source")
    assert {
        "assignments/hw_vmap/assignment.yaml",
        "problems/nn_vmap_forward/problem.yaml",
        "problems/nn_vmap_ensemble/problem.yaml",
        "reference/nn_vmap_forward.py",
        "reference/nn_vmap_ensemble.py",
    } <= names
    script = (root / "source" / "run_autograder").read_text()
    assert "--assignment hw_vmap" in script and "--points" not in script
    (root / "submission").mkdir()
    shutil.copy(EXAMPLES / "one_missing.py", root / "submission" / "homework.py")
    problems = root / "source" / "problems"
    argv = [
        "autograde",
        "--root",
        str(root),
        "--assignment",
        "hw_vmap",
        "--problems",
        str(problems),
    ]
    code, printed, _ = run(argv, capsys)
    assert code == 0, printed
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 10
    by_problem = {}
    for test in results["tests"]:
        problem = test["name"].split(":")[0]
        by_problem[problem] = by_problem.get(problem, 0) + test["max_score"]
    assert by_problem == pytest.approx({"nn_vmap_forward": 10, "nn_vmap_ensemble": 10})
    assert results["extra_data"]["report"]["schema"] == "judge.assignment/1"
