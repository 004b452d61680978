"""Properties of the comparator, over any finite float32 arrays and tolerances."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from judge.compare import compare, is_informative
from judge.problem import Tolerance

finite = st.floats(
    -1e3, 1e3, width=32, allow_nan=False, allow_infinity=False, allow_subnormal=False
)
arrays = hnp.arrays(
    np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=finite
)
tolerances = st.builds(
    Tolerance, rtol=st.sampled_from([0.0, 1e-5, 1e-3]), atol=st.sampled_from([0.0, 1e-6, 1e-3])
)


@settings(deadline=None, max_examples=150)
@given(arrays, tolerances)
def test_an_array_matches_itself(x: np.ndarray, tol: Tolerance) -> None:
    assert compare(x, x.copy(), tol) is None


@settings(deadline=None, max_examples=150)
@given(arrays, tolerances, st.data())
def test_a_perturbation_beyond_the_tolerance_is_found_where_it_is(
    x: np.ndarray, tol: Tolerance, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, x.size - 1))
    allowed = tol.atol + tol.rtol * abs(float(x.reshape(-1)[index]))
    got = x.astype(np.float64)
    got.reshape(-1)[index] += 2 * allowed + 1e-2  # far above float32 rounding at |x| <= 1e3
    found = compare(x, got, tol)
    assert found is not None and found.code == "values_mismatch"
    assert found.evidence["first_index"] == [int(i) for i in np.unravel_index(index, x.shape)]
    assert found.evidence["mismatched"] == 1


@settings(deadline=None, max_examples=150)
@given(arrays, st.data())
def test_a_perturbation_within_half_the_tolerance_passes(x: np.ndarray, data) -> None:
    tol = Tolerance(rtol=1e-3, atol=1e-3)
    sign = data.draw(st.sampled_from([-1.0, 1.0]))
    got = x.astype(np.float64) + sign * 0.5 * (tol.atol + tol.rtol * np.abs(x.astype(np.float64)))
    assert compare(x, got, tol) is None


@settings(deadline=None, max_examples=100)
@given(arrays, tolerances, st.data())
def test_any_other_shape_is_rejected(x: np.ndarray, tol: Tolerance, data) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=6))
    if tuple(shape) == x.shape:
        shape = (*shape, 1)
    got = np.resize(x, shape)
    found = compare(x, got, tol)
    assert found is not None
    assert found.code in ("wrong_output_shape", "not_flattened")


@settings(deadline=None, max_examples=100)
@given(arrays, tolerances, st.data(), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_non_finite_values_never_match(x, tol, data, bad) -> None:
    index = data.draw(st.integers(0, x.size - 1))
    got = x.copy()
    got.reshape(-1)[index] = bad
    found = compare(x, got, tol)
    assert found is not None and found.code == "non_finite_output"
    assert found.evidence["count"] == 1
    # Not even against itself: a NaN never matches a NaN (assert_allclose would say it does).
    itself = compare(got, got.copy(), tol)
    assert itself is not None and itself.code == "non_finite_output"


@settings(deadline=None, max_examples=100)
@given(arrays, tolerances)
def test_informative_exactly_when_zeros_would_fail(x: np.ndarray, tol: Tolerance) -> None:
    zeros_pass = compare(x, np.zeros_like(x), tol) is None
    assert is_informative(x, tol) is not zeros_pass
