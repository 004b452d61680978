"""Comparing recorded structure with the reference's: pure data, no JAX."""

from __future__ import annotations

import numpy as np

from judge import decide
from judge.problem import RubricItem, Tolerance
from judge.result import Diagnostic, Severity
from judge.runtime.wire import encode_array
from judge.structure import (
    check_variable_paths,
    check_variable_shapes,
    check_variable_values,
    unobserved,
)

SHAPES = RubricItem("shared", "shared", "variable_shapes", 0.2, True)
PATHS = RubricItem("tree", "tree", "variable_paths", 0.2, True)


def leaf(path: str, shape: list[int], value: np.ndarray | None = None) -> dict:
    entry = {"path": path, "shape": shape, "dtype": "float32", "concrete": value is not None}
    if value is not None:
        entry["value"] = encode_array(value.astype(np.float32))
    return entry


REF_TREE = [leaf("params/bias", [4]), leaf("params/kernel", [3, 4])]


def test_leading_axis_is_an_ensemble_of_that_size() -> None:
    mine = [leaf("params/bias", [5, 4]), leaf("params/kernel", [5, 3, 4])]
    (found,) = check_variable_shapes(SHAPES, mine, REF_TREE, "case 1")
    assert found.code == "ensemble_params"
    assert "(5, 4)" in found.message and "ensemble of 5" in found.message
    assert found.evidence["also"] == ["params/kernel"]


def test_other_shape_and_dtype_differences() -> None:
    (shape,) = check_variable_shapes(
        SHAPES, [leaf("params/bias", [4]), leaf("params/kernel", [3, 3])], REF_TREE, "c"
    )
    assert shape.code == "wrong_param_shape"
    half = [leaf("params/bias", [4]), {**leaf("params/kernel", [3, 4]), "dtype": "float16"}]
    (dtype,) = check_variable_shapes(SHAPES, half, REF_TREE, "c")
    assert dtype.code == "wrong_param_dtype"


def test_missing_bias_and_other_trees() -> None:
    (bias,) = check_variable_paths(PATHS, [leaf("params/kernel", [3, 4])], REF_TREE, "c")
    assert bias.code == "missing_bias"
    nested = [leaf("params/Dense_0/bias", [4]), leaf("params/Dense_0/kernel", [3, 4])]
    (tree,) = check_variable_paths(PATHS, nested, REF_TREE, "c")
    assert tree.code == "param_tree_mismatch"
    assert tree.evidence["extra"] == ["params/Dense_0/bias", "params/Dense_0/kernel"]
    assert check_variable_paths(PATHS, REF_TREE, REF_TREE, "c") == []


def test_unobserved_variables_are_unknown_never_a_mismatch() -> None:
    assert check_variable_paths(PATHS, None, REF_TREE, "case 3") == []
    assert check_variable_shapes(SHAPES, None, REF_TREE, "case 3") == []
    note = unobserved(["params"])
    assert note.code == "variables_unobserved" and note.severity is Severity.INFO
    assert "init_with_output" in note.message and note.hint


def test_initial_values() -> None:
    kernel = np.arange(12.0).reshape(3, 4)
    theirs = [leaf("params/kernel", [3, 4], kernel)]
    tol = Tolerance(1e-5, 1e-6)
    assert (
        check_variable_values("params", [leaf("params/kernel", [3, 4], kernel)], theirs, tol, "c")
        is None
    )
    found = check_variable_values(
        "params", [leaf("params/kernel", [3, 4], kernel + 1)], theirs, tol, "c"
    )
    assert found is not None and found.code == "wrong_param_values"


def test_rank_puts_the_cause_first_and_marks_symptoms() -> None:
    symptom = Diagnostic("values_mismatch", Severity.ERROR, "values differ")
    cause = Diagnostic("ensemble_params", Severity.ERROR, "axis on params", evidence={"a": 1})
    again = Diagnostic("ensemble_params", Severity.ERROR, "kernel has shape (5, 3, 4)")
    warning = Diagnostic("wrong_output_dtype", Severity.WARNING, "float64")
    ranked = decide.rank([warning, symptom, cause, again])
    assert [d.code for d in ranked] == ["ensemble_params", "values_mismatch", "wrong_output_dtype"]
    assert ranked[0].evidence["also"] == ["kernel has shape (5, 3, 4)"]
    assert ranked[1].severity is Severity.INFO
    assert ranked[1].message.endswith("(a consequence of ensemble_params)")
    assert ranked[2].severity is Severity.WARNING


def test_rank_leaves_a_lone_symptom_an_error() -> None:
    (only,) = decide.rank([Diagnostic("values_mismatch", Severity.ERROR, "values differ")])
    assert only.severity is Severity.ERROR
