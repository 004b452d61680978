"""``judge new`` and problem sets as Python distributions, end to end.

``judge new`` writes a problem set into a temporary folder; ``judge check`` must pass it as
written. The same folder is then built into a wheel (this environment's setuptools, no index)
and installed with ``--no-deps --no-index`` into a fresh virtual environment outside the
checkout, which reaches the judge's dependencies through a ``.pth`` line (no network, as
``test_wheel.py`` does). There, ``judge list`` must show the installed problem with its
distribution, and ``judge grade`` must grade the set's own examples by it, found through the
``jax_judge.problems`` entry point alone. The judge there is its own wheel, built and installed
as ``test_wheel.py`` does (so the judge and the set are both installed, as a learner's are);
grading runs with ``--sandbox none``: bubblewrap mounts only the interpreter's own
site-packages, not a folder a ``.pth`` adds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_wheel import build_wheel, install

from judge import cli

ROOT = Path(__file__).resolve().parents[2]
NAME = "course_dense"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def problem_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("course") / "course-problems"
    where.mkdir()
    assert cli.main(["new", NAME, "--into", str(where)]) == 0
    return where


def test_judge_new_writes_a_package_that_judge_check_passes(
    problem_set: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    for written in (
        f"problems/{NAME}/problem.yaml",
        f"problems/{NAME}/statement.md",
        f"reference/{NAME}.py",
        f"submissions/{NAME}/expected.yaml",
        "pyproject.toml",
    ):
        assert (problem_set / written).is_file(), written
    assert len(list((problem_set / "submissions" / NAME).glob("*/*.py"))) == 2
    monkeypatch.chdir(problem_set)  # ./problems is found, as an author would run it
    monkeypatch.delenv("JUDGE_PROBLEMS", raising=False)
    assert cli.main(["check", "--sandbox", "none"]) == 0, capsys.readouterr().out
    assert "5 of 5 passed" in capsys.readouterr().out
    # a second problem: the pyproject stays as it is, the name must be new
    assert cli.main(["new", "second_one", "--into", str(problem_set)]) == 0
    assert cli.main(["new", "second_one", "--into", str(problem_set)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["new", "Not-A-Name", "--into", str(problem_set)]) == 2


def test_an_installed_problem_set_is_listed_and_graded(problem_set: Path, tmp_path: Path) -> None:
    assert ROOT not in tmp_path.parents, "the test must run outside the checkout"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps",
         "--no-index", str(problem_set), "-w", str(tmp_path / "dist")],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("course_problems-*.whl")
    judge_script = install(build_wheel(tmp_path / "judge"), tmp_path / "venv")
    subprocess.run(
        [str(judge_script.with_name("python")), "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-index", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    work = tmp_path / "work"  # no ./problems here: the installed and bundled sets are used
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("JUDGE_PROBLEMS", "PYTHONPATH")}
    env["COLUMNS"] = "200"  # the table's rows unwrapped

    def judge(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(judge_script), *argv],
            cwd=work, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    listed = judge("list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if NAME in line)
    assert "course-problems 0.1.0" in row
    assert "nn_vmap_forward" in listed.stdout  # the bundled set is still there
    source = next(ln for ln in listed.stdout.splitlines() if ln.startswith("source course"))
    assert str(tmp_path / "venv") in source and "jax_judge.problems" in source
    with zipfile.ZipFile(wheel) as archive:  # the examples (answers) stay with the course
        names = archive.namelist()
    assert f"course_problems/reference/{NAME}.py" in names
    assert not any("submissions" in name for name in names)

    for verdict, code in (("accepted", 0), ("wrong_answer", 1)):
        (example,) = (problem_set / "submissions" / NAME / verdict).glob("*.py")
        graded = judge("grade", str(example), "--format", "json", "--sandbox", "none")
        assert graded.returncode == code, graded.stderr
        report = json.loads(graded.stdout)
        assert report["problem"] == NAME and report["verdict"] == verdict
