"""The wheel, installed as an instructor or CI would: not editable, outside the checkout.

The wheel is built from a copy of the tree (a build leaves ``build/`` and ``*.egg-info`` behind,
which must not land in the checkout others work in), with this environment's setuptools and no
index (``--no-build-isolation``). It is installed into a fresh virtual environment in a
temporary folder with ``--no-deps --no-index``; that environment then reaches its dependencies
(JAX, Flax, ...) through a ``.pth`` line naming this environment's site-packages, added after
the install, so no network is needed. What is under test is the wheel's own content: the judge
it imports and the problem set it finds are the installed ones, never the checkout's.

The grading here runs with ``--sandbox none`` (the file is one of the project's own examples):
bubblewrap mounts only the interpreter's own site-packages, not a folder a ``.pth`` line adds,
so the learner's worker would not find numpy. The Gradescope image test installs every
dependency into its environment and grades under the default sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "judge",
    "problems",
    "reference",
    "assignments",
)


def build_wheel(into: Path) -> Path:
    tree = into / "src"
    tree.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=skip)
        else:
            shutil.copy2(source, tree / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps",
         "--no-index", str(tree), "-w", str(into / "dist")],
        check=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (into / "dist").glob("jax_judge-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A fresh environment holding the wheel; its dependencies reached through a .pth line."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "zz_judge_test_dependencies.pth").write_text(ours + "\n")
    return venv / "bin" / "judge"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    where = tmp_path_factory.mktemp("wheel")
    assert ROOT not in where.parents, "the test must run outside the checkout"
    wheel = build_wheel(where)
    return wheel, install(wheel, where / "venv")


def run(judge: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JUDGE_PROBLEMS", "PYTHONPATH")}
    return subprocess.run(
        [str(judge), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_the_wheel_carries_the_problems_and_references(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for problem in ("nn_vmap_forward", "nn_vmap_ensemble"):
        assert f"judge/_bundled/problems/{problem}/problem.yaml" in names
        assert f"judge/_bundled/problems/{problem}/statement.md" in names
        assert f"judge/_bundled/reference/{problem}.py" in names
    assert "judge/_bundled/problems/nn_vmap_forward/fingerprints/column_major.py" in names
    assert "judge/_bundled/assignments/hw_vmap/assignment.yaml" in names  # beside problems/
    assert "judge/bundle_scripts/setup.sh" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


@pytest.mark.slow
def test_an_installed_wheel_lists_and_grades_its_bundled_problem(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, judge = installed
    venv = judge.parent.parent
    where = run(venv / "bin" / "python", "-c", "import judge; print(judge.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    listed = run(judge, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "nn_vmap_forward" in listed.stdout and "nn_vmap_ensemble" in listed.stdout
    assert "_bundled" in listed.stdout.replace("\n", "").replace(" ", "")

    learner = tmp_path / "forgot_flatten.py"
    shutil.copy(ROOT / "submissions" / "nn_vmap_forward" / "accepted" / "canonical.py", learner)
    graded = run(
        judge, "grade", learner.name, "--format", "json", "--sandbox", "none", cwd=tmp_path
    )
    assert graded.returncode == 0, graded.stderr
    report = json.loads(graded.stdout)
    assert report["problem"] == "nn_vmap_forward" and report["verdict"] == "accepted"

    empty = run(judge, "list", "--problems", str(tmp_path), cwd=tmp_path)
    assert empty.returncode == 2 and "no problem packages" in empty.stderr


# A learner's file that looks for the judge's own files on its sys.path and prints what it
# can read of each (the wheel puts the references and problems inside site-packages).
SEEKS_THE_ANSWER_KEY = """
import os, sys
for entry in list(sys.path):
    for rel in ("judge/_bundled/reference/nn_vmap_forward.py",
                "judge/_bundled/problems/nn_vmap_forward/problem.yaml",
                "judge/grading/run.py", "judge/__init__.py"):
        path = os.path.join(entry, rel)
        if not os.path.isdir(os.path.join(entry, "judge")):
            continue
        if not os.path.lexists(path):
            print("ABSENT", path)  # bubblewrap covers the package with an empty folder
            continue
        try:
            with open(path) as f:
                print("READ", path, f.read())
        except OSError as exc:
            print("REFUSED", path, type(exc).__name__)
import flax.linen as nn
import jax


def nn_vmap_forward(seed, x_batch, features):
    return x_batch.reshape(-1)
"""


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", ["landlock", "bwrap"])
def test_a_wheel_installs_learner_cannot_read_the_judges_files(
    installed: tuple[Path, Path], tmp_path: Path, sandbox: str
) -> None:
    """Under a kernel sandbox, the installed judge's package (but its runtime) is out of the
    learner's reach, while numpy, JAX and Flax beside it still import."""
    from judge.sandbox import bwrap_problem, landlock_problem

    problem = landlock_problem() if sandbox == "landlock" else bwrap_problem()
    if problem is not None:
        pytest.skip(problem)
    _, judge = installed
    learner = tmp_path / "seeker.py"
    learner.write_text(SEEKS_THE_ANSWER_KEY)
    graded = run(judge, "grade", learner.name, "--format", "json", "--sandbox", sandbox,
                 "--problem", "nn_vmap_forward", cwd=tmp_path)  # fmt: skip
    assert graded.returncode in (0, 1), graded.stderr
    report = json.loads(graded.stdout)
    printed = report["output"]["stdout"]
    assert report["verdict"] == "wrong_answer", report["diagnostics"]  # Flax imported
    lines = [line for line in printed.splitlines() if "_bundled/reference" in line]
    assert lines and all(line.split()[0] in ("REFUSED", "ABSENT") for line in lines), printed
    assert not any(line.startswith("READ") for line in printed.splitlines()), printed
    reference = (ROOT / "reference" / "nn_vmap_forward.py").read_text()
    body = [line for line in reference.splitlines() if "nn.vmap(" in line]
    assert body and body[0].strip() not in graded.stdout
