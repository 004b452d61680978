"""problem.yaml is validated in one pass: every fault reported, each with its field path."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from judge.cases import plan_cases
from judge.errors import JudgeError, ProblemError, ProblemNotFound, UsageError
from judge.problem import ArrayInput, IntInput, Tolerance, load_problem, load_problem_file

ROOT = Path(__file__).resolve().parents[2]
NAME = "nn_vmap_forward"


def package(tmp_path: Path) -> Path:
    """A copy of the bundled problem (and the reference it points at); its problem.yaml."""
    shutil.copytree(ROOT / "problems" / NAME, tmp_path / "problems" / NAME)
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    return tmp_path / "problems" / NAME / "problem.yaml"


def mutated(tmp_path: Path, mutate: Callable[[dict], object]) -> Path:
    path = package(tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ProblemError) as raised:
        load_problem_file(path)
    assert raised.value.errors, "a ProblemError must list at least one error"
    return raised.value.errors


def only_error(path: Path) -> tuple[str, str]:
    found = errors_of(path)
    assert len(found) == 1, found
    return found[0]


# --- the bundled problem ---------------------------------------------------------------------


def test_the_bundled_problem_loads_with_its_fields() -> None:
    problem = load_problem(NAME, ROOT / "problems")
    assert problem.name == NAME
    assert problem.title == "nn.vmap with shared parameters"
    assert problem.version == "1.4.0"
    assert problem.directory == (ROOT / "problems" / NAME).resolve()
    assert problem.statement == (ROOT / "problems" / NAME / "statement.md").resolve()
    assert problem.reference == (ROOT / "reference" / "nn_vmap_forward.py").resolve()
    assert problem.statement.is_absolute() and problem.reference.is_file()
    assert problem.entry_point == "nn_vmap_forward"
    assert problem.parameters == ("seed", "x_batch", "features")
    assert list(problem.inputs) == ["seed", "batch", "in_dim", "features", "x_batch"]
    assert problem.inputs["seed"] == IntInput("seed", 0, 2**31 - 1, "value")
    assert problem.inputs["batch"] == IntInput("batch", 1, 8, "shape")
    assert problem.inputs["features"] == IntInput("features", 1, 8)
    assert problem.inputs["x_batch"] == ArrayInput(
        "x_batch", "float32", ("batch", "in_dim"), -4.0, 4.0, True, 0.25, 3, ("numpy",)
    )
    assert [i.name for i in problem.shape_inputs] == ["batch", "in_dim", "features"]
    assert [i.name for i in problem.value_inputs] == ["seed"]
    assert [i.name for i in problem.array_inputs] == ["x_batch"]
    assert problem.dimensions == ["batch", "in_dim"]
    assert problem.output_dtype == "float32"
    assert problem.precision == "highest"
    assert problem.tolerance_for("float32", "cpu") == Tolerance(rtol=1e-5, atol=1e-6)
    assert problem.tolerance_for("float32", "gpu") == Tolerance(rtol=1e-4, atol=1e-5)
    assert problem.tolerance_for("float16", "cpu") is None
    assert problem.limits.call_s == 10.0 and problem.limits.submission_s == 120.0
    assert problem.limits.memory_mb == 4096 and problem.limits.output_kb == 64
    assert problem.cases.count == 24
    assert problem.cases.distinct_shapes == 8
    assert problem.cases.min_informative == 12
    assert len(problem.cases.boundary) == 4
    assert problem.cases.boundary[1] == {"batch": "=in_dim", "features": 2}
    assert set(problem.hints) == {
        "not_flattened",
        "values_mismatch",
        "wrong_output_shape",
        "wrong_flatten_order",
    }
    assert all("\n" not in text for text in problem.hints.values())
    assert len(problem.fingerprints) == 8


def test_a_problem_loads_from_a_path_to_its_folder_or_its_yaml(tmp_path: Path) -> None:
    path = package(tmp_path)
    assert load_problem(str(path)).name == NAME
    assert load_problem(str(path.parent)).name == NAME
    assert load_problem(NAME, path.parent.parent).directory == path.parent.resolve()


def test_an_unknown_problem_name_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(ProblemNotFound) as raised:
        load_problem("nn_vmap_fwd", ROOT / "problems")
    message = str(raised.value)
    assert "'nn_vmap_fwd'" in message
    assert "did you mean 'nn_vmap_forward'?" in message
    assert isinstance(raised.value, UsageError) and isinstance(raised.value, LookupError)
    assert raised.value.exit_code == 2

    (tmp_path / "empty").mkdir()
    with pytest.raises(ProblemNotFound, match="known: none"):
        load_problem("nn_vmap_forward", tmp_path / "empty")


# --- one broken field, one error at its path -------------------------------------------------


def test_a_non_integer_max_names_its_field(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["batch"].update(max="ten"))
    field, message = only_error(path)  # boundary and shape uses of batch do not cascade
    assert field == "inputs.batch.max"
    assert "expected an integer" in message and "'ten'" in message


def test_a_boolean_is_not_an_integer(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["batch"].update(min=True))
    field, message = only_error(path)
    assert field == "inputs.batch.min"
    assert "expected an integer" in message and "True" in message


def test_an_unknown_top_level_key_suggests_the_closest(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d.update(tolerence=d.pop("tolerance")))
    found = dict(errors_of(path))
    assert "did you mean 'tolerance'" in found["tolerence"]
    assert found["tolerance"] == "missing required key"


def test_an_unknown_nested_key_suggests_the_closest(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["limits"].update(memory_md=d["limits"].pop("memory_mb")))
    found = dict(errors_of(path))
    assert "did you mean 'memory_mb'" in found["limits.memory_md"]
    assert found["limits.memory_mb"] == "missing required key"


def test_several_errors_are_all_reported(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["inputs"]["batch"]["max"] = "ten"
        data["limits"]["memory_mb"] = 10
        data["output"]["dtype"] = "float33"
        data["tolerance"]["float32"]["cpu"]["rtol"] = -1

    found = dict(errors_of(mutated(tmp_path, mutate)))
    assert len(found) >= 2
    assert "'ten'" in found["inputs.batch.max"]
    assert ">= 1536" in found["limits.memory_mb"]
    assert "did you mean 'float32'" in found["output.dtype"]
    assert "a number >= 0" in found["tolerance.float32.cpu.rtol"]


def test_min_greater_than_max(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["batch"].update(min=9))
    assert only_error(path) == ("inputs.batch.min", "min (9) is greater than max (8)")


def test_array_min_greater_than_max(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["x_batch"].update(min=5.0))
    found = dict(errors_of(path))
    assert found["inputs.x_batch.min"] == "min (5.0) is greater than max (4.0)"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min": 5.0}, "inputs.x_batch.min"),
        ({"min": -0.1, "max": 0.1}, "inputs.x_batch.nonzero"),
        ({"kinds": ["numpy", "torch"]}, "inputs.x_batch.kinds"),
        ({"kinds": ["jax"]}, "inputs.x_batch.kinds"),  # the reproducer passes numpy arrays
        ({"kinds": []}, "inputs.x_batch.kinds"),
        ({"kinds": "numpy"}, "inputs.x_batch.kinds"),
    ],
)
def test_a_bad_array_field_gives_one_error(tmp_path: Path, change: dict, field: str) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["x_batch"].update(change))
    assert [f for f, _ in errors_of(path)] == [field]


def test_an_input_may_ask_for_jax_arrays_too(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["x_batch"].update(kinds=["numpy", "jax"]))
    assert load_problem_file(path).inputs["x_batch"].kinds == ("numpy", "jax")


def test_a_shape_naming_an_unknown_input(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["x_batch"].update(shape=["batch", "in_dims"]))
    found = dict(errors_of(path))
    message = found["inputs.x_batch.shape[1]"]
    assert "'in_dims' is not an integer input" in message
    assert "did you mean 'in_dim'?" in message


def test_a_shape_naming_an_array_input(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["x_batch"].update(shape=["batch", "x_batch"]))
    found = dict(errors_of(path))
    assert "'x_batch' is not an integer input" in found["inputs.x_batch.shape[1]"]


def test_missing_statement_and_reference_files(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["statement"] = "nope.md"
        data["reference"] = "../../reference/nope.py"

    found = dict(errors_of(mutated(tmp_path, mutate)))
    assert found["statement"].startswith("file not found: nope.md")
    assert found["reference"].startswith("file not found: ../../reference/nope.py")
    assert str(tmp_path) in found["reference"]  # says where it looked


def test_a_missing_required_top_level_key(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d.pop("entry_point"))
    assert ("entry_point", "missing required key") in errors_of(path)


def test_invalid_yaml_gives_a_line_number(tmp_path: Path) -> None:
    path = package(tmp_path)
    path.write_text("name: nn_vmap_forward\ntitle: x\n  version: 1\n", encoding="utf-8")
    ((field, message),) = errors_of(path)
    assert field == ""
    assert message.startswith("not valid YAML: line 3: ")


def test_a_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = package(tmp_path)
    path.write_text("- just\n- a list\n", encoding="utf-8")
    ((field, message),) = errors_of(path)
    assert field == "(top level)"
    assert "expected a mapping" in message


def test_an_unreadable_problem_file(tmp_path: Path) -> None:
    ((field, message),) = errors_of(tmp_path / "problem.yaml")
    assert field == "" and message.startswith("cannot read")


def test_the_name_must_match_the_folder(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d.update(name="other"))
    assert only_error(path) == ("name", "'other' differs from its folder name 'nn_vmap_forward'")


def test_a_value_input_cannot_be_a_dimension(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["in_dim"].update(role="value"))
    field, message = only_error(path)
    assert field == "inputs.in_dim.role"
    assert "must be 'shape'" in message


def test_a_dimension_must_be_at_least_one(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["in_dim"].update(min=0))
    field, message = only_error(path)
    assert field == "inputs.in_dim.min"
    assert "min must be >= 1" in message


def test_an_unknown_role_suggests_the_closest(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["seed"].update(role="values"))
    field, message = only_error(path)
    assert field == "inputs.seed.role"
    assert "did you mean 'value'?" in message


def test_too_few_cases_for_the_distinct_shapes(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["cases"].update(count=15))
    field, message = only_error(path)
    assert field == "cases.count"
    assert "15" in message and "8 distinct shapes" in message
    assert "count >= 2 * distinct_shapes" in message


def test_exactly_twice_the_distinct_shapes_is_enough(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["cases"].update(count=16, min_informative=8))
    assert load_problem_file(path).cases.count == 16


def test_fewer_distinct_shapes_than_boundary_cases(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["cases"].update(distinct_shapes=3))
    field, message = only_error(path)
    assert field == "cases.distinct_shapes"
    assert "4 boundary cases" in message


def test_boundary_values_are_checked(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["cases"]["boundary"][0] = {"batch": 9, "in_dim": "=nope", "features": "largest"}

    found = dict(errors_of(mutated(tmp_path, mutate)))
    assert found["cases.boundary[0].batch"] == "9 is outside [1, 8]"
    assert "'nope' is not an integer input" in found["cases.boundary[0].in_dim"]
    assert "'min', 'max' or '=name'" in found["cases.boundary[0].features"]


def test_an_unused_input_is_an_error(tmp_path: Path) -> None:
    extra = {"type": "int", "min": 0, "max": 1}
    path = mutated(tmp_path, lambda d: d["inputs"].update(extra=extra))
    assert only_error(path) == ("inputs.extra", "neither a parameter nor a dimension of one")


def test_a_parameter_must_be_declared(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["entry_point"]["parameters"].append("bias"))
    assert ("entry_point.parameters[3]", "'bias' is not declared in inputs") in errors_of(path)


def test_nonzero_needs_a_reachable_magnitude(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["x_batch"].update(min=-0.1, max=0.1))
    message = dict(errors_of(path))["inputs.x_batch.nonzero"]
    assert "min_magnitude 0.25" in message and "could never be generated" in message


# --- how errors are shown ---------------------------------------------------------------------


def test_every_line_of_the_error_starts_with_the_file_path(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["inputs"]["batch"]["max"] = "ten"
        data.pop("title")

    path = mutated(tmp_path, mutate)
    with pytest.raises(ProblemError) as raised:
        load_problem_file(path)
    error = raised.value
    assert error.path == str(path)  # outside the working directory: shown as given
    lines = str(error).splitlines()
    assert len(lines) == len(error.errors) >= 2
    for line, (field, message) in zip(lines, error.errors, strict=True):
        assert line == f"{path}: {field}: {message}"
    assert isinstance(error, JudgeError) and isinstance(error, ValueError)
    assert error.exit_code == 2


def test_the_path_is_shown_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mutated(tmp_path, lambda d: d.update(name="other"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProblemError) as raised:
        load_problem_file(path)
    shown = str(Path("problems") / NAME / "problem.yaml")
    assert raised.value.path == shown
    assert str(raised.value).startswith(f"{shown}: name: ")


def test_a_message_without_a_field_has_no_empty_field() -> None:
    error = ProblemError("p.yaml", [("", "not valid YAML: line 1: x"), ("a.b", "bad")])
    assert str(error).splitlines() == ["p.yaml: not valid YAML: line 1: x", "p.yaml: a.b: bad"]


# --- a problem the validator accepts can be planned ------------------------------------------


def _plannable(path: Path) -> None:
    """Either the validator rejects the package, or every planned case holds integers where
    the problem declares integer inputs."""
    try:
        problem = load_problem_file(path)
    except ProblemError:
        return
    cases = plan_cases(problem, 0)
    for case in cases:
        for spec in problem.int_inputs:
            value = case.values[spec.name]
            assert isinstance(value, int), (spec.name, value)
            assert spec.min <= value <= spec.max


def test_a_boundary_equal_to_a_value_input_is_rejected_or_planned(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["cases"]["boundary"].__setitem__(0, {"batch": "=seed"}))
    _plannable(path)


def test_a_value_input_equal_to_a_shape_input_is_rejected_or_planned(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["cases"]["boundary"].__setitem__(0, {"seed": "=batch"}))
    _plannable(path)


def test_a_nan_array_bound_is_rejected(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["inputs"]["x_batch"].update(min=math.nan))
    with pytest.raises(ProblemError) as raised:
        load_problem_file(path)
    assert "inputs.x_batch.min" in dict(raised.value.errors)


def test_cpu_time_defaults_to_twice_the_wall_time_and_processes_to_256(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["limits"]["submission_s"] = 50
        data["limits"].pop("cpu_s", None)
        data["limits"].pop("processes", None)

    limits = load_problem_file(mutated(tmp_path, mutate)).limits
    assert limits.cpu_s == 100.0
    assert limits.processes == 256


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("cpu_s", 0, "a positive number"), ("processes", 0, ">= 1"), ("processes", 2.5, "integer")],
)
def test_bad_cpu_or_process_limits_name_their_field(
    tmp_path: Path, key: str, value: object, expected: str
) -> None:
    path = mutated(tmp_path, lambda d: d["limits"].update({key: value}))
    field, message = only_error(path)
    assert field == f"limits.{key}"
    assert expected in message


def test_a_hint_for_a_code_nothing_emits_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["hints"]["ensemble_param"] = "Share the layer."

    field, message = only_error(mutated(tmp_path, mutate))
    assert field.endswith("hints.ensemble_param")
    assert "did you mean 'ensemble_params'?" in message


def test_hints_may_name_structural_fingerprint_and_generic_codes(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:
        data["hints"].update(
            {
                "ensemble_params": "Share it.",
                "no_nn_vmap": "Use nn.vmap.",
                "wrong_flatten_order": "Row by row.",  # one of the problem's fingerprints
                "exception_at_import": "Move it under main.",
            }
        )

    problem = load_problem_file(mutated(tmp_path, mutate))
    assert problem.hints["ensemble_params"] == "Share it."


@pytest.mark.parametrize(
    ("inputs", "field", "words"),
    [
        ({"features": 1}, "fingerprints[1].inputs.features", "not a value input"),
        ({"seed": "features + 1"}, "fingerprints[1].inputs.seed", "not a value input"),
        ({"seed": "seed times two"}, "fingerprints[1].inputs.seed", "an integer or 'NAME + N'"),
    ],
)
def test_a_fingerprints_inputs_move_value_inputs_only(
    tmp_path: Path, inputs: dict, field: str, words: str
) -> None:
    """``inputs:`` declares a fingerprint the reference on other inputs (for composing it with
    the other variants); only a value input (a seed) may move, by a constant or an offset."""
    path = mutated(tmp_path, lambda d: d["fingerprints"][1].update(inputs=inputs))
    where, message = only_error(path)
    assert where == field and words in message


def test_a_fingerprints_inputs_are_read() -> None:
    problem = load_problem("nn_vmap_forward")
    moved = {f.code: dict(f.inputs) for f in problem.fingerprints if f.inputs}
    assert moved == {"ignores_seed": {"seed": (None, 0)}, "wrong_init_key": {"seed": ("seed", 1)}}
    assert problem.fingerprints[3].apply_inputs({"seed": 41, "features": 2}) == {"seed": 42}


def test_every_declared_limit_can_be_set_in_problem_yaml_within_its_bounds(tmp_path: Path) -> None:
    from judge.limits import DECLARED, MAX_RESULT_MB

    values = {limit.name: int(max(limit.minimum, 1)) + 1 for limit in DECLARED}
    values["memory_mb"] = 2048
    path = mutated(tmp_path / "ok", lambda d: d["limits"].update(values))
    assert load_problem_file(path).limits.to_dict() == values
    too_big = mutated(tmp_path / "big", lambda d: d["limits"].update(result_mb=MAX_RESULT_MB + 1))
    assert only_error(too_big) == ("limits.result_mb", f"expected at most {MAX_RESULT_MB}, got 21")
