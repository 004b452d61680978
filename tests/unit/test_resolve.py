"""Which problem a file is graded against when ``--problem`` is not given."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from judge.errors import ProblemNotFound
from judge.grading import resolve_problem
from judge.submission import read_submission

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_problems(tmp_path: Path) -> Path:
    """The bundled problem and a copy of it under another name and entry point."""
    folder = tmp_path / "problems"
    shutil.copytree(ROOT / "problems", folder)
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    twin = folder / "twin"
    shutil.copytree(folder / "nn_vmap_forward", twin)
    data = yaml.safe_load((twin / "problem.yaml").read_text())
    data["name"] = "twin"
    data["entry_point"]["name"] = "twin_forward"
    (twin / "problem.yaml").write_text(yaml.safe_dump(data))
    return folder


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sol.py"
    path.write_text(text)
    return path


def test_inferred_from_the_function_defined(tmp_path: Path, two_problems: Path) -> None:
    sub = read_submission(write(tmp_path, "def twin_forward(seed, x, f):\n    pass\n"))
    assert resolve_problem(sub, None, two_problems).name == "twin"


def test_inferred_even_with_a_syntax_error(tmp_path: Path, two_problems: Path) -> None:
    sub = read_submission(write(tmp_path, "def twin_forward(seed, x, f)\n    pass\n"))
    assert resolve_problem(sub, None, two_problems).name == "twin"


def test_ambiguous_or_unknown_needs_problem(tmp_path: Path, two_problems: Path) -> None:
    both = read_submission(
        write(tmp_path, "def twin_forward(): pass\ndef nn_vmap_forward(): pass\n")
    )
    with pytest.raises(ProblemNotFound, match="several problems"):
        resolve_problem(both, None, two_problems)
    neither = read_submission(write(tmp_path, "def other(): pass\n"))
    with pytest.raises(ProblemNotFound, match="pass --problem"):
        resolve_problem(neither, None, two_problems)


def test_a_single_problem_is_used_even_without_a_match(tmp_path: Path) -> None:
    folder = tmp_path / "problems"
    shutil.copytree(ROOT / "problems" / "nn_vmap_forward", folder / "nn_vmap_forward")
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    sub = read_submission(write(tmp_path, "def nn_vmap_fwd(seed, x, f):\n    pass\n"))
    assert resolve_problem(sub, None, folder).name == "nn_vmap_forward"


def test_named_problem_wins(tmp_path: Path, two_problems: Path) -> None:
    sub = read_submission(write(tmp_path, "def twin_forward(): pass\n"))
    assert resolve_problem(sub, "nn_vmap_forward", two_problems).name == "nn_vmap_forward"
