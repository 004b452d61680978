"""The judge's budgets for what a learner's worker sends (``runtime.wire``'s limits): a frame,
one reply's observations, the observations of a whole grading, a value made safe, an output.

A worker is the learner's process: its observer and its wire module can be replaced, so every
bound is the judge's own, checked where the judge reads; and an honest worker never breaks one.
"""

from __future__ import annotations

import base64
import json
import struct

import numpy as np
import pytest

from judge.grading.evaluate import observation_limit, too_large
from judge.limits import MAX_RESULT_MB
from judge.observations import LOAD, Observations
from judge.problem import load_problem
from judge.runtime import wire
from judge.runtime.observer import MESSAGE_BUDGET, Observer
from judge.runtime.wire import (
    MAX_FRAME_TEXT,
    MAX_GRADING_OBSERVED_TEXT,
    MAX_GRADING_OBSERVED_VALUES,
    MAX_MESSAGE_BYTES,
    MAX_REPLY_OBSERVED_TEXT,
    MAX_REPLY_OBSERVED_VALUES,
    MAX_SAFE_TEXT,
    MAX_SAFE_VALUES,
    encode_array,
    json_cost,
    parse_frame,
)
from judge.untrusted import TRUNCATED, clean_text, json_safe


def frame(body: bytes) -> bytearray:
    return bytearray(struct.pack(">I", len(body)) + body)


def framed(message: dict) -> bytearray:
    """A message as ``send_message`` writes it."""
    return frame(json.dumps(message, separators=(",", ":")).encode("utf-8"))


# --- a frame ---


def test_the_largest_legitimate_frame_fits() -> None:
    """A reply carrying an output at the worker's own limit, base64, and a full set of
    observations beside it."""
    encoded = 4 * -(-(MAX_RESULT_MB << 20) // 3)
    assert encoded + MAX_FRAME_TEXT < MAX_MESSAGE_BYTES


def test_an_array_of_megabytes_is_not_text() -> None:
    array = np.arange(1 << 19, dtype=np.float32)  # 2 MiB: 2.7 MiB of base64
    message = {"ok": True, "kind": "array", "array": encode_array(array), "observations": []}
    parsed = parse_frame(framed(message))
    assert parsed is not None
    assert np.array_equal(wire.decode_array(parsed["array"]), array)


def test_text_besides_arrays_over_the_limit_is_refused_before_parsing(monkeypatch) -> None:
    monkeypatch.setattr(json, "loads", lambda *_: pytest.fail("parsed"))
    message = {"ok": False, "message": "x" * (MAX_FRAME_TEXT + 1)}
    with pytest.raises(ValueError, match="broke the judge's limits"):
        parse_frame(framed(message))


def test_text_disguised_as_array_data_is_counted_where_it_is_observed() -> None:
    """A long string under a ``data`` key passes as an array's data, then counts as the
    observations' text."""
    value = {"__ndarray__": {"dtype": "float32", "shape": [1], "data": "A" * (2 << 20)}}
    message = {"ok": True, "observations": [{"kind": "output", "value": value}]}
    with pytest.raises(ValueError, match="characters of text"):
        parse_frame(framed(message))


def test_a_frame_is_consumed_in_one_piece_and_the_rest_left() -> None:
    buffer = framed({"n": 1}) + framed({"n": 2})
    assert parse_frame(buffer) == {"n": 1}
    assert parse_frame(buffer) == {"n": 2}
    assert buffer == bytearray()


def test_utf8_is_read_in_a_small_frame_only() -> None:
    small = '{"s":"ünïcode ✓"}'.encode()
    assert parse_frame(frame(small)) == {"s": "ünïcode ✓"}
    large = b'{"s":"\xc3\xbc' + b"x" * MAX_FRAME_TEXT + b'"}'
    with pytest.raises(ValueError, match=r"broke the judge.s limits: .* not ASCII"):
        parse_frame(frame(large))


def test_escapes_that_widen_a_string_count_as_text() -> None:
    body = ('{"s":"\\ud83d\\ude00' + "x" * MAX_FRAME_TEXT + '"}').encode()
    with pytest.raises(ValueError, match="broke the judge's limits"):
        parse_frame(frame(body))


# --- one reply's observations ---


def observations_of(values: int) -> list:
    """A list of ``values`` values in all (itself included)."""
    return [0] * (values - 1)


def test_observations_at_the_limit_pass_and_one_more_is_refused() -> None:
    at = {"ok": True, "observations": observations_of(MAX_REPLY_OBSERVED_VALUES)}
    assert parse_frame(framed(at)) is not None
    over = {"ok": True, "observations": observations_of(MAX_REPLY_OBSERVED_VALUES + 1)}
    with pytest.raises(ValueError, match=f"more than {MAX_REPLY_OBSERVED_VALUES} values"):
        parse_frame(framed(over))


def test_observed_text_at_the_limit_passes_and_one_more_is_refused() -> None:
    at = {"ok": True, "observations": ["x" * MAX_REPLY_OBSERVED_TEXT]}
    assert parse_frame(framed(at)) is not None
    over = {"ok": True, "observations": ["x" * (MAX_REPLY_OBSERVED_TEXT + 1)]}
    with pytest.raises(ValueError, match="characters of text"):
        parse_frame(framed(over))


def test_a_6_million_value_variable_axes_is_refused_without_parsing() -> None:
    axes: object = 0
    for _ in range(4):
        axes = [axes] * 50
    event = {"kind": "lifted", "api": "flax.linen.vmap", "arguments": {"variable_axes": axes}}
    with pytest.raises(ValueError, match="broke the judge's limits"):
        parse_frame(framed({"ok": True, "observations": [event]}))


def test_json_cost_counts_values_keys_and_text() -> None:
    assert json_cost({"ab": [1, "xyz", None], "c": {}}) == (8, 6)
    assert json_cost("") == (1, 0)
    assert json_cost([[[]]]) == (3, 0)


def test_json_cost_stops_counting_past_its_limit() -> None:
    values, _ = json_cost([[0] * 1000] * 1000, max_values=10)
    assert 10 < values <= 1011  # one list's items at most past the limit


def test_json_cost_takes_a_value_as_deep_as_json_loads_makes() -> None:
    deep = json.loads("[" * 900 + "]" * 900)
    assert json_cost(deep) == (900, 0)


def test_an_honest_observer_stays_within_a_reply() -> None:
    """Code that applies a layer a thousand times a call records outputs until the budget is
    spent, never past it."""
    observer = Observer()
    value = encode_array(np.zeros(4096, np.float32))  # MAX_OBSERVED_VALUES: 22 KB of base64
    for _ in range(1000):
        observer.record({"kind": "output", "via": "apply", "value": value})
    events = observer.take()
    assert 0 < len(events) < 1000
    values, text = json_cost(events)
    assert values <= MAX_REPLY_OBSERVED_VALUES and text <= MAX_REPLY_OBSERVED_TEXT
    assert parse_frame(framed({"ok": True, "observations": events})) is not None
    observer.record({"kind": "apply"})
    assert observer.take() == [{"kind": "apply"}]  # each message has the whole budget again


def test_the_observer_budget_is_the_judges_less_the_list() -> None:
    assert MESSAGE_BUDGET == (MAX_REPLY_OBSERVED_VALUES - 1, MAX_REPLY_OBSERVED_TEXT)


# --- the observations of a grading ---


def lifted(build: int, pad: int = 0) -> dict:
    event = {"kind": "lifted", "api": "flax.linen.vmap", "applied": True, "during": "apply",
             "arguments": {"in_axes": 0}, "build": build}  # fmt: skip
    if pad:
        event["pad"] = "x" * pad  # counted as sent, not kept
    return event


def test_a_grading_keeps_its_first_calls_whole_and_drops_the_rest() -> None:
    seen = Observations(limit=(1000, 3000))
    seen.add([lifted(0, 500)])
    for k in range(10):
        seen.add([lifted(k + 1, 500)], f"case{k}")
    kept = [key for key in seen.calls]
    assert kept == ["case0", "case1", "case2", "case3"]  # 5 x ~520 characters fit in 3000
    assert seen.dropped == [f"case{k}" for k in range(4, 10)]
    assert seen.exhausted
    assert seen.spent[0] <= 1000 and seen.spent[1] <= 3000
    seen.add([lifted(99)], "case0")  # small, but later: not kept either
    assert seen.dropped[-1] == "case0" and len(seen.calls["case0"]) == 1


def test_a_case_with_a_run_dropped_is_unknown() -> None:
    output = {"kind": "output", "via": "apply", "value": encode_array(np.ones(2, np.float32))}
    init = {"kind": "init", "module": "M", "variables": [{"path": "params/b", "shape": [2],
                                                          "dtype": "float32"}]}  # fmt: skip
    seen = Observations(limit=(1000, 200))
    seen.add([init, output], "case0")
    assert seen.variables("case0") is not None and seen.outputs("case0")
    seen.add([{"kind": "padding", "data": "x" * 500}], "case0")  # a later run of the case
    assert seen.variables("case0") is None and seen.outputs("case0") == []


def test_nothing_lost_is_nothing_dropped() -> None:
    seen = Observations(limit=(10, 10))
    seen.add(["x" * 11])
    assert seen.dropped == [LOAD]
    seen.add([], "case0")
    seen.add(None, "case1")
    assert seen.dropped == [LOAD]


@pytest.mark.parametrize("name", ["nn_vmap_forward", "nn_vmap_ensemble"])
def test_the_load_and_the_plan_always_fit(name: str) -> None:
    """At one full reply a call, the rubric (scored on the plan) never misses a call."""
    problem = load_problem(name)
    values, text = observation_limit(problem)
    replies = problem.cases.count + 1
    assert values >= replies * (MAX_REPLY_OBSERVED_VALUES + 1)
    assert text >= replies * MAX_REPLY_OBSERVED_TEXT
    assert (values, text) == (MAX_GRADING_OBSERVED_VALUES, MAX_GRADING_OBSERVED_TEXT)


def test_a_longer_plan_raises_the_grading_budget() -> None:
    problem = load_problem("nn_vmap_forward")
    longer = type(problem.cases)(**{**vars(problem.cases), "count": 200})
    values, text = observation_limit(type(problem)(**{**vars(problem), "cases": longer}))
    assert values == 201 * MAX_REPLY_OBSERVED_VALUES
    assert text == 201 * MAX_REPLY_OBSERVED_TEXT


def test_full_replies_on_every_planned_call_are_all_kept() -> None:
    problem = load_problem("nn_vmap_forward")
    seen = Observations(limit=observation_limit(problem))
    full = ["x" * (MAX_REPLY_OBSERVED_TEXT - 100)]
    seen.add(full)
    for k in range(problem.cases.count):
        seen.add(full, f"case{k}")
    assert not seen.exhausted


# --- a value made safe ---


def test_ordinary_values_are_unchanged() -> None:
    value = {"variable_axes": {"__filters__": [["'params'", {"names": ["params"]}, None]]},
             "in_axes": [0, -1], "out_axes": 0, "scale": 0.5, "ok": True}  # fmt: skip
    assert json_safe(value) == value


def test_a_wide_deep_value_is_cut_with_one_marker() -> None:
    axes: object = 0
    for _ in range(4):
        axes = [axes] * 50
    safe = json_safe({"variable_axes": axes})
    values, text = json_cost(safe)
    assert values <= MAX_SAFE_VALUES and text <= MAX_SAFE_TEXT
    assert json.dumps(safe).count(TRUNCATED) == 1
    assert json_safe(safe) == safe


def test_many_long_strings_are_cut_within_the_text_budget() -> None:
    safe = json_safe({f"k{i}": "y" * 8000 for i in range(40)})
    assert json_cost(safe)[1] <= MAX_SAFE_TEXT
    assert safe["..."] == TRUNCATED


def test_clean_text_is_bounded_after_escaping() -> None:
    cleaned = clean_text("\x1b" * 8000)
    assert len(cleaned) == 8000 and cleaned.isprintable()
    assert clean_text(cleaned) == cleaned


def test_a_huge_integer_is_text_that_prints() -> None:
    assert json_safe([10**5000]) == ["<an integer too large to print>"]
    assert json_safe([2**60]) == [str(2**60)]


# --- an output ---


def test_an_output_is_kept_up_to_its_budget() -> None:
    expected = np.zeros(16, np.float32)  # 64 bytes: the floor decides
    small = encode_array(np.zeros(16_000, np.float32))  # 64,000 bytes
    assert too_large(small, expected) is None
    big = encode_array(np.zeros(17_000, np.float32))  # 68,000 bytes
    assert "more than the judge keeps" in str(too_large(big, expected))
    wide = np.zeros(1 << 20, np.float32)  # 4 MiB expected: 64 times that may come back
    assert too_large(encode_array(np.zeros(1 << 22, np.float32)), wide) is None


def test_a_forged_output_is_measured_by_its_data() -> None:
    expected = np.zeros(4, np.float32)
    forged = {"__ndarray__": {"dtype": "float32", "shape": [1], "data": "A" * (1 << 20)}}
    assert too_large(forged, expected) is not None
    assert too_large({"__ndarray__": {"data": 7}}, expected) is None  # malformed: decode says
    assert too_large("nonsense", expected) is None
    assert len(base64.b64encode(b"x" * 3)) * 3 // 4 == 3
