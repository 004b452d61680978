"""One case: its values, how it is shown, reproduced and compared in size."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..problem import Problem

Value = int | np.ndarray


@dataclass(frozen=True, eq=False)
class Case:
    """One set of inputs: every declared input by name (dimensions included).

    Two cases are equal when their inputs are: ``key`` is a hash of every value.
    """

    values: Mapping[str, Value]
    origin: str = "generated"
    # Array inputs passed as another kind than a numpy array (``"jax"``: a jax.Array), by name.
    kinds: Mapping[str, str] = field(default_factory=dict)
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
        for name in sorted(self.kinds):
            digest.update(f"kind:{name}={self.kinds[name]};".encode())
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
                if name in self.kinds:
                    out[name]["kind"] = KIND_TYPES[self.kinds[name]]
            else:
                out[name] = int(value)
        return out

    def call(self, problem: Problem) -> str:
        """The entry point called on this case, as Python source."""
        args = []
        for name in problem.parameters:
            text = _literal(self.values[name])
            args.append(f"jnp.asarray({text})" if self.kinds.get(name) == "jax" else text)
        return f"{problem.entry_point}({', '.join(args)})"

    def reproducer(
        self, problem: Problem, earlier: Sequence[Case] = (), seeded: bool = False
    ) -> str:
        """A line to paste into Python where the learner's function is defined: the calls
        ``earlier`` first when the failure needs them, and the global random generators seeded
        as the judge's worker seeds them before each call when ``seeded``."""
        cases = [*earlier, self]
        imports = "import numpy as np; "
        if any(c.kinds for c in cases):
            imports += "import jax.numpy as jnp; "
        if seeded:
            imports += "import random; "
        calls = [(SEEDING if seeded else "") + c.call(problem) for c in cases]
        return imports + "; ".join(calls)

    def replace(self, changes: Mapping[str, Value], origin: str = "shrunk") -> Case:
        """This case with some values changed, marked with where it came from."""
        return Case({**self.values, **changes}, origin, self.kinds)


# How an array input reaches the learner's function, by its kind in problem.yaml.
KIND_TYPES = {"numpy": "numpy.ndarray", "jax": "jax.Array"}
# What the learner's worker does before every call (``runtime.session``), for reproducers.
SEEDING = "random.seed(0); np.random.seed(0); "


# --- literals ---------------------------------------------------------------------------------


def json_values(flat: np.ndarray) -> list[Any]:
    """A 1-D array's values for JSON: the shortest decimal that gives back the same value in
    its own dtype (float32 -3.575, not -3.575000047683716); NaN and infinities as strings.
    bfloat16 values are written as the float32 numbers they equal exactly."""
    if str(flat.dtype) == "bfloat16":
        flat = flat.astype(np.float32)
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
