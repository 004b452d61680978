"""The transform check: which run is judged (attribution) and what its arguments mean.

Pure data, no JAX: the events are built the way ``runtime.observer`` records them (a building
call with its ``build`` number, runs with ``during`` and the ``ranks`` they mapped), and a test
below checks that shape against the real observer.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.arguments import meaning, resolve, show
from judge.observations import Observations
from judge.problem import RubricItem
from judge.result import Severity
from judge.structure import check_transform

VMAP = RubricItem(
    "vmap",
    "built with nn.vmap",
    "transform",
    0.2,
    True,
    "flax.linen.vmap",
    ("variable_axes", "split_rngs", "in_axes", "out_axes"),
)
API = "flax.linen.vmap"
RANKS = {"in": [[2]], "out": [2]}


def filters(mapping: dict[Any, Any]) -> dict[str, Any]:
    """A filter mapping as the worker records it (``observer._filter_mapping``)."""

    def spec(key: Any) -> dict[str, Any]:
        if key is True:
            return {"all": True}
        if isinstance(key, str):
            return {"names": [key]}
        if isinstance(key, tuple) and key[:1] == ("deny",):
            return {"except": list(key[1:])}
        return {"names": sorted(key)}

    return {"__filters__": [[repr(k), spec(k), v] for k, v in mapping.items()]}


REFERENCE = {
    "variable_axes": filters({"params": None}),
    "split_rngs": filters({"params": False}),
    "in_axes": 0,
    "out_axes": 0,
}
TARGET = {"target": {"__class__": "flax.linen.linear.Dense"}}


def built(number: int, **changes: Any) -> dict[str, Any]:
    return {"kind": "lifted", "api": API, "arguments": {**TARGET, **REFERENCE, **changes},
            "build": number}  # fmt: skip


def ran(number: int, during: str, ranks: Any = RANKS, **changes: Any) -> dict[str, Any]:
    return {"kind": "lifted", "api": API, "applied": True, "during": during, "ranks": ranks,
            "build": number, "arguments": {**REFERENCE, **changes}}  # fmt: skip


INIT = {"kind": "init", "via": "init", "module": "Dense",
        "variables": [{"path": "params/kernel", "shape": [3, 4], "dtype": "float32"}]}  # fmt: skip
APPLY = {"kind": "apply"}


def graded(*events: dict[str, Any], load: tuple[dict[str, Any], ...] = ()) -> Observations:
    seen = Observations()
    seen.add(list(load))
    seen.add(list(events), "case-1")
    return seen


def canonical(**changes: Any) -> Observations:
    """Built at import, initialised and applied in the graded call: the usual file."""
    return graded(INIT, ran(1, "init", **changes), APPLY, ran(1, "apply", **changes),
                  load=(built(1, **changes),))  # fmt: skip


def test_the_same_run_passes() -> None:
    assert check_transform(VMAP, canonical(), canonical()) == []


def test_each_argument_has_its_own_code() -> None:
    found = check_transform(
        VMAP, canonical(split_rngs=filters({"params": True}), in_axes=1, out_axes=1), canonical()
    )
    assert [d.code for d in found] == ["split_rngs", "wrong_in_axes", "wrong_out_axes"]


# --- attribution ------------------------------------------------------------------------------


def test_runs_at_import_are_context_never_judged() -> None:
    """A notebook that ran an ensemble version first, then redefined the function: only what
    the graded calls ran counts."""
    ensemble = filters({"params": 0})
    learner = graded(
        INIT, ran(2, "init"), APPLY, ran(2, "apply"),
        load=(built(1, variable_axes=ensemble), INIT, ran(1, "init", variable_axes=ensemble),
              APPLY, ran(1, "apply", variable_axes=ensemble), built(2)),
    )  # fmt: skip
    assert check_transform(VMAP, learner, canonical()) == []


def test_another_functions_transform_run_at_import_does_not_count() -> None:
    """An assignment file whose self-test at import runs the other problem's function (an
    ensemble), while the graded function uses a plain Dense: the graded function never runs
    nn.vmap, whatever ran at import."""
    ensemble = filters({"params": 0})
    learner = graded(INIT, APPLY, load=(built(1, variable_axes=ensemble),
                                        ran(1, "init", variable_axes=ensemble)))  # fmt: skip
    (found,) = check_transform(VMAP, learner, canonical())
    assert found.code == "no_nn_vmap" and "graded function" in found.message


def test_a_transform_built_but_never_run_is_unused() -> None:
    """``nn.vmap(...)`` built at the top of the file, a plain Dense initialised and applied."""
    (found,) = check_transform(VMAP, graded(INIT, APPLY, load=(built(1),)), canonical())
    assert found.code == "unused_nn_vmap" and found.severity is Severity.ERROR
    # Nothing ran at all: still unused as far as the record goes (a record forged empty is
    # never a pass); the rubric leaves the item unproven when no case passed either.
    (found,) = check_transform(VMAP, graded(load=(built(1),)), canonical())
    assert found.code == "unused_nn_vmap"


@pytest.mark.parametrize("apply", [True, False], ids=["plain_dense_apply", "by_hand"])
def test_a_transform_run_for_the_variables_only_is_unused(apply: bool) -> None:
    """One rule: initialised through nn.vmap, the output made by another layer's apply or by
    ``x @ kernel + bias`` by hand is not what the exercise asks (the statement says apply)."""
    events = [INIT, ran(1, "init")] + [APPLY] * apply
    (found,) = check_transform(VMAP, graded(*events, load=(built(1),)), canonical())
    assert found.code == "unused_nn_vmap"


def test_init_with_output_computes_with_the_transform() -> None:
    with_output = {**INIT, "via": "init_with_output"}
    learner = graded(with_output, ran(1, "init"), load=(built(1),))
    assert check_transform(VMAP, learner, canonical()) == []


def test_the_run_that_computed_is_judged_not_the_first_built() -> None:
    """Built twice: the first right and unused, the one that ran maps the params."""
    ensemble = filters({"params": 0})
    learner = graded(INIT, ran(2, "init", variable_axes=ensemble), APPLY,
                     ran(2, "apply", variable_axes=ensemble),
                     load=(built(1), built(2, variable_axes=ensemble)))  # fmt: skip
    (found,) = check_transform(VMAP, learner, canonical())
    assert found.code == "ensemble_params"


def test_missing_transform_mentions_jax_vmap_when_used() -> None:
    learner = graded({"kind": "jax_vmap", "arguments": {}}, INIT, APPLY)
    (found,) = check_transform(VMAP, learner, canonical())
    assert found.code == "no_nn_vmap" and "jax.vmap" in found.message


def test_nothing_to_hold_to_when_the_reference_does_not_use_it() -> None:
    assert check_transform(VMAP, graded(INIT, APPLY), graded(INIT, APPLY)) == []


# --- meaning ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"in_axes": -2, "out_axes": -2},  # rank 2 in and out: axis 0
        {"in_axes": [0]},  # (0,): per argument, one argument
        {"in_axes": [-2]},
        {"variable_axes": filters({True: None}), "split_rngs": filters({True: False})},
        {"variable_axes": filters({("params",): None})},  # a list of names
        {"variable_axes": filters({("deny", "batch_stats"): None})},  # DenyList
        {"variable_axes": filters({"params": None, "intermediates": 0})},  # inert entry
        {"split_rngs": filters({"params": False, "dropout": True})},  # no dropout made
        {"variable_axes": {"params": None}},  # an older record: a plain mapping
    ],
    ids=repr,
)
def test_spellings_that_mean_the_same_pass(changes: dict[str, Any]) -> None:
    assert check_transform(VMAP, canonical(**changes), canonical()) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"in_axes": -1}, "wrong_in_axes"),  # rank 2: axis 1
        ({"in_axes": [0, None]}, "wrong_in_axes"),
        ({"in_axes": None}, "wrong_in_axes"),
        ({"out_axes": 1}, "wrong_out_axes"),
        ({"variable_axes": filters({True: 0})}, "ensemble_params"),
        ({"split_rngs": filters({True: True})}, "split_rngs"),
        ({"split_rngs": filters({})}, "split_rngs"),  # no key for params: not False
        ({"split_rngs": filters({"dropout": False})}, "split_rngs"),
        ({"variable_axes": filters({("deny", "params"): None})}, "wrong_variable_axes"),
    ],
    ids=repr,
)
def test_meanings_that_differ_still_differ(changes: dict[str, Any], code: str) -> None:
    (found,) = check_transform(VMAP, canonical(**changes), canonical())
    assert found.code == code
    assert found.evidence["meaning"] != found.evidence["reference_meaning"]


def test_a_negative_axis_is_worded_counted_from_zero() -> None:
    (found,) = check_transform(VMAP, canonical(in_axes=-1), canonical())
    assert "in_axes=-1" in found.message and "axis 1, counted from 0" in found.message


def test_messages_quote_the_learners_spelling() -> None:
    (found,) = check_transform(VMAP, canonical(variable_axes=filters({True: 0})), canonical())
    assert "variable_axes={True: 0}" in found.message
    assert "variable_axes={'params': None}" in found.hint


def test_an_inert_entry_counts_where_the_collection_exists() -> None:
    mean = {"path": "batch_stats/mean", "shape": [4], "dtype": "float32"}
    stats = {**INIT, "variables": [*INIT["variables"], mean]}
    axes = filters({"params": None, "batch_stats": 0})
    runs = [ran(1, "init", variable_axes=axes), APPLY, ran(1, "apply", variable_axes=axes)]
    learner = graded(stats, *runs, load=(built(1, variable_axes=axes),))
    assert check_transform(VMAP, learner, canonical()) != []


@given(rank=st.integers(1, 6), data=st.data())
def test_a_negative_axis_is_the_positive_one(rank: int, data: st.DataObject) -> None:
    axis = data.draw(st.integers(0, rank - 1))
    ranks = {"in": [[rank]], "out": [rank]}
    for name in ("in_axes", "out_axes"):
        assert meaning(name, axis - rank, ranks, set()) == meaning(name, axis, ranks, set())
        if rank > 1:
            other = (axis + 1) % rank
            assert meaning(name, other, ranks, set()) != meaning(name, axis, ranks, set())


@given(st.lists(st.sampled_from(["params", "batch_stats", "dropout", "cache"]), unique=True))
def test_true_selects_every_collection(collections: list[str]) -> None:
    everything = resolve(filters({True: None}), set(collections))
    by_name = resolve(filters(dict.fromkeys(collections)), set(collections))
    assert everything == by_name


def test_show_writes_source() -> None:
    assert show(filters({True: None})) == "{True: None}"
    assert show([0]) == "(0,)"
    assert show({"__class__": "flax.linen.linear.Dense"}) == "nn.Dense"
