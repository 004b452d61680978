"""The rubric, fingerprints and known errors of a problem package are validated too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from judge.errors import ProblemError
from judge.problem import load_problem, load_problem_file

ROOT = Path(__file__).resolve().parents[2]


def broken(tmp_path: Path, mutate) -> Path:
    shutil.copytree(ROOT / "problems", tmp_path / "problems")
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    path = tmp_path / "problems" / "nn_vmap_forward" / "problem.yaml"
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def fields(path: Path) -> dict[str, str]:
    with pytest.raises(ProblemError) as raised:
        load_problem_file(path)
    return dict(raised.value.errors)


def test_the_bundled_rubric() -> None:
    problem = load_problem("nn_vmap_forward")
    assert [i.check for i in problem.rubric] == [
        "outputs",
        "transform",
        "variable_shapes",
        "variable_paths",
    ]
    assert all(i.required for i in problem.rubric)
    assert abs(sum(i.weight for i in problem.rubric) - 1.0) < 1e-9
    assert all(f.file.is_file() for f in problem.fingerprints)


def test_outputs_must_be_checked_and_required(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["rubric"][0]["required"] = False

    assert "exactly one item must check 'outputs'" in fields(broken(tmp_path, mutate))["rubric"]


def test_rubric_item_errors_have_paths(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["rubric"][1]["api"] = "vmap"
        data["rubric"][2]["check"] = "variable_shape"
        data["rubric"][3]["weight"] = 0

    found = fields(broken(tmp_path, mutate))
    assert "Flax lifted transform" in found["rubric[1].api"]
    assert "did you mean 'variable_shapes'?" in found["rubric[2].check"]
    assert "positive number" in found["rubric[3].weight"]


def test_fingerprint_file_must_exist(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["fingerprints"][0]["file"] = "fingerprints/nope.py"

    assert "file not found" in fields(broken(tmp_path, mutate))["fingerprints[0].file"]


def test_known_error_pattern_must_compile(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["errors"] = [{"match": "(unclosed", "code": "x", "message": "m"}]

    assert "regular expression" in fields(broken(tmp_path, mutate))["errors[0].match"]
