"""Properties of the comparator, over any finite float32 arrays and tolerances."""

from __future__ import annotations

import json
import warnings

import numpy as np
from hypothesis import assume, given, settings
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


tolerances_any = st.builds(
    Tolerance,
    rtol=st.floats(0.0, 1e-2, allow_nan=False, allow_subnormal=False),
    atol=st.floats(0.0, 1e-2, allow_nan=False, allow_subnormal=False),
)
wide = st.floats(width=32, allow_nan=False, allow_infinity=False)
any_finite_arrays = hnp.arrays(
    np.float32, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), elements=wide
)


def unravel(index: int, shape: tuple[int, ...]) -> list[int]:
    return [int(i) for i in np.unravel_index(index, shape)] if shape else []


@settings(deadline=None, max_examples=150)
@given(any_finite_arrays, tolerances_any)
def test_any_finite_array_matches_itself_under_any_tolerance(x: np.ndarray, tol: Tolerance) -> None:
    assert compare(x, x.copy(), tol) is None
    assert compare(x, x.astype(np.float64), tol) is None


@settings(deadline=None, max_examples=150)
@given(arrays, tolerances_any, st.data())
def test_a_float32_perturbation_beyond_the_tolerance_is_found(
    x: np.ndarray, tol: Tolerance, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, x.size - 1), label="index")
    sign = data.draw(st.sampled_from([-1.0, 1.0]), label="sign")
    value = float(x.reshape(-1)[index])
    # 1e-3 is far above float32 rounding at |x| <= 1e3 (half an ulp is at most 3.1e-5).
    delta = 2 * (tol.atol + tol.rtol * abs(value)) + 1e-3
    got = x.copy()
    got.reshape(-1)[index] = np.float32(value + sign * delta)
    found = compare(x, got, tol)
    assert found is not None and found.code == "values_mismatch"
    evidence = json.loads(json.dumps(found.evidence, allow_nan=False))
    assert evidence["first_index"] == evidence["worst_index"] == unravel(index, x.shape)
    assert evidence["mismatched"] == 1 and evidence["total"] == x.size
    assert evidence["expected_at_first"] == value
    assert evidence["max_abs_error"] >= delta - 3.1e-5


@settings(deadline=None, max_examples=150)
@given(arrays, st.data())
def test_a_float32_perturbation_within_half_the_tolerance_passes(
    x: np.ndarray, data: st.DataObject
) -> None:
    # rtol, atol >= 1e-6 keep one float32 ulp (at most 1.2e-7 * |x|, or 9.5e-7 below 8) under
    # half the tolerance, so rounding the perturbed value cannot push it outside.
    tol = Tolerance(
        rtol=data.draw(st.floats(1e-6, 1e-2), label="rtol"),
        atol=data.draw(st.floats(1e-6, 1e-2), label="atol"),
    )
    signs = data.draw(hnp.arrays(np.float64, x.shape, elements=st.sampled_from([-1.0, 1.0])))
    x64 = x.astype(np.float64)
    got = (x64 + signs * 0.5 * (tol.atol + tol.rtol * np.abs(x64))).astype(np.float32)
    assert compare(x, got, tol) is None


def other_shapes(size: int) -> list[tuple[int, ...]]:
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    shapes: list[tuple[int, ...]] = [(size,), (1, size), (size, 1), (1, 1, size)]
    shapes += [(d, size // d) for d in divisors] + [(size // d, 1, d) for d in divisors]
    return shapes + ([()] if size == 1 else [])


@settings(deadline=None, max_examples=150)
@given(arrays, tolerances, st.data())
def test_a_reshape_to_another_shape_is_rejected(
    x: np.ndarray, tol: Tolerance, data: st.DataObject
) -> None:
    shape = data.draw(st.sampled_from(other_shapes(x.size)), label="shape")
    assume(shape != x.shape)
    found = compare(x, x.reshape(shape), tol)
    assert found is not None
    if x.ndim == 1 and len(shape) > 1:
        assert found.code == "not_flattened"
        assert found.evidence["values_match_when_flattened"] is True
    else:
        assert found.code == "wrong_output_shape"
    assert found.evidence["got_shape"] == list(shape)


@settings(deadline=None, max_examples=150)
@given(arrays, tolerances, st.data())
def test_a_nan_anywhere_is_rejected_where_it_is(
    x: np.ndarray, tol: Tolerance, data: st.DataObject
) -> None:
    positions = data.draw(
        st.sets(st.integers(0, x.size - 1), min_size=1, max_size=x.size), label="positions"
    )
    got = x.copy().reshape(-1)
    got[sorted(positions)] = np.nan
    found = compare(x, got.reshape(x.shape), Tolerance(rtol=1e3, atol=1e3))  # any tolerance
    assert found is not None and found.code == "non_finite_output"
    assert found.evidence["count"] == len(positions)
    assert found.evidence["first_index"] == unravel(min(positions), x.shape)
    assert found.evidence["got_at_first"] == "nan"


learner_dtypes = st.sampled_from(
    ["float16", "float32", "float64", "int8", "int32", "int64", "uint64", "bool"]
)


@settings(deadline=None, max_examples=200)
@given(
    any_finite_arrays,
    learner_dtypes.flatmap(
        lambda dtype: hnp.arrays(
            np.dtype(dtype), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
        )
    ),
    tolerances_any,
)
def test_any_numeric_answer_gets_a_verdict_with_strict_json_evidence(
    expected: np.ndarray, got: np.ndarray, tol: Tolerance
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings either
        found = compare(expected, got, tol)
    if found is None:
        assert got.shape == expected.shape
    else:
        assert found.code in {
            "wrong_output_shape",
            "not_flattened",
            "non_finite_output",
            "values_mismatch",
            "wrong_output_dtype",  # another dtype, its values right once cast
        }
        json.dumps(found.evidence, allow_nan=False)
