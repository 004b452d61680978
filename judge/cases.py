"""The cases a submission is graded on: a seeded plan drawn with Hypothesis, and shrinking.

Speed is decided by shapes: every new input shape costs JAX a trace and a compile (about 0.4 s
on 2 cores) where a repeat costs milliseconds. So the plan draws few distinct shapes (the
problem's boundary shapes first) and many seeds and values for each, and the shrinker tries
smaller shapes sparingly and same-shape simplifications freely.

Hypothesis draws the inputs; the plan is a pure function of the problem and the seed, so every
learner gets the same cases unless ``--seed`` picks another set.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .errors import ProblemError
from .problem import ArrayInput, IntInput, Problem

Value = int | np.ndarray


@dataclass(frozen=True, eq=False)
class Case:
    """One set of inputs: every declared input by name (dimensions included).

    Two cases are equal when their inputs are: ``key`` is a hash of every value.
    """

    values: Mapping[str, Value]
    origin: str = "generated"
    key: str = field(default="")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Case) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        for name in sorted(self.values):
            value = self.values[name]
            if isinstance(value, np.ndarray):
                digest.update(f"{name}:{value.dtype}:{value.shape}:".encode())
                digest.update(np.ascontiguousarray(value).tobytes())
            else:
                digest.update(f"{name}={value};".encode())
        object.__setattr__(self, "key", digest.hexdigest()[:16])

    def args(self, problem: Problem) -> list[Value]:
        """The entry point's arguments, in call order."""
        return [self.values[name] for name in problem.parameters]

    def shape_key(self, problem: Problem) -> tuple[int, ...]:
        return tuple(int(self.values[i.name]) for i in problem.shape_inputs)

    def complexity(self, problem: Problem) -> tuple[float, ...]:
        """An order in which every shrink step must go down: shapes, then values, then arrays.

        Arrays cost per element: 0 for zero, more for integers, halves, one decimal, anything
        else, plus the magnitude. Requiring a strict decrease makes shrinking terminate.
        """
        shapes = sum(self.shape_key(problem))
        values = sum(int(self.values[i.name]) for i in problem.value_inputs)
        arrays = 0.0
        for spec in problem.array_inputs:
            array = np.asarray(self.values[spec.name], dtype=np.float64).reshape(-1)
            magnitude = np.abs(array)
            cost = np.where(
                array == 0,
                0.0,
                np.where(
                    array == np.round(array),
                    1.0,
                    np.where(
                        array * 2 == np.round(array * 2),
                        3.0,
                        np.where(array * 10 == np.round(array * 10), 5.0, 8.0),
                    ),
                ),
            )
            arrays += float(np.sum(cost + np.where(array == 0, 0.0, magnitude)))
        return (shapes, values, arrays)

    def size(self, problem: Problem) -> int:
        """How big the case is, for picking the smallest failure: product of its shape ints."""
        return int(np.prod([max(1, v) for v in self.shape_key(problem)] or [1]))

    def describe(self, problem: Problem) -> str:
        """``seed 1234, batch=2, in_dim=1, features=2``: the value inputs, then the shapes."""
        parts = [f"{i.name} {self.values[i.name]}" for i in problem.value_inputs]
        parts += [f"{i.name}={self.values[i.name]}" for i in problem.shape_inputs]
        return ", ".join(parts)

    def to_json(self, problem: Problem) -> dict[str, Any]:
        """The inputs in the problem's declaration order, arrays as nested lists."""
        out: dict[str, Any] = {}
        for name in problem.inputs:
            value = self.values[name]
            if isinstance(value, np.ndarray):
                values = np.asarray(json_values(value.reshape(-1)), dtype=object)
                out[name] = {
                    "dtype": str(value.dtype),
                    "shape": list(value.shape),
                    "values": values.reshape(value.shape).tolist(),
                }
            else:
                out[name] = int(value)
        return out

    def reproducer(self, problem: Problem) -> str:
        """A line to paste into Python where the learner's function is defined."""
        args = ", ".join(_literal(v) for v in self.args(problem))
        return f"import numpy as np; {problem.entry_point}({args})"

    def replace(self, origin: str = "shrunk", **changes: Value) -> Case:
        return Case({**self.values, **changes}, origin)


# --- literals ---------------------------------------------------------------------------------


def json_values(flat: np.ndarray) -> list[Any]:
    """A 1-D array's values for JSON: the shortest decimal that gives back the same value in
    its own dtype (float32 -3.575, not -3.575000047683716); NaN and infinities as strings."""
    if flat.dtype.kind != "f":
        return flat.tolist()
    out: list[Any] = []
    for value in flat:
        if not np.isfinite(value):
            out.append(str(float(value)))
        else:
            out.append(
                float(np.format_float_positional(value, unique=True, trim="0"))
                if flat.dtype != np.float64
                else float(value)
            )
    return out


def _float_text(value: float, dtype: np.dtype) -> str:
    text = np.format_float_positional(dtype.type(value), unique=True, trim="0")
    if abs(value) >= 1e6 or (value != 0 and abs(value) < 1e-4):
        text = np.format_float_scientific(dtype.type(value), unique=True, trim="0")
    return text


def _literal(value: Value) -> str:
    if not isinstance(value, np.ndarray):
        return repr(int(value))
    dtype = value.dtype
    if dtype.kind == "f":

        def nest(a: np.ndarray) -> str:
            if a.ndim == 0:
                return _float_text(float(a), dtype)
            return "[" + ", ".join(nest(x) for x in a) + "]"

        text = nest(value)
        # The shortest text that round-trips in this dtype can, rarely, round differently when
        # parsed as float64 first; then fall back to the exact float64 text of each value.
        parsed = np.array(ast.literal_eval(text), dtype=dtype).reshape(value.shape)
        if not np.array_equal(parsed.view(np.uint8), value.view(np.uint8)):
            text = repr(value.astype(np.float64).tolist())
    else:
        text = repr(value.tolist())
    return f"np.array({text}, dtype=np.{dtype})"


# --- strategies -------------------------------------------------------------------------------


def _elements(spec: ArrayInput) -> st.SearchStrategy[Any]:
    if spec.dtype.startswith("float"):
        width = {"float16": 16, "float32": 32, "float64": 64}[spec.dtype]
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


def _resolve(
    entry: Mapping[str, int | str], specs: Mapping[str, IntInput], draw: Any
) -> dict[str, int]:
    """Concrete shape ints for a boundary entry: fixed ones, then drawn ones, then ``=other``."""
    values: dict[str, int] = {}
    equal: dict[str, str] = {}
    for name, spec in specs.items():
        wanted = entry.get(name)
        if wanted == "min":
            values[name] = spec.min
        elif wanted == "max":
            values[name] = spec.max
        elif isinstance(wanted, int):
            values[name] = wanted
        elif isinstance(wanted, str) and wanted.startswith("="):
            equal[name] = wanted[1:]
    for name, spec in specs.items():
        if name in values or name in equal:
            continue
        lo, hi = spec.min, spec.max
        for other, target in equal.items():  # draw a shared value from both ranges
            if target == name:
                lo, hi = max(lo, specs[other].min), min(hi, specs[other].max)
        values[name] = draw(st.integers(lo, hi))
    for _ in range(len(equal) + 1):  # chains like a: =b, b: =c settle in a few passes
        for name, target in equal.items():
            if target in values:
                values[name] = values[target]
    return values


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


# --- the plan ---------------------------------------------------------------------------------


def _plan_shapes(problem: Problem, seed: int) -> list[dict[str, int]]:
    specs = {i.name: i for i in problem.shape_inputs}
    shapes: list[dict[str, int]] = []
    seen: set[tuple[int, ...]] = set()

    def add(shape: dict[str, int]) -> bool:
        key = tuple(shape[n] for n in specs)
        if key in seen:
            return False
        seen.add(key)
        shapes.append(shape)
        return True

    for number, entry in enumerate(problem.cases.boundary):
        fixed = {k: v for k, v in entry.items() if k in specs}

        @st.composite
        def resolved(draw: Any, fixed: Mapping[str, int | str] = fixed) -> dict[str, int]:
            return _resolve(fixed, specs, draw)

        options = _draw_many(resolved(), 20, _sub_seed(seed, "boundary", number), tries=60)
        # Prefer a shape not met yet, whose drawn values are off their minimum: `batch == in_dim`
        # proves little when both are 1, and Hypothesis draws the minimum first.
        drawn_names = [
            n
            for n in specs
            if fixed.get(n) not in ("min", "max") and not isinstance(fixed.get(n), int)
        ]
        options.sort(key=lambda shape: any(shape[n] == specs[n].min for n in drawn_names))
        for shape in options:
            if add(shape):
                break
    free = st.fixed_dictionaries({n: st.integers(s.min, s.max) for n, s in specs.items()})
    wanted = problem.cases.distinct_shapes - len(shapes)
    if wanted > 0:
        for shape in _draw_many(
            free, wanted * 20, _sub_seed(seed, "shapes"), tries=wanted * 40 + 50
        ):
            if len(shapes) >= problem.cases.distinct_shapes:
                break
            add(shape)
    return shapes


def plan_cases(problem: Problem, seed: int = 0) -> list[Case]:
    """The cases, in the order they run: each shape once, boundary shapes first, then again.

    Value inputs (a seed) take their range's ends on the first two cases. Raises ProblemError
    if the inputs can generate no case at all: a spec that generates nothing is an error.
    """
    shapes = _plan_shapes(problem, seed)
    if not shapes:
        raise ProblemError(
            str(problem.directory / "problem.yaml"),
            [("cases", "no input shape could be generated")],
        )
    count = problem.cases.count
    per_shape = [
        count // len(shapes) + (1 if j < count % len(shapes) else 0) for j in range(len(shapes))
    ]
    drawn: list[list[dict[str, Value]]] = []
    for j, shape in enumerate(shapes):
        parts: dict[str, st.SearchStrategy[Any]] = {
            i.name: st.integers(i.min, i.max) for i in problem.value_inputs
        }
        for spec in problem.array_inputs:
            parts[spec.name] = array_strategy(spec, _shape_of(spec, shape))
        examples = _draw_many(
            st.fixed_dictionaries(parts),
            per_shape[j],
            _sub_seed(seed, "values", j),
            tries=per_shape[j] * 3 + 10,
        )
        if not examples:
            raise ProblemError(
                str(problem.directory / "problem.yaml"),
                [("inputs", f"no input could be generated for shape {shape}")],
            )
        drawn.append([{**shape, **values} for values in examples])
    cases: list[Case] = []
    boundary_count = min(len(problem.cases.boundary), len(shapes))
    for round_ in range(max(per_shape)):
        for j in range(len(shapes)):
            if round_ < len(drawn[j]):
                values = drawn[j][round_]
                if round_ == 0 and j < boundary_count:
                    entry = problem.cases.boundary[j]
                    for spec in problem.value_inputs:
                        if spec.name in entry:
                            wanted = entry[spec.name]
                            values[spec.name] = (
                                spec.min
                                if wanted == "min"
                                else spec.max
                                if wanted == "max"
                                else wanted
                            )
                    origin = "boundary"
                else:
                    origin = "generated"
                cases.append(Case(values, origin))
    for spec in problem.value_inputs:
        # Both ends of the range, on the first cases whose boundary entry leaves it free; an
        # end a boundary entry already set need not be placed again.
        placed = {
            cases[i].values[spec.name]
            for i in range(len(cases))
            if spec.name in _boundary_entry(problem, i)
        }
        free = (i for i in range(len(cases)) if spec.name not in _boundary_entry(problem, i))
        for end in (spec.min, spec.max):
            if end in placed:
                continue
            index = next(free, None)
            if index is not None:
                cases[index] = cases[index].replace(cases[index].origin, **{spec.name: end})
    return cases


def _boundary_entry(problem: Problem, index: int) -> Mapping[str, int | str]:
    boundary = problem.cases.boundary
    return boundary[index] if index < len(boundary) else {}


# --- shrinking --------------------------------------------------------------------------------


def _smaller(value: int, low: int) -> list[int]:
    out: list[int] = []
    for candidate in (low, low + 1, low + (value - low) // 2, value - 1):
        if low <= candidate < value and candidate not in out:
            out.append(candidate)
    return out


def _simple_nonzero(spec: ArrayInput) -> float:
    for candidate in (1.0, -1.0, spec.max, spec.min):
        if spec.min <= candidate <= spec.max and abs(candidate) >= spec.min_magnitude:
            return candidate
    return spec.max


def _resized(problem: Problem, case: Case, name: str, value: int) -> Case | None:
    ints = {i.name: int(case.values[i.name]) for i in problem.int_inputs}
    ints[name] = value
    changes: dict[str, Value] = {name: value}
    for spec in problem.array_inputs:
        array = case.values[spec.name]
        assert isinstance(array, np.ndarray)
        new_shape = _shape_of(spec, ints)
        if new_shape == array.shape:
            continue
        sliced = array[tuple(slice(0, d) for d in new_shape)].copy()
        if not satisfies(spec, sliced):
            sliced.reshape(-1)[0] = _simple_nonzero(spec)
        if not satisfies(spec, sliced):
            return None
        changes[spec.name] = sliced
    return case.replace(**changes)


def shrink_candidates(problem: Problem, case: Case) -> Iterator[Case]:
    """Simpler variants of a failing case, most promising first.

    Smaller shapes first (each costs a compile), then smaller value inputs, then plainer
    array values at the same shape (cheap): all ones, rounded values, single elements zeroed.
    Every candidate is one the problem could have generated, and strictly simpler than
    ``case`` by ``Case.complexity``.
    """
    for candidate in _candidates(problem, case):
        if candidate.complexity(problem) < case.complexity(problem):
            yield candidate


def _candidates(problem: Problem, case: Case) -> Iterator[Case]:
    for spec in problem.shape_inputs:
        for value in _smaller(int(case.values[spec.name]), spec.min):
            candidate = _resized(problem, case, spec.name, value)
            if candidate is not None:
                yield candidate
    for spec in problem.value_inputs:
        for value in _smaller(int(case.values[spec.name]), spec.min):
            yield case.replace(**{spec.name: value})
    for array_spec in problem.array_inputs:
        array = case.values[array_spec.name]
        assert isinstance(array, np.ndarray)
        simple = _simple_nonzero(array_spec)
        options = [np.full(array.shape, simple, dtype=array.dtype)]
        if array.dtype.kind == "f":
            options += [np.round(array), np.round(array * 2) / 2, np.round(array, 1)]
        if array.size <= 16:
            for flat in range(array.size):
                if array.reshape(-1)[flat] != 0:
                    zeroed = array.copy()
                    zeroed.reshape(-1)[flat] = 0
                    options.append(zeroed)
        for option in options:
            option = np.clip(option, array_spec.min, array_spec.max).astype(array.dtype)
            if satisfies(array_spec, option) and not np.array_equal(option, array):
                yield case.replace(**{array_spec.name: option})
