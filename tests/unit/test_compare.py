"""The comparator's checks, in the order a learner should fix things."""

from __future__ import annotations

import numpy as np

from judge.compare import Opaque, compare, is_informative
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
