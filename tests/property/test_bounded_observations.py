"""Whatever a learner's worker sends, what the judge builds and keeps of it is bounded: a value
made safe fits its budget and is made safe once for all, a frame parses to its message or is
refused with a ValueError, and a grading keeps its first calls' observations whole and no more
than its budget."""

from __future__ import annotations

import json
import math
import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import small_json

from judge.observations import Observations
from judge.runtime.wire import (
    MAX_MESSAGE_BYTES,
    MAX_REPLY_OBSERVED_TEXT,
    MAX_REPLY_OBSERVED_VALUES,
    MAX_SAFE_TEXT,
    MAX_SAFE_VALUES,
    json_cost,
    parse_frame,
)
from judge.untrusted import MAX_DEPTH, MAX_ITEMS, MAX_TEXT, TRUNCATED, json_safe

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.builds(lambda n, s: s * n, st.integers(0, 3000), st.text(min_size=1, max_size=8))
)


@st.composite
def repeated(draw: st.DrawFn, inner: st.SearchStrategy) -> object:
    """A container whose items are one value repeated many times: wide and, nested, huge (a
    list of 50 lists of 50 ... is millions of values) at no cost to draw."""
    item = draw(inner)
    count = draw(st.integers(0, 120))
    if draw(st.booleans()):
        return [item] * count
    return {f"k{i}": item for i in range(count)}


json_like = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.text(max_size=12), inner, max_size=6)
        | repeated(inner)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_a_value_made_safe_fits_its_budget(value: object) -> None:
    safe = json_safe(value)
    values, text = json_cost(safe)
    assert values <= MAX_SAFE_VALUES and text <= MAX_SAFE_TEXT
    assert json.dumps(safe, allow_nan=False).count(json.dumps(TRUNCATED)) <= 1
    json.dumps(safe, ensure_ascii=False, allow_nan=False).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_making_safe_twice_changes_nothing(value: object) -> None:
    once = json_safe(value)
    assert json_safe(once) == once


ordinary_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=60).filter(str.isprintable)
)
ordinary_keys = st.text(st.characters(categories=["L", "N"]), max_size=12)


def ordinary(depth: int) -> st.SearchStrategy:
    """Values within every per-container limit, small enough for the total budget."""
    if depth >= MAX_DEPTH - 1:
        return ordinary_scalars
    inner = ordinary(depth + 1)
    return (
        ordinary_scalars
        | st.lists(inner, max_size=4)
        | st.dictionaries(ordinary_keys, inner, max_size=4)
    )


@settings(max_examples=300, deadline=None)
@given(ordinary(0))
def test_ordinary_values_are_unchanged(value: object) -> None:
    values, text = json_cost(value)
    if values <= MAX_SAFE_VALUES - 2 and text <= MAX_SAFE_TEXT - 40:
        safe = json_safe(value)
        assert safe == value or _nan_free_equal(safe, value)


def _nan_free_equal(a: object, b: object) -> bool:
    """Equality where -0.0 and 0.0 differ only in sign (both are kept as they are)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.copysign(1, a) == math.copysign(1, b) and a == b
    return a == b


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=MAX_TEXT * 2), max_size=MAX_ITEMS * 2))
def test_long_strings_are_cut_but_never_past_the_budget(texts: list[str]) -> None:
    safe = json_safe(texts)
    assert isinstance(safe, list) and len(safe) <= MAX_ITEMS + 1
    assert all(isinstance(t, str) and len(t) <= MAX_TEXT for t in safe)
    assert json_cost(safe)[1] <= MAX_SAFE_TEXT


def frame(body: bytes) -> bytearray:
    return bytearray(struct.pack(">I", len(body)) + body)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["ok", "kind", "observations", "x"]), small_json))
def test_a_message_sent_is_the_message_parsed(message: dict) -> None:
    parsed = parse_frame(frame(json.dumps(message, separators=(",", ":")).encode("utf-8")))
    assert parsed == json.loads(json.dumps(message))


@settings(max_examples=100, deadline=None)
@given(json_like)
def test_observations_of_any_size_parse_within_their_budget_or_are_refused(
    observed: object,
) -> None:
    message = {"ok": True, "observations": observed}
    body = json.dumps(message).encode()
    if len(body) > MAX_MESSAGE_BYTES:
        return
    try:
        parsed = parse_frame(frame(body))
    except ValueError as exc:
        assert "broke the judge's limits" in str(exc)
        return
    assert parsed is not None
    values, text = json_cost(parsed["observations"])
    assert values <= MAX_REPLY_OBSERVED_VALUES and text <= MAX_REPLY_OBSERVED_TEXT


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_a_value_error(body: bytes) -> None:
    try:
        parse_frame(frame(body))
    except (ValueError, RecursionError):
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 8), st.integers(0, 400), st.integers(0, 3)),
        max_size=40,
    ),
    st.integers(20, 400),
    st.integers(100, 4000),
)
def test_a_grading_keeps_a_prefix_of_whole_calls_within_its_budget(
    calls: list[tuple[int, int, int]], max_values: int, max_text: int
) -> None:
    seen = Observations(limit=(max_values, max_text))
    sent_before_spent: set[int] = set()
    for index, (events, pad, case) in enumerate(calls):
        event = {"kind": "lifted", "api": "flax.linen.vmap", "applied": True, "build": index,
                 "arguments": {"in_axes": 0}, "pad": "x" * pad}  # fmt: skip
        before = seen.exhausted
        seen.add([event] * events, f"case{case}")
        assert not before or seen.exhausted  # once spent, spent for good
        if events and not seen.exhausted:
            sent_before_spent.add(index)
    assert seen.spent[0] <= max_values and seen.spent[1] <= max_text
    # Exactly the calls before the budget ran out, each whole.
    assert {e["build"] for e in seen.graded()} == sent_before_spent
    for index in sent_before_spent:
        assert sum(e["build"] == index for e in seen.graded()) == calls[index][0]
    for key in set(seen.dropped):
        assert seen.variables(key) is None and seen.outputs(key) == []
