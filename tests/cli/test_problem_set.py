"""judge check, list, show, the JUnit and Gradescope formats, and the Gradescope bundle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import yaml

from judge import cli
from judge.problem import load_problem

ROOT = Path(__file__).resolve().parents[2]
JUDGE = str(Path(sys.executable).with_name("judge"))


def small_set(tmp_path: Path, expected: dict[str, list[str]]) -> Path:
    """A problem set with the second problem, no fingerprints, and two examples."""
    shutil.copytree(
        ROOT / "problems" / "nn_vmap_ensemble", tmp_path / "problems" / "nn_vmap_ensemble"
    )
    (tmp_path / "reference").mkdir()
    shutil.copy(ROOT / "reference" / "nn_vmap_ensemble.py", tmp_path / "reference")
    path = tmp_path / "problems" / "nn_vmap_ensemble" / "problem.yaml"
    data = yaml.safe_load(path.read_text())
    data.pop("fingerprints")
    for item in data["rubric"]:  # partial credit may name only the fingerprints there are
        item.get("partial", {}).pop("wrong_flatten_order", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    examples = tmp_path / "submissions" / "nn_vmap_ensemble"
    for name in expected:
        source = ROOT / "submissions" / "nn_vmap_ensemble" / name
        (examples / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, examples / name)
    (examples / "expected.yaml").write_text(yaml.safe_dump(expected))
    return tmp_path / "problems"


@pytest.mark.slow
def test_check_fails_names_the_reason_and_writes_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = small_set(
        tmp_path, {"accepted/canonical.py": [], "wrong_answer/shared_layer.py": ["missing_bias"]}
    )
    junit = tmp_path / "check.xml"
    code = cli.main(["check", "--problems", str(problems), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    (line,) = [ln for ln in out.splitlines() if ln.startswith("FAIL ")]
    assert line.startswith("FAIL nn_vmap_ensemble wrong_answer/shared_layer.py: missing codes")
    assert "missing_bias" in line
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "5" and root.get("failures") == "1"
    (failure,) = root.iter("failure")
    assert "missing codes ['missing_bias']" in failure.get("message", "")
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == [
        "problem.yaml is valid",
        "reference is accepted",
        "expected.yaml matches the examples",
        "accepted/canonical.py",
        "wrong_answer/shared_layer.py",
    ]


@pytest.mark.slow
def test_check_passes_when_everything_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = small_set(
        tmp_path, {"accepted/canonical.py": [], "wrong_answer/shared_layer.py": ["shared_params"]}
    )
    assert cli.main(["check", "--problems", str(problems)]) == 0
    assert "5 of 5 passed" in capsys.readouterr().out


def test_check_reports_an_invalid_package_and_a_stray_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = small_set(tmp_path, {"accepted/canonical.py": []})
    path = problems / "nn_vmap_ensemble" / "problem.yaml"
    path.write_text(path.read_text().replace("count: 16", "count: 'many'"))
    assert cli.main(["check", "--problems", str(problems)]) == 1
    out = capsys.readouterr().out
    assert "problem.yaml is valid" in out and "cases.count" in out


def test_check_of_an_unknown_problem_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "nn_vmap_forwrd"]) == 2
    assert "did you mean 'nn_vmap_forward'" in capsys.readouterr().err


def test_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "nn_vmap_forward" in listing and "nn_vmap_ensemble" in listing
    assert "nn.vmap with shared" in listing
    assert cli.main(["show", "nn_vmap_forward"]) == 0
    shown = capsys.readouterr().out
    assert "Your task" in shown and "variable_axes" in shown


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["junit", "gradescope"])
def test_grade_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = ROOT / "submissions" / "nn_vmap_forward" / "wrong_answer" / "no_bias.py"
    assert cli.main(["grade", str(wrong), "--format", fmt]) == 1
    out = capsys.readouterr().out
    if fmt == "junit":
        suite = ET.fromstring(out).find("testsuite")
        items = len(load_problem("nn_vmap_forward").rubric)  # one test per rubric item
        assert suite is not None and suite.get("tests") == str(items)
        assert suite.get("failures") == "1"
        (failure,) = suite.iter("failure")
        assert "no bias" in (failure.text or "")
    else:
        results = json.loads(out)
        assert "max_score" not in results  # not a top-level field in Gradescope's specification
        assert results["output_format"] == "md"
        assert results["score"] == pytest.approx(85.0)
        assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(100.0)
        failed = [t for t in results["tests"] if t["status"] == "failed"]
        assert len(failed) == 1 and "no bias" in failed[0]["output"]
        assert all(t["visibility"] == "visible" for t in results["tests"])


@pytest.fixture
def autograder(tmp_path: Path) -> Path:
    """A fake /autograder tree with the bundle unpacked into source/, as Gradescope does."""
    bundle = tmp_path / "autograder.zip"
    assert cli.main(["gradescope-bundle", "nn_vmap_forward", "-o", str(bundle)]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for name in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(name).external_attr >> 16
            assert mode & 0o111, f"{name} is not executable in the zip"
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "JUDGE": JUDGE}
    done = subprocess.run(
        ["bash", str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_bundle_contents(autograder: Path) -> None:
    source = autograder / "source"
    (wheel,) = (source / "judge_wheel").glob("jax_judge-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "judge/cli.py" in names and "judge/bundle_scripts/setup.sh" in names
    assert not any("_bundled" in n or "__pycache__" in n for n in names)
    assert "# python: " in (source / "constraints.txt").read_text()
    assert (source / "problems" / "nn_vmap_forward" / "problem.yaml").is_file()
    assert (source / "reference" / "nn_vmap_forward.py").is_file()
    assert subprocess.run(["bash", "-n", str(source / "setup.sh")]).returncode == 0


@pytest.mark.slow
def test_bundle_setup_checks_the_package_it_carries(
    autograder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """setup.sh runs `judge check` on the bundled problems (failing the build when the
    reference is not accepted, and warming the cache): that check passes on what the zip holds."""
    setup = (autograder / "source" / "setup.sh").read_text()
    assert 'judge" check --problems ./problems' in setup
    assert cli.main(["check", "--problems", str(autograder / "source" / "problems")]) == 0
    assert "FAIL" not in capsys.readouterr().out


@pytest.mark.slow
def test_bundle_grades_the_submission(autograder: Path) -> None:
    shutil.copy(
        ROOT / "submissions" / "nn_vmap_forward" / "accepted" / "from_imports.py",
        autograder / "submission" / "solution.py",
    )
    (autograder / "submission" / "notes.py").write_text("# not the solution\n")
    results = run_autograder(autograder)
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) == 100.0
    items = len(load_problem("nn_vmap_forward").rubric)  # one test per rubric item
    assert len(results["tests"]) == items
    assert all(t["status"] == "passed" for t in results["tests"])
    assert results["extra_data"]["lock"]["pinned"] > 0


def test_bundle_without_a_submission_still_writes_results(autograder: Path) -> None:
    results = run_autograder(autograder)
    assert results["score"] == 0.0 and results["tests"] == []
    assert "No .py or .ipynb file" in results["output"]
