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
        "transform",
        "variable_shapes",
        "variable_paths",
    ]
    assert all(i.required for i in problem.rubric)
    assert abs(sum(i.weight for i in problem.rubric) - 1.0) < 1e-9
    assert all(f.file.is_file() for f in problem.fingerprints)


@pytest.mark.parametrize("name", ["nn_vmap_forward", "nn_vmap_ensemble"])
def test_the_concept_weighs_most(name: str) -> None:
    """Teaching intent: the items about nn.vmap (built with it, and how it maps the params)
    together outweigh the outputs, and everything about the params needs nn.vmap first."""
    problem = load_problem(name)
    outputs = next(i for i in problem.rubric if i.check == "outputs")
    concept = [i for i in problem.rubric if i.check in ("transform", "variable_shapes")]
    assert sum(i.weight for i in concept) > outputs.weight
    built = next(i for i in problem.rubric if i.check == "transform" and not i.arguments)
    for item in problem.rubric:
        if item.check != "outputs" and item is not built:
            assert built.id in item.requires, item.id
    assert dict(outputs.partial).keys() >= {"not_flattened", "wrong_flatten_order"}


def rubric_errors(tmp_path: Path, items: list[dict]) -> dict[str, str]:
    def mutate(data: dict) -> None:
        data["rubric"] = items

    return fields(broken(tmp_path, mutate))


OUT = {"id": "outputs_match", "check": "outputs", "weight": 0.5}
VMAP = {"id": "uses_vmap", "check": "transform", "api": "flax.linen.vmap", "weight": 0.2}
SHAPES = {"id": "shared", "check": "variable_shapes", "weight": 0.3}


def test_requires_and_partial_load() -> None:
    problem = load_problem("nn_vmap_ensemble")
    by_id = {i.id: i for i in problem.rubric}
    assert by_id["params_per_example"].requires == ("built_with_nn_vmap",)
    assert dict(by_id["outputs_match"].partial)["not_flattened"] == 0.75


def test_requires_must_name_an_item(tmp_path: Path) -> None:
    found = rubric_errors(tmp_path, [OUT, VMAP, {**SHAPES, "requires": ["use_vmap"]}])
    assert (
        "'use_vmap' is not a rubric item's id (did you mean 'uses_vmap'?)"
        in (found["rubric[2].requires"])
    )


def test_requires_may_not_be_a_cycle_or_the_item_itself(tmp_path: Path) -> None:
    found = rubric_errors(
        tmp_path,
        [OUT, {**VMAP, "requires": ["shared"]}, {**SHAPES, "requires": ["uses_vmap"]}],
    )
    assert found["rubric[1].requires"] == "a cycle: uses_vmap -> shared -> uses_vmap"
    found = rubric_errors(tmp_path / "self", [OUT, {**VMAP, "requires": ["uses_vmap"]}])
    assert "cannot require itself" in found["rubric[1].requires"]


def test_a_required_item_may_not_require_an_optional_one(tmp_path: Path) -> None:
    found = rubric_errors(
        tmp_path, [OUT, {**VMAP, "required": False}, {**SHAPES, "requires": ["uses_vmap"]}]
    )
    assert "cannot require the optional 'uses_vmap'" in found["rubric[2].requires"]


def test_requires_is_a_list_of_ids(tmp_path: Path) -> None:
    found = rubric_errors(tmp_path, [OUT, VMAP, {**SHAPES, "requires": "uses_vmap"}])
    assert "expected a list of distinct rubric item ids" in found["rubric[2].requires"]


def test_partial_names_only_slips_with_right_values(tmp_path: Path) -> None:
    found = rubric_errors(
        tmp_path,
        [{**OUT, "partial": {"values_mismatch": 0.5, "not_flatened": 0.5, "ignores_seed": 0.2}}],
    )
    assert "not a code that can mean right values" in found["rubric[0].partial.values_mismatch"]
    assert "did you mean 'not_flattened'?" in found["rubric[0].partial.not_flatened"]
    # A fingerprint code is allowed: the author says which known mistakes are format slips.
    assert "rubric[0].partial.ignores_seed" not in found


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, True, "half"])
def test_partial_fractions_lie_strictly_between_0_and_1(tmp_path: Path, fraction) -> None:
    found = rubric_errors(tmp_path, [{**OUT, "partial": {"not_flattened": fraction}}])
    assert "expected a fraction between 0 and 1" in found["rubric[0].partial.not_flattened"]


def test_partial_is_for_the_outputs_item_only(tmp_path: Path) -> None:
    found = rubric_errors(tmp_path, [OUT, {**VMAP, "partial": {"not_flattened": 0.5}}])
    assert "only an 'outputs' item" in found["rubric[1].partial"]


def test_a_bad_rubric_is_one_line_naming_the_file_and_field(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda d: d["rubric"].append({**SHAPES, "requires": ["x"]}))
    with pytest.raises(ProblemError) as raised:
        load_problem_file(path)
    assert str(raised.value).splitlines() == [
        f"{path}: rubric[5].requires: 'x' is not a rubric item's id"
    ]


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


def test_a_broken_fingerprint_does_not_make_partial_credit_wrong_too(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["fingerprints"][0]["file"] = "fingerprints/nope.py"  # wrong_flatten_order's

    found = fields(broken(tmp_path, mutate))
    assert list(found) == ["fingerprints[0].file"]
