"""Comparing one output with the expected one. Pure numpy; never raises on learner data.

The order of checks is the order a learner should fix things in: what was returned (type),
its shape, whether it is finite, and only then its values. Shapes must be equal: no
broadcasting, since ``np.allclose(0.0, zeros((3, 4)))`` is True. A NaN never matches, not even
a NaN, unlike ``assert_allclose``'s default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .problem import Tolerance
from .result import Mismatch
from .runtime.wire import is_float, is_numeric


@dataclass(frozen=True)
class Opaque:
    """A returned value that is not an array: its type name and a short repr."""

    type: str
    repr: str


def _index(flat: int, shape: tuple[int, ...]) -> list[int]:
    return [int(i) for i in np.unravel_index(flat, shape)] if shape else []


def _number(value: Any) -> float | str:
    """A float for JSON: non-finite values become the strings 'nan', 'inf', '-inf'."""
    value = float(value)
    return value if np.isfinite(value) else str(value)


def compare(
    expected: np.ndarray,
    got: np.ndarray | Opaque,
    tol: Tolerance,
    got_tol: Tolerance | None = None,
) -> Mismatch | None:
    """None when ``got`` matches ``expected`` within ``tol``; otherwise the first reason why not.

    Accepts ``|got - expected| <= atol + rtol * |expected|`` element-wise, the numpy
    convention, with the expected value on the right: the tolerance scales with the answer.
    ``tol`` is the reference's dtype's. Checked in order: the type, the shape, finiteness, the
    values. Values of another dtype than the reference's that miss ``tol`` are compared once
    more with the expected values cast to their dtype, under the looser of ``tol`` and
    ``got_tol`` (that dtype's tolerance; by default ``cast_tolerance``): a match there makes
    the dtype the reason (``wrong_output_dtype``), and a miss names the dtype beside the
    values.
    """
    shape = tuple(expected.shape)
    if isinstance(got, Opaque):
        return Mismatch(
            "wrong_return_type",
            f"returned {got.type} ({got.repr}), expected a {expected.dtype} array of shape {shape}",
            {"type": got.type, "repr": got.repr, "expected_shape": list(shape)},
        )
    got = np.asarray(got)
    if not is_numeric(got.dtype):
        return Mismatch(
            "wrong_return_type",
            f"returned an array of {got.dtype}, expected numbers",
            {"type": f"ndarray[{got.dtype}]", "expected_shape": list(shape)},
        )
    if got.shape != shape:
        return _shape_mismatch(expected, got, tol)
    found = _non_finite(got) or _values_mismatch(expected, got, tol)
    if found is None or found.code != "values_mismatch" or got.dtype == expected.dtype:
        return found
    return _other_dtype(expected, got, found, looser(tol, got_tol or cast_tolerance(got, tol)))


def cast_tolerance(got: np.ndarray, tol: Tolerance) -> Tolerance:
    """The tolerance for values in ``got``'s dtype when the problem declares none: four units
    in the last place for floating point (rounding an answer, plus what computing in that
    dtype costs), within one for integers (rounding rather than truncating), beside the
    reference's ``atol``."""
    if str(got.dtype) == "bfloat16":  # 8 bits of precision; numpy's finfo does not know it
        return Tolerance(rtol=4 * 2.0**-7, atol=tol.atol)
    if is_float(got.dtype):
        return Tolerance(rtol=4 * float(np.finfo(got.dtype).eps), atol=tol.atol)
    return Tolerance(rtol=0.0, atol=1.0)


def looser(a: Tolerance, b: Tolerance) -> Tolerance:
    return Tolerance(rtol=max(a.rtol, b.rtol), atol=max(a.atol, b.atol))


def _other_dtype(
    expected: np.ndarray, got: np.ndarray, found: Mismatch, tol: Tolerance
) -> Mismatch:
    """Values of another dtype: right once the expected values are cast to it, or not."""
    names = f"{got.dtype} where the reference returns {expected.dtype}"
    evidence = {**found.evidence, "cast_atol": tol.atol, "cast_rtol": tol.rtol}
    if got.dtype.kind != "b":
        with np.errstate(over="ignore", invalid="ignore"):
            cast = expected.astype(got.dtype)
        if np.all(np.isfinite(cast.astype(np.float64))) and not _off(cast, got, tol).any():
            evidence["values_match_when_cast"] = True
            return Mismatch(
                "wrong_output_dtype",
                f"output is {names}; its values are right once the reference's are cast to "
                f"{got.dtype}",
                evidence,
            )
    evidence["values_match_when_cast"] = False
    return Mismatch("values_mismatch", f"{found.message}; and the output is {names}", evidence)


def _shape_mismatch(expected: np.ndarray, got: np.ndarray, tol: Tolerance) -> Mismatch:
    shape = tuple(expected.shape)
    evidence: dict[str, Any] = {
        "expected_shape": list(shape),
        "got_shape": list(got.shape),
        "got_dtype": str(got.dtype),
    }
    if got.size == expected.size and expected.ndim == 1 and got.ndim > 1:
        flat = got.reshape(-1)
        evidence["values_match_when_flattened"] = bool(
            np.all(np.isfinite(flat)) and _off(expected, flat, tol).sum() == 0
        )
        return Mismatch(
            "not_flattened",
            f"output has shape {got.shape}; expected the flattened shape {shape}",
            evidence,
        )
    return Mismatch(
        "wrong_output_shape", f"output has shape {got.shape}, expected {shape}", evidence
    )


def _non_finite(got: np.ndarray) -> Mismatch | None:
    finite = np.isfinite(got) if is_float(got.dtype) else np.ones(got.shape, dtype=bool)
    if finite.all():
        return None
    bad = np.flatnonzero(~finite.reshape(-1))
    first = int(bad[0])
    return Mismatch(
        "non_finite_output",
        f"{bad.size} of {got.size} output values are NaN or infinite",
        {
            "count": int(bad.size),
            "total": int(got.size),
            "first_index": _index(first, tuple(got.shape)),
            "got_at_first": _number(got.reshape(-1)[first]),
        },
    )


def _values_mismatch(expected: np.ndarray, got: np.ndarray, tol: Tolerance) -> Mismatch | None:
    shape = tuple(expected.shape)
    off = _off(expected, got, tol)
    if not off.any():
        return None
    exp64 = expected.astype(np.float64).reshape(-1)
    got64 = got.astype(np.float64).reshape(-1)
    abs_err = np.abs(got64 - exp64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_err = np.where(exp64 != 0, abs_err / np.abs(exp64), np.inf)
    worst = int(np.argmax(abs_err))
    first = int(np.flatnonzero(off.reshape(-1))[0])
    count = int(off.sum())
    return Mismatch(
        "values_mismatch",
        f"{count} of {got.size} values differ beyond the tolerance; max |expected - got| = "
        f"{abs_err[worst]:.3g} at {_index(worst, shape)}",
        {
            "mismatched": count,
            "total": int(got.size),
            "max_abs_error": float(abs_err.max()),
            "max_rel_error": _number(np.max(rel_err[off.reshape(-1)])),
            "worst_index": _index(worst, shape),
            "first_index": _index(first, shape),
            "expected_at_first": float(exp64[first]),
            "got_at_first": float(got64[first]),
            "atol": tol.atol,
            "rtol": tol.rtol,
            "expected_dtype": str(expected.dtype),
            "got_dtype": str(got.dtype),
        },
    )


def _off(expected: np.ndarray, got: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Boolean mask of the elements outside the tolerance (NaN is always outside)."""
    exp64 = expected.astype(np.float64)
    got64 = np.asarray(got, dtype=np.float64).reshape(exp64.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        within = np.abs(got64 - exp64) <= tol.atol + tol.rtol * np.abs(exp64)
    return ~within


def is_informative(expected: np.ndarray, tol: Tolerance) -> bool:
    """Whether a case can tell anything apart: an all-zero answer must fail it.

    When every expected value is within the tolerance of zero, a function returning zeros of
    the right shape passes, so passing that case proves nothing about the values.
    """
    return bool(_off(expected, np.zeros_like(expected), tol).any())
