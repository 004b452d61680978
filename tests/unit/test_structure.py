"""Comparing recorded structure with the reference's: pure data, no JAX."""

from __future__ import annotations

import numpy as np
import pytest

from judge import diagnose
from judge.problem import RubricItem, Tolerance
from judge.result import Diagnostic, Severity
from judge.runtime.wire import encode_array
from judge.structure import (
    Observations,
    check_transform,
    check_variable_paths,
    check_variable_shapes,
    check_variable_values,
    normal_argument,
    unobserved,
)

VMAP = RubricItem(
    "vmap",
    "built with nn.vmap",
    "transform",
    0.2,
    True,
    "flax.linen.vmap",
    ("variable_axes", "split_rngs", "in_axes", "out_axes"),
)
SHAPES = RubricItem("shared", "shared", "variable_shapes", 0.2, True)
PATHS = RubricItem("tree", "tree", "variable_paths", 0.2, True)
REFERENCE_ARGS = {
    "target": {"__class__": "flax.linen.linear.Dense"},
    "variable_axes": {"params": None},
    "split_rngs": {"params": False},
    "in_axes": 0,
    "out_axes": 0,
}


def lifted(**changes: object) -> Observations:
    seen = Observations()
    seen.add(
        [{"kind": "lifted", "api": "flax.linen.vmap", "arguments": {**REFERENCE_ARGS, **changes}}]
    )
    return seen


def leaf(path: str, shape: list[int], value: np.ndarray | None = None) -> dict:
    entry = {"path": path, "shape": shape, "dtype": "float32", "concrete": value is not None}
    if value is not None:
        entry["value"] = encode_array(value.astype(np.float32))
    return entry


REF_TREE = [leaf("params/bias", [4]), leaf("params/kernel", [3, 4])]


def test_same_arguments_pass() -> None:
    assert check_transform(VMAP, lifted(), lifted()) == []


def test_batched_params_are_an_ensemble() -> None:
    (found,) = check_transform(VMAP, lifted(variable_axes={"params": 0}), lifted())
    assert found.code == "ensemble_params"
    assert "variable_axes={'params': 0}" in found.message
    assert "variable_axes={'params': None}" in found.hint


def test_each_argument_has_its_own_code() -> None:
    found = check_transform(
        VMAP, lifted(split_rngs={"params": True}, in_axes=1, out_axes=1), lifted()
    )
    assert [d.code for d in found] == ["split_rngs", "wrong_in_axes", "wrong_out_axes"]


def test_missing_transform_mentions_jax_vmap_when_used() -> None:
    learner = Observations()
    learner.add([{"kind": "jax_vmap", "arguments": {}}], "case")
    (found,) = check_transform(VMAP, learner, lifted())
    assert found.code == "no_nn_vmap"
    assert "jax.vmap" in found.message
    assert "nn.vmap(nn.Dense, ...)" in found.message


def test_nothing_to_hold_to_when_the_reference_does_not_use_it() -> None:
    assert check_transform(VMAP, Observations(), Observations()) == []


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
    assert shape.code == "param_tree_mismatch"
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


@pytest.mark.parametrize(
    ("name", "got"),
    [
        ("in_axes", [0]),  # (0,): jax.vmap's per-argument spelling, one argument
        ("in_axes", [0, 0]),
        ("out_axes", [0]),
        ("variable_axes", {"params": None}),  # a FrozenDict is recorded as a mapping too
    ],
)
def test_spellings_flax_reads_alike_are_alike(name: str, got: object) -> None:
    assert check_transform(VMAP, lifted(**{name: got}), lifted()) == []


@pytest.mark.parametrize(
    ("name", "got"),
    [
        ("in_axes", [0, None]),
        ("in_axes", [1]),
        ("in_axes", None),
        ("split_rngs", {}),  # no key for params at all: not the same as False
        ("variable_axes", {"params": 0}),
    ],
)
def test_spellings_that_differ_still_differ(name: str, got: object) -> None:
    (found,) = check_transform(VMAP, lifted(**{name: got}), lifted())
    assert found.evidence["argument"] == name
    assert normal_argument(name, got) != normal_argument(name, REFERENCE_ARGS[name])


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
    ranked = diagnose.rank([warning, symptom, cause, again])
    assert [d.code for d in ranked] == ["ensemble_params", "values_mismatch", "wrong_output_dtype"]
    assert ranked[0].evidence["also"] == ["kernel has shape (5, 3, 4)"]
    assert ranked[1].severity is Severity.INFO
    assert ranked[1].message.endswith("(a consequence of ensemble_params)")
    assert ranked[2].severity is Severity.WARNING


def test_rank_leaves_a_lone_symptom_an_error() -> None:
    (only,) = diagnose.rank([Diagnostic("values_mismatch", Severity.ERROR, "values differ")])
    assert only.severity is Severity.ERROR


def _ran(seen: Observations, during: str, **changes: object) -> Observations:
    """``seen`` with the transform run (``during`` init or apply), as the worker records it."""
    arguments = {k: v for k, v in {**REFERENCE_ARGS, **changes}.items() if k != "target"}
    event = {"kind": "lifted", "api": "flax.linen.vmap", "applied": True, "during": during}
    seen.add([{**event, "arguments": arguments}], "case")
    return seen


def _with_init(seen: Observations, *collections: str) -> Observations:
    tree = [leaf(f"{c}/kernel", [3, 4]) for c in collections or ("params",)]
    seen.add([{"kind": "init", "module": "Dense", "variables": tree}], "case")
    return seen


def test_a_transform_built_but_never_run_is_unused() -> None:
    """``nn.vmap(...)`` called, a plain Dense initialised and applied: the right numbers."""
    (found,) = check_transform(VMAP, _with_init(lifted()), lifted())
    assert found.code == "unused_nn_vmap" and found.severity is Severity.ERROR
    # No init seen at all (every call failed first): nothing to say about it.
    assert check_transform(VMAP, lifted(), lifted()) == []


def test_a_transform_run_for_the_variables_only_is_unused() -> None:
    """Initialised through nn.vmap, applied with a plain Dense: another layer made the output."""
    learner = _ran(_with_init(lifted()), "init")
    assert check_transform(VMAP, learner, lifted()) == []  # init_with_output: no apply
    learner.add([{"kind": "apply"}], "case")
    (found,) = check_transform(VMAP, learner, lifted())
    assert found.code == "unused_nn_vmap"
    assert check_transform(VMAP, _ran(learner, "apply"), lifted()) == []


def test_the_transform_that_ran_is_the_one_judged() -> None:
    """Built twice: the first (unused) right, the one that ran maps the params."""
    learner = _ran(_with_init(lifted()), "init", variable_axes={"params": 0})
    (found,) = check_transform(VMAP, learner, lifted())
    assert found.code == "ensemble_params"


@pytest.mark.parametrize(
    ("name", "got"),
    [
        ("variable_axes", {"params": None, "intermediates": 0}),
        ("variable_axes", {"params": None, "batch_stats": None}),
        ("split_rngs", {"params": False, "dropout": True}),
    ],
)
def test_entries_for_collections_that_do_not_exist_change_nothing(name: str, got: dict) -> None:
    learner = _ran(_with_init(lifted(**{name: got})), "init", **{name: got})
    assert check_transform(VMAP, learner, lifted()) == []
    # The same entry where that collection exists does change something.
    other = next(k for k in got if k != "params")
    learner = _ran(_with_init(lifted(**{name: got}), "params", other), "init", **{name: got})
    assert check_transform(VMAP, learner, lifted()) != []
