"""Whatever the learner's worker sends as observations, the structure checks neither crash nor
accept: its process is the learner's, and may send anything at all."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from judge.problem import RubricItem, Tolerance
from judge.runtime.wire import encode_array
from judge.structure import (
    Observations,
    check_transform,
    check_variable_paths,
    check_variable_shapes,
    check_variable_values,
)

VMAP = RubricItem(
    "vmap",
    "vmap",
    "transform",
    0.2,
    True,
    "flax.linen.vmap",
    ("variable_axes", "split_rngs", "in_axes", "out_axes"),
)
SHAPES = RubricItem("shared", "shared", "variable_shapes", 0.2, True)
PATHS = RubricItem("tree", "tree", "variable_paths", 0.2, True)
REFERENCE = Observations()
REFERENCE.add(
    [
        {
            "kind": "lifted",
            "api": "flax.linen.vmap",
            "arguments": {
                "variable_axes": {"params": None},
                "split_rngs": {"params": False},
                "in_axes": 0,
                "out_axes": 0,
            },
        },
        {
            "kind": "init",
            "module": "VmapDense",
            "variables": [
                {
                    "path": "params/bias",
                    "shape": [4],
                    "dtype": "float32",
                    "value": encode_array(np.zeros(4, np.float32)),
                },
                {
                    "path": "params/kernel",
                    "shape": [3, 4],
                    "dtype": "float32",
                    "value": encode_array(np.ones((3, 4), np.float32)),
                },
            ],
        },
    ],
    "case",
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "kind",
        "api",
        "arguments",
        "variables",
        "path",
        "shape",
        "dtype",
        "value",
        "module",
        "__ndarray__",
        "data",
    ]
)
plausible = st.recursive(
    json_values | st.sampled_from(["lifted", "init", "jax_vmap", "flax.linen.vmap", "params/bias"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)


leaf = st.fixed_dictionaries(
    {},
    optional={
        "path": st.sampled_from(["params/bias", "params/kernel"]) | json_values,
        "shape": st.lists(st.integers(-2, 5), max_size=3) | json_values,
        "dtype": json_values,
        "value": st.fixed_dictionaries({"__ndarray__": plausible}) | json_values,
    },
)
event = st.fixed_dictionaries(
    {"kind": st.sampled_from(["lifted", "init", "jax_vmap"]) | json_values},
    optional={
        "api": st.just("flax.linen.vmap") | json_values,
        "arguments": st.dictionaries(
            st.sampled_from(["variable_axes", "split_rngs", "in_axes", "out_axes", "target"]),
            plausible,
        )
        | json_values,
        "variables": st.lists(leaf | json_values, max_size=4) | json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(event | plausible, max_size=4) | plausible)
def test_garbage_observations_never_crash_the_checks(events: object) -> None:
    learner = Observations()
    learner.add(events, "case")
    learner.add(events)
    mine = learner.variables("case")
    theirs = REFERENCE.variables("case")
    assert theirs is not None
    found = [
        *check_transform(VMAP, learner, REFERENCE),
        *check_variable_paths(PATHS, mine, theirs, "case"),
        *check_variable_shapes(SHAPES, mine, theirs, "case"),
    ]
    value = check_variable_values("params", mine, theirs, Tolerance(1e-5, 1e-6), "case")
    if value is not None:
        found.append(value)
    for diagnostic in found:
        assert isinstance(diagnostic.code, str) and diagnostic.message
    # garbage never passes for the reference's structure: something must be reported, unless
    # the graded calls made nothing at all (no variables, no apply, no run: calls that failed
    # first, about which the structure says nothing; the outputs decide)
    made_something = learner.created_variables() or learner.used_apply()
    assert found or not (made_something or learner.runs("flax.linen.vmap")), (
        "an observation that is not the reference's passed every check"
    )


replies = st.dictionaries(
    st.sampled_from(
        [
            "ok",
            "kind",
            "type",
            "repr",
            "message",
            "code",
            "elapsed_s",
            "load_s",
            "line",
            "traceback",
            "library_frames",
            "array",
            "observations",
            "evidence",
            "warnings",
            "id",
        ]
    ),
    plausible,
)


@settings(max_examples=300, deadline=None)
@given(reply=replies)
def test_any_reply_is_cleaned_to_the_types_the_judge_reads(reply: dict) -> None:
    from judge.grading import clean_reply

    clean = clean_reply(reply)
    assert type(clean["ok"]) is bool and (clean["ok"] is (reply.get("ok") is True))
    for name in ("elapsed_s", "load_s"):
        assert type(clean[name]) is float and clean[name] >= 0 and math.isfinite(clean[name])
    assert clean["line"] is None or type(clean["line"]) is int
    assert all(type(t) is str for t in clean["traceback"])
    for name in ("kind", "type", "repr", "message", "code"):
        assert name not in clean or type(clean[name]) is str
    assert not isinstance(clean.get("array", {}), list | str)
    for warning in clean.get("warnings", []):
        assert all(type(v) is str for v in warning.values())
