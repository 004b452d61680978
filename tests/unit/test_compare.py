"""The comparator's checks, in the order a learner should fix things."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from judge.compare import Opaque, cast_tolerance, compare, is_informative, looser
from judge.problem import Tolerance

TOL = Tolerance(rtol=1e-5, atol=1e-6)
EXPECTED = np.array([0.5, -1.0, 2.0, 0.0], dtype=np.float32)


def test_not_an_array() -> None:
    found = compare(EXPECTED, Opaque("tuple", "(1, 2)"), TOL)
    assert found is not None and found.code == "wrong_return_type"
    assert found.evidence["expected_shape"] == [4]


def test_no_broadcasting() -> None:
    scalar = compare(EXPECTED, np.float32(0.5), TOL)
    assert scalar is not None and scalar.code == "wrong_output_shape"
    zeros = np.zeros(4, np.float32)
    assert compare(zeros, np.zeros((1, 4), np.float32), TOL).code == "not_flattened"
    assert compare(zeros, np.zeros(3, np.float32), TOL).code == "wrong_output_shape"


def test_not_flattened_says_whether_values_agree() -> None:
    right = compare(EXPECTED, EXPECTED.reshape(2, 2), TOL)
    wrong = compare(EXPECTED, EXPECTED.reshape(2, 2).T, TOL)
    assert right.evidence["values_match_when_flattened"] is True
    assert wrong.evidence["values_match_when_flattened"] is False


def test_values_mismatch_evidence() -> None:
    got = EXPECTED.copy()
    got[1] = -1.5
    got[3] = 0.25
    found = compare(EXPECTED, got, TOL)
    assert found.code == "values_mismatch"
    ev = found.evidence
    assert ev["mismatched"] == 2 and ev["total"] == 4
    assert ev["first_index"] == [1] and ev["worst_index"] == [1]
    assert ev["max_abs_error"] == 0.5
    assert ev["expected_at_first"] == -1.0 and ev["got_at_first"] == -1.5
    assert ev["expected_dtype"] == ev["got_dtype"] == "float32"


def test_equal_values_of_another_dtype_pass() -> None:
    assert compare(EXPECTED, EXPECTED.astype(np.float64), TOL) is None
    assert compare(EXPECTED, np.asarray(EXPECTED.tolist()), TOL) is None


def test_tolerance_scales_with_the_expected_value() -> None:
    big = np.array([1000.0], np.float32)
    assert compare(big, big + 0.009, TOL) is None  # within 1e-5 * 1000
    assert compare(big, big + 0.02, TOL).code == "values_mismatch"


def test_non_finite() -> None:
    found = compare(EXPECTED, np.array([0.5, np.nan, np.inf, 0.0]), TOL)
    assert found.code == "non_finite_output" and found.evidence["count"] == 2
    assert found.evidence["first_index"] == [1]


def test_informative() -> None:
    assert not is_informative(np.zeros(3, np.float32), TOL)
    assert not is_informative(np.full(3, 5e-7, np.float32), TOL)
    assert is_informative(EXPECTED, TOL)


def json_safe(evidence: dict) -> dict:
    """Evidence must survive the report's strict JSON (no NaN, no Infinity)."""
    return json.loads(json.dumps(evidence, allow_nan=False))


def test_opaque_evidence_names_the_type() -> None:
    found = compare(EXPECTED.reshape(2, 2), Opaque("NoneType", "None"), TOL)
    assert found is not None and found.code == "wrong_return_type"
    assert found.evidence == {"type": "NoneType", "repr": "None", "expected_shape": [2, 2]}
    assert "NoneType" in found.message and "(2, 2)" in found.message


@pytest.mark.parametrize(
    "got",
    [np.array(["a", "b", "c", "d"]), np.array([1j, 2, 3, 4]), np.array([None] * 4, dtype=object)],
)
def test_an_array_of_non_numbers_is_the_wrong_type(got: np.ndarray) -> None:
    found = compare(EXPECTED, got, TOL)
    assert found is not None and found.code == "wrong_return_type"
    assert found.evidence["type"] == f"ndarray[{got.dtype}]"
    json_safe(found.evidence)


@pytest.mark.parametrize(
    ("expected_shape", "got_shape", "code"),
    [
        ((4,), (), "wrong_output_shape"),  # a scalar never broadcasts
        ((1,), (), "wrong_output_shape"),  # not even to one element
        ((), (1,), "wrong_output_shape"),
        ((4,), (1, 4), "not_flattened"),
        ((4,), (4, 1), "not_flattened"),
        ((4,), (2, 2), "not_flattened"),
        ((4,), (2, 1, 2), "not_flattened"),
        ((4,), (1, 3), "wrong_output_shape"),  # sizes differ
        ((4,), (5,), "wrong_output_shape"),
        ((2, 2), (4,), "wrong_output_shape"),  # expected is not 1-D
        ((2, 2), (1, 4), "wrong_output_shape"),
        ((2, 2), (2, 2, 1), "wrong_output_shape"),
        ((0,), (0, 1), "not_flattened"),
    ],
)
def test_shapes_must_be_equal(expected_shape: tuple, got_shape: tuple, code: str) -> None:
    expected = np.ones(expected_shape, np.float32)
    got = np.ones(got_shape, np.float32)
    found = compare(expected, got, TOL)
    assert found is not None and found.code == code
    assert found.evidence["expected_shape"] == list(expected_shape)
    assert found.evidence["got_shape"] == list(got_shape)
    assert found.evidence["got_dtype"] == "float32"
    assert ("values_match_when_flattened" in found.evidence) == (code == "not_flattened")
    json_safe(found.evidence)


def test_not_flattened_with_a_nan_does_not_match_when_flattened() -> None:
    got = EXPECTED.reshape(1, 4).copy()
    got[0, 3] = np.nan
    found = compare(EXPECTED, got, TOL)
    assert found is not None and found.code == "not_flattened"
    assert found.evidence["values_match_when_flattened"] is False


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_value_is_reported_first(bad: float) -> None:
    got = EXPECTED.reshape(2, 2).copy()
    got[0, 0] = 99.0  # a plain mismatch too: non-finite is reported before values
    got[1, 0] = bad
    found = compare(EXPECTED.reshape(2, 2), got, TOL)
    assert found is not None and found.code == "non_finite_output"
    assert found.evidence == {
        "count": 1,
        "total": 4,
        "first_index": [1, 0],
        "got_at_first": str(float(bad)),
    }
    assert found.message == "1 of 4 output values are NaN or infinite"
    json_safe(found.evidence)


def test_a_nan_fails_even_where_zeros_would_pass() -> None:
    expected = np.zeros(3, np.float32)
    found = compare(expected, np.array([0.0, np.nan, 0.0], np.float32), Tolerance(1.0, 1.0))
    assert found is not None and found.code == "non_finite_output"


def test_values_mismatch_evidence_on_a_2d_example() -> None:
    tol = Tolerance(rtol=0.1, atol=0.01)
    expected = np.array([[1.0, 2.0, 0.0], [4.0, -8.0, 10.0]], np.float32)
    got = expected.copy()
    got[0, 1] = 2.0 + 0.2  # allowed 0.01 + 0.2: just within
    got[0, 2] = 0.5  # allowed 0.01: off by 0.5
    got[1, 1] = -10.0  # allowed 0.81: off by 2, the worst
    got[1, 2] = 11.0  # allowed 1.01: just within
    found = compare(expected, got, tol)
    assert found is not None and found.code == "values_mismatch"
    ev = json_safe(found.evidence)
    assert ev["mismatched"] == 2 and ev["total"] == 6
    assert ev["first_index"] == [0, 2]
    assert ev["worst_index"] == [1, 1]
    assert ev["max_abs_error"] == 2.0
    assert ev["max_rel_error"] == "inf"  # the error at an expected 0 is relatively infinite
    assert ev["expected_at_first"] == 0.0 and ev["got_at_first"] == 0.5
    assert ev["atol"] == 0.01 and ev["rtol"] == 0.1
    assert found.message.startswith("2 of 6 values differ beyond the tolerance")
    assert "at [1, 1]" in found.message


def test_max_rel_error_is_over_the_mismatched_values_only() -> None:
    tol = Tolerance(rtol=0.0, atol=0.5)
    expected = np.array([1e-3, 100.0], np.float32)
    got = np.array([1e-3 + 0.4, 101.0], np.float32)  # the first is within atol
    found = compare(expected, got, tol)
    assert found is not None
    assert found.evidence["mismatched"] == 1 and found.evidence["first_index"] == [1]
    assert found.evidence["max_rel_error"] == pytest.approx(0.01)


def test_the_bound_is_inclusive() -> None:
    tol = Tolerance(rtol=0.0, atol=0.5)
    expected = np.array([1.0, 2.0], np.float64)
    assert compare(expected, expected + 0.5, tol) is None
    assert compare(expected, expected - 0.5, tol) is None
    assert compare(expected, expected + 0.5000001, tol) is not None


def test_the_tolerance_scales_with_expected_not_got() -> None:
    tol = Tolerance(rtol=0.5, atol=0.0)
    # |got - expected| = 1: within 0.5 * |expected| = 1, beyond 0.5 * |got| = 0.5.
    assert compare(np.array([2.0]), np.array([1.0]), tol) is None
    # Swapped: 0.5 * |expected| = 0.5 < 1.
    assert compare(np.array([1.0]), np.array([2.0]), tol) is not None


def test_exact_equality_passes_with_zero_tolerance() -> None:
    exact = Tolerance(rtol=0.0, atol=0.0)
    for expected in (EXPECTED, EXPECTED.reshape(2, 2), np.float32(3.0), np.zeros(0, np.float32)):
        expected = np.asarray(expected)
        assert compare(expected, expected.copy(), exact) is None
    assert compare(EXPECTED, np.nextafter(EXPECTED, np.float32(9)), exact) is not None


def test_float64_answers_of_float32_values_pass() -> None:
    expected = np.array([0.1, 1 / 3, -2.7], np.float32)
    exact64 = np.array([0.1, 1 / 3, -2.7], np.float64)  # not the float32 values, but close
    assert compare(expected, exact64, TOL) is None
    assert compare(expected.astype(np.float64), expected, Tolerance(0.0, 0.0)) is None
    assert compare(np.array([1.0, 2.0], np.float32), np.array([1, 2]), TOL) is None  # ints
    assert compare(np.array([1.0, 0.0], np.float32), np.array([True, False]), TOL) is None


def test_is_informative_for_any_value_beyond_the_tolerance_of_zero() -> None:
    assert not is_informative(np.zeros((2, 3), np.float32), TOL)
    assert not is_informative(np.zeros(0, np.float32), TOL)
    assert not is_informative(np.full(3, -1e-6, np.float32), Tolerance(0.0, 1e-6))
    one = np.zeros(5, np.float32)
    one[3] = 1e-3
    assert is_informative(one, TOL)
    assert is_informative(np.array([-2.0], np.float32), TOL)
    # A value smaller than atol alone proves nothing, whatever rtol says.
    assert not is_informative(np.array([0.5], np.float32), Tolerance(rtol=0.0, atol=1.0))


# --- another dtype than the reference's ------------------------------------------------------

ml_dtypes = pytest.importorskip("ml_dtypes")
NARROW = [np.float16, ml_dtypes.bfloat16, np.int32]


@settings(deadline=None, max_examples=80)
@given(
    expected=hnp.arrays(
        np.float32,
        st.integers(1, 12),
        elements=st.floats(-100, 100, width=32, allow_subnormal=False),
    ),
    dtype=st.sampled_from(NARROW),
)
def test_right_values_in_a_narrower_dtype_blame_the_dtype(expected: np.ndarray, dtype) -> None:
    """An answer cast to another dtype is either within the reference's tolerance, or a
    wrong_output_dtype whose values match once the expected ones are cast too."""
    got = expected.astype(dtype)
    found = compare(expected, got, TOL)
    if found is not None:
        assert found.code == "wrong_output_dtype", found.message
        assert found.evidence["values_match_when_cast"] is True
        assert str(np.dtype(dtype)) in found.message


@settings(deadline=None, max_examples=80)
@given(
    expected=hnp.arrays(np.float32, st.integers(1, 12), elements=st.floats(-100, 100, width=32)),
    dtype=st.sampled_from([np.float16, ml_dtypes.bfloat16]),
    index=st.integers(0, 11),
)
def test_wrong_values_in_another_dtype_name_both(expected: np.ndarray, dtype, index: int) -> None:
    """Values off beyond what the cast explains: values_mismatch, the dtype named beside."""
    got = expected.astype(np.float64)
    got[index % got.size] += 10.0  # far beyond any cast's rounding at these magnitudes
    found = compare(expected, got.astype(dtype), TOL)
    assert found is not None and found.code == "values_mismatch"
    assert found.evidence["values_match_when_cast"] is False
    assert f"the output is {np.dtype(dtype)} where the reference returns float32" in found.message


def test_the_tolerance_for_a_cast_is_the_looser_of_the_two() -> None:
    expected = np.array([1000.0, -3.14159], np.float32)
    got = expected.astype(np.float16)
    declared = Tolerance(rtol=0.0, atol=0.0)  # a problem that declares float16 exact
    found = compare(expected, got, TOL, declared)  # cast alike on both sides: exact is enough
    assert found is not None and found.code == "wrong_output_dtype"
    assert found.evidence["cast_rtol"] == TOL.rtol  # the looser of TOL and the declared one
    assert cast_tolerance(got, TOL).rtol == pytest.approx(4 * float(np.finfo(np.float16).eps))
    assert cast_tolerance(expected.astype(ml_dtypes.bfloat16), TOL).rtol == 4 * 2.0**-7
    assert cast_tolerance(np.array([1], np.int32), TOL) == Tolerance(rtol=0.0, atol=1.0)
    assert looser(TOL, declared) == TOL


def test_a_wider_dtype_with_right_values_passes() -> None:
    assert compare(EXPECTED, EXPECTED.astype(np.float64), TOL) is None
