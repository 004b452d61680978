"""Hypothesis strategies for a problem's inputs, drawn reproducibly from a seed."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..problem import ArrayInput


def _elements(spec: ArrayInput) -> st.SearchStrategy[Any]:
    if spec.dtype.startswith("float"):
        width: Literal[16, 32, 64] = {"float16": 16, "float32": 32, "float64": 64}[spec.dtype]  # type: ignore[assignment]
        floats = st.floats(
            spec.min,
            spec.max,
            width=width,
            allow_nan=False,
            allow_infinity=False,
            allow_subnormal=False,
        )
        if spec.decimals is None:
            return floats
        dtype = np.dtype(spec.dtype)
        # `+ 0.0` turns the -0.0 that rounding a tiny negative gives into 0.0.
        return floats.map(
            lambda v: float(dtype.type(np.clip(round(v, spec.decimals), spec.min, spec.max))) + 0.0
        )
    return st.integers(int(np.ceil(spec.min)), int(np.floor(spec.max)))


def satisfies(spec: ArrayInput, array: np.ndarray) -> bool:
    """Whether an array is one the problem could have generated for ``spec``."""
    if array.size and (array.min() < spec.min or array.max() > spec.max):
        return False
    return not spec.nonzero or bool(array.size and np.abs(array).max() >= spec.min_magnitude)


def array_strategy(spec: ArrayInput, shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    # No fill value: Hypothesis would otherwise make most elements one repeated (often tiny)
    # number, which weakens the case and makes the reproducer unreadable.
    strategy = hnp.arrays(np.dtype(spec.dtype), shape, elements=_elements(spec), fill=st.nothing())
    return strategy.filter(lambda a: satisfies(spec, a)) if spec.nonzero else strategy


def _shape_of(spec: ArrayInput, ints: Mapping[str, int]) -> tuple[int, ...]:
    return tuple(int(ints[d]) if isinstance(d, str) else d for d in spec.shape)


# Hypothesis's engine and the patch below are process-wide: one draw at a time, so that threads
# grading side by side (a batch) each get the plan their seed gives.
_DRAW_LOCK = threading.RLock()


@contextlib.contextmanager
def _without_local_constants() -> Iterator[None]:
    """Draw as if no local module were loaded.

    Hypothesis (6.131 and later) mixes numeric literals from every local module loaded in the
    process into its draws, and caches them under ./.hypothesis: the same seed would then give
    other cases depending on which script called the judge, or after any edit to a number in
    the judge itself. The plan must depend on the problem and the seed alone. This reaches into
    Hypothesis's internals; tests/unit/test_plan_reproducible.py fails if that stops working.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # an older Hypothesis: it has no local constants
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if original is None:
        yield
        return
    empty = type(providers._local_constants)()
    providers._get_local_constants = lambda: empty
    if cache is not None:
        cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        if cache is not None:
            cache.cache.clear()


def _draw_many(
    strategy: st.SearchStrategy[Any], count: int, seed: int, tries: int | None = None
) -> list[Any]:
    """Up to ``count`` examples of ``strategy`` from a seeded Hypothesis run, in its order."""
    found: list[Any] = []

    @settings(
        database=None,
        max_examples=tries or count,
        deadline=None,
        phases=[Phase.generate],
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(example: Any) -> None:
        if len(found) < count:
            found.append(example)

    with _DRAW_LOCK, _without_local_constants():
        collect()
    return found


def _sub_seed(seed: int, *parts: object) -> int:
    text = ":".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
