"""Problem packages: ``problems/<name>/problem.yaml`` read into frozen dataclasses.

Every field is validated when loaded and every error is reported at once, each with its path
(``cases.batch.max``), with a did-you-mean for unknown keys, so an author fixes a package in one
pass. Nothing here knows any particular exercise: a new problem is a new folder.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ProblemError, ProblemNotFound

BACKENDS = ("cpu", "gpu", "tpu")
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
ARRAY_DTYPES = ("float16", "float32", "float64", "int32", "int64")
PRECISIONS = ("default", "high", "highest")
INT_ROLES = ("shape", "value")
PROBLEM_FILE = "problem.yaml"


@dataclass(frozen=True)
class IntInput:
    """An integer drawn from ``[min, max]``: a plain argument, an array dimension, or both.

    ``role`` says what changing it costs. A ``shape`` input (the default) changes the shapes the
    code traces and compiles, so the case plan reuses few of them; a ``value`` input (a seed)
    changes only data, so every case draws a fresh one, the range's ends included.
    """

    name: str
    min: int
    max: int
    role: str = "shape"


@dataclass(frozen=True)
class ArrayInput:
    """An array whose shape names integer inputs, with elements drawn from ``[min, max]``.

    ``nonzero`` asks that some element has magnitude at least ``min_magnitude``: an all-zero
    input often gives the same output for right and wrong code, so it proves nothing.
    ``decimals`` rounds drawn values (``0.125`` rather than ``-1.1754944e-38``), which keeps
    failing cases readable and away from magnitudes that tell nothing.
    """

    name: str
    dtype: str
    shape: tuple[str | int, ...]
    min: float
    max: float
    nonzero: bool = False
    min_magnitude: float = 0.1
    decimals: int | None = None


Input = IntInput | ArrayInput


@dataclass(frozen=True)
class Tolerance:
    """Accept ``|got - expected| <= atol + rtol * |expected|`` element-wise."""

    rtol: float
    atol: float


@dataclass(frozen=True)
class Limits:
    """What one learner's worker may use. Wall time is enforced by the judge, the rest by the
    kernel inside the worker (``cpu_s``: RLIMIT_CPU over the whole submission; ``memory_mb``:
    address space; ``processes``: tasks the learner's user may add, threads included, on top of
    those JAX starts; ``output_kb``: stdout and stderr kept, each)."""

    call_s: float
    submission_s: float
    memory_mb: int
    output_kb: int
    cpu_s: float = 240.0
    processes: int = 256


@dataclass(frozen=True)
class CaseSpec:
    """How many cases to run and which boundary shapes must be among them.

    Each ``boundary`` entry maps integer inputs to a value, ``min``, ``max`` or ``=other``
    (equal to another input); inputs it leaves out are drawn by Hypothesis.
    """

    count: int
    distinct_shapes: int
    min_informative: int
    boundary: tuple[Mapping[str, int | str], ...]


RUBRIC_CHECKS = ("outputs", "transform", "variable_shapes", "variable_paths")


@dataclass(frozen=True)
class RubricItem:
    """One graded requirement. ``check`` says what is compared with the reference:

    - ``outputs``: every case's output (credit: the fraction of informative cases passed);
    - ``transform``: the submission calls the Flax lifted transform ``api`` with the same
      ``arguments`` as the reference does;
    - ``variable_shapes``: the variables ``init`` returns in ``collection`` have the
      reference's shapes and dtypes;
    - ``variable_paths``: they sit at the reference's paths (``params/kernel``, ...).
    """

    id: str
    title: str
    check: str
    weight: float
    required: bool
    api: str = ""
    arguments: tuple[str, ...] = ()
    collection: str = "params"


DEFAULT_RUBRIC_ITEM = RubricItem(
    "outputs_match", "outputs match the reference", "outputs", 1.0, True
)


@dataclass(frozen=True)
class Fingerprint:
    """A known-wrong variant of the reference: if the learner's output equals its output on a
    failing case, ``code`` names the mistake."""

    code: str
    file: Path
    message: str
    hint: str


@dataclass(frozen=True)
class KnownError:
    """An exception text (``pattern``, a regular expression) translated into plain words."""

    pattern: str
    code: str
    message: str
    hint: str


@dataclass(frozen=True)
class Problem:
    """A validated problem package. Paths are absolute."""

    name: str
    title: str
    version: str
    directory: Path
    statement: Path
    reference: Path
    entry_point: str
    parameters: tuple[str, ...]
    inputs: Mapping[str, Input]
    output_dtype: str
    tolerance: Mapping[str, Mapping[str, Tolerance]]
    precision: str
    limits: Limits
    cases: CaseSpec
    hints: Mapping[str, str] = field(default_factory=dict)
    rubric: tuple[RubricItem, ...] = (DEFAULT_RUBRIC_ITEM,)
    fingerprints: tuple[Fingerprint, ...] = ()
    known_errors: tuple[KnownError, ...] = ()

    @property
    def int_inputs(self) -> list[IntInput]:
        return [i for i in self.inputs.values() if isinstance(i, IntInput)]

    @property
    def array_inputs(self) -> list[ArrayInput]:
        return [i for i in self.inputs.values() if isinstance(i, ArrayInput)]

    @property
    def shape_inputs(self) -> list[IntInput]:
        """Integer inputs whose every new value means new shapes to trace and compile."""
        return [i for i in self.int_inputs if i.role == "shape"]

    @property
    def value_inputs(self) -> list[IntInput]:
        return [i for i in self.int_inputs if i.role == "value"]

    @property
    def dimensions(self) -> list[str]:
        """Integer inputs used in some array's shape, in declaration order."""
        used = {d for a in self.array_inputs for d in a.shape if isinstance(d, str)}
        return [i.name for i in self.int_inputs if i.name in used]

    def tolerance_for(self, dtype: str, backend: str) -> Tolerance | None:
        """The tolerance for an expected output of ``dtype`` on ``backend``, if declared."""
        per_backend = self.tolerance.get(dtype)
        return per_backend.get(backend) if per_backend else None


# --- validation -------------------------------------------------------------------------------


class _Errors:
    """Collects (field, message) pairs so that every problem is reported, not just the first."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append((field, message))


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_keys(
    data: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...], errors: _Errors
) -> dict[str, Any]:
    """Return ``data`` as a dict, reporting missing required keys and unknown ones."""
    if not isinstance(data, dict):
        errors.add(path or "(top level)", f"expected a mapping, got {_describe(data)}")
        return {}
    known = required + optional
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            tip = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
            errors.add(_join(path, str(key)), f"unknown key{tip}")
    for key in required:
        if key not in data:
            errors.add(_join(path, key), "missing required key")
    return data


def _int(
    data: dict,
    key: str,
    path: str,
    errors: _Errors,
    *,
    minimum: int | None = None,
    default: int | None = None,
) -> int | None:
    if key not in data:
        return default
    value = data[key]
    bound = f" >= {minimum}" if minimum is not None else ""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (minimum is not None and value < minimum)
    ):
        errors.add(_join(path, key), f"expected an integer{bound}, got {_describe(value)}")
        return None
    return value


def _number(
    data: dict,
    key: str,
    path: str,
    errors: _Errors,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    default: float | None = None,
) -> float | None:
    if key not in data:
        return default
    value = data[key]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive and not value > 0:
        ok = False
    if ok and nonnegative and not value >= 0:
        ok = False
    if not ok:
        kind = "a positive number" if positive else ("a number >= 0" if nonnegative else "a number")
        if isinstance(value, float) and not math.isfinite(value):
            kind = "a finite number"
        errors.add(_join(path, key), f"expected {kind}, got {_describe(value)}")
        return None
    return float(value)


def _text(
    data: dict,
    key: str,
    path: str,
    errors: _Errors,
    *,
    choices: tuple[str, ...] | None = None,
    default: str | None = None,
) -> str | None:
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, int | float) and not isinstance(value, bool) and choices is None:
        value = str(value)  # `version: 1.0` is a float to YAML; authors mean the text
    if not isinstance(value, str) or not value.strip():
        errors.add(_join(path, key), f"expected a non-empty string, got {_describe(value)}")
        return None
    if choices is not None and value not in choices:
        close = difflib.get_close_matches(value, choices, n=1)
        tip = f" (did you mean {close[0]!r}?)" if close else ""
        errors.add(_join(path, key), f"expected one of {', '.join(choices)}, got {value!r}{tip}")
        return None
    return value


def _file(directory: Path, data: dict, key: str, errors: _Errors) -> Path | None:
    name = _text(data, key, "", errors)
    if name is None:
        return None
    path = (directory / name).resolve()
    if not path.is_file():
        errors.add(key, f"file not found: {name} (looked for {path})")
        return None
    return path


def _declared_int(raw: Any, name: str) -> bool:
    """Whether ``name`` is declared as an integer input, valid or not.

    Cross-checks skip invalid declarations so that one bad field gives one error, not a
    cascade of 'not an integer input' wherever the name is used.
    """
    spec = raw.get(name) if isinstance(raw, dict) else None
    return isinstance(spec, dict) and spec.get("type") == "int"


def _parse_inputs(raw: Any, errors: _Errors) -> dict[str, Input]:
    inputs: dict[str, Input] = {}
    if not isinstance(raw, dict) or not raw:
        errors.add("inputs", f"expected a non-empty mapping of input names, got {_describe(raw)}")
        return inputs
    for name, spec in raw.items():
        path = f"inputs.{name}"
        if not isinstance(name, str) or not name.isidentifier():
            errors.add(path, "input names must be Python identifiers")
            continue
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind == "int":
            data = _check_keys(spec, path, ("type", "min", "max"), ("role",), errors)
            lo = _int(data, "min", path, errors)
            hi = _int(data, "max", path, errors)
            role = _text(data, "role", path, errors, choices=INT_ROLES, default="shape")
            if lo is not None and hi is not None and role is not None:
                if lo > hi:
                    errors.add(f"{path}.min", f"min ({lo}) is greater than max ({hi})")
                else:
                    inputs[name] = IntInput(name, lo, hi, role)
        elif kind == "array":
            data = _check_keys(
                spec,
                path,
                ("type", "dtype", "shape", "min", "max"),
                ("nonzero", "min_magnitude", "decimals"),
                errors,
            )
            decimals = _int(data, "decimals", path, errors, minimum=0)
            dtype = _text(data, "dtype", path, errors, choices=ARRAY_DTYPES)
            lo = _number(data, "min", path, errors)
            hi = _number(data, "max", path, errors)
            magnitude = _number(data, "min_magnitude", path, errors, positive=True, default=0.1)
            nonzero = data.get("nonzero", False)
            if not isinstance(nonzero, bool):
                errors.add(f"{path}.nonzero", f"expected true or false, got {_describe(nonzero)}")
            shape = data.get("shape")
            dims: list[str | int] = []
            if not isinstance(shape, list) or not shape:
                errors.add(
                    f"{path}.shape",
                    "expected a non-empty list of input names or "
                    f"positive integers, got {_describe(shape)}",
                )
            else:
                for k, dim in enumerate(shape):
                    if (
                        isinstance(dim, bool)
                        or not isinstance(dim, str | int)
                        or (isinstance(dim, int) and dim < 1)
                    ):
                        errors.add(
                            f"{path}.shape[{k}]",
                            f"expected an input name or a positive integer, got {_describe(dim)}",
                        )
                    else:
                        dims.append(dim)
            if lo is not None and hi is not None and lo > hi:
                errors.add(f"{path}.min", f"min ({lo}) is greater than max ({hi})")
            elif (
                nonzero is True
                and magnitude is not None
                and lo is not None
                and hi is not None
                and max(abs(lo), abs(hi)) < magnitude
            ):
                errors.add(
                    f"{path}.nonzero",
                    f"no value in [{lo}, {hi}] reaches min_magnitude "
                    f"{magnitude}: this input could never be generated",
                )
            elif None not in (dtype, lo, hi, magnitude) and len(dims) == len(shape or []):
                inputs[name] = ArrayInput(
                    name, dtype, tuple(dims), lo, hi, nonzero is True, magnitude, decimals
                )
        else:
            errors.add(f"{path}.type", f"expected 'int' or 'array', got {_describe(kind)}")
    # Shapes may only name integer inputs.
    for spec in list(inputs.values()):
        if isinstance(spec, ArrayInput):
            for k, dim in enumerate(spec.shape):
                if isinstance(dim, str) and _declared_int(raw, dim) and dim not in inputs:
                    continue  # an invalid integer input: its own error says why
                if isinstance(dim, str) and not isinstance(inputs.get(dim), IntInput):
                    known = [i.name for i in inputs.values() if isinstance(i, IntInput)]
                    close = difflib.get_close_matches(dim, known, n=1)
                    tip = f" (did you mean {close[0]!r}?)" if close else ""
                    errors.add(
                        f"inputs.{spec.name}.shape[{k}]", f"{dim!r} is not an integer input{tip}"
                    )
                elif isinstance(dim, str) and inputs[dim].role == "value":  # type: ignore[union-attr]
                    errors.add(
                        f"inputs.{dim}.role",
                        f"{dim} is a dimension of {spec.name}, so its role must be 'shape'",
                    )
                elif isinstance(dim, str) and inputs[dim].min < 1:  # type: ignore[union-attr]
                    errors.add(
                        f"inputs.{dim}.min",
                        f"{dim} is an array dimension of {spec.name}, so its min must be >= 1",
                    )
    return inputs


def _parse_tolerance(raw: Any, errors: _Errors) -> dict[str, dict[str, Tolerance]]:
    table: dict[str, dict[str, Tolerance]] = {}
    data = _check_keys(raw, "tolerance", (), FLOAT_DTYPES, errors)
    if isinstance(raw, dict) and not raw:
        errors.add("tolerance", "declare at least one output dtype")
    for dtype, per_backend in data.items():
        if dtype not in FLOAT_DTYPES:
            continue
        path = f"tolerance.{dtype}"
        backends = _check_keys(per_backend, path, BACKENDS, (), errors)
        for backend, tol in backends.items():
            if backend not in BACKENDS:
                continue
            bpath = f"{path}.{backend}"
            values = _check_keys(tol, bpath, ("rtol", "atol"), (), errors)
            rtol = _number(values, "rtol", bpath, errors, nonnegative=True)
            atol = _number(values, "atol", bpath, errors, nonnegative=True)
            if rtol is not None and atol is not None:
                table.setdefault(dtype, {})[backend] = Tolerance(rtol, atol)
    return table


def _parse_cases(
    raw: Any, inputs: Mapping[str, Input], raw_inputs: Any, errors: _Errors
) -> CaseSpec | None:
    data = _check_keys(
        raw, "cases", ("count",), ("distinct_shapes", "min_informative", "boundary"), errors
    )
    count = _int(data, "count", "cases", errors, minimum=1)
    shapes = _int(data, "distinct_shapes", "cases", errors, minimum=1, default=4)
    informative = _int(
        data, "min_informative", "cases", errors, minimum=1, default=max(1, (count or 2) // 2)
    )
    boundary_raw = data.get("boundary", [])
    boundary: list[dict[str, int | str]] = []
    if not isinstance(boundary_raw, list):
        errors.add("cases.boundary", f"expected a list of mappings, got {_describe(boundary_raw)}")
        boundary_raw = []
    # Dimensions with a wrong role have an error of their own; do not repeat it here.
    dims = {d for i in inputs.values() if isinstance(i, ArrayInput) for d in i.shape}
    for k, entry in enumerate(boundary_raw):
        path = f"cases.boundary[{k}]"
        if not isinstance(entry, dict) or not entry:
            errors.add(path, f"expected a mapping of integer inputs, got {_describe(entry)}")
            continue
        for name, value in entry.items():
            spec = inputs.get(name)
            target = value[1:] if isinstance(value, str) and value.startswith("=") else None
            if any(_declared_int(raw_inputs, n) and n not in inputs for n in (name, target)):
                continue  # an invalid integer input: its own error says why
            if not isinstance(spec, IntInput):
                errors.add(f"{path}.{name}", "not an integer input")
            elif isinstance(value, str) and value.startswith("="):
                other = inputs.get(value[1:])
                if not isinstance(other, IntInput):
                    errors.add(
                        f"{path}.{name}", f"{value!r}: {value[1:]!r} is not an integer input"
                    )
                elif any(i.role != "shape" and i.name not in dims for i in (spec, other)):
                    # Equalities tie shapes together; a value input (a seed) varies per case.
                    errors.add(
                        f"{path}.{name}",
                        f"{value!r}: '=' ties shape inputs together; {name} and {value[1:]} "
                        "must both have role 'shape'",
                    )
                elif max(spec.min, other.min) > min(spec.max, other.max):
                    errors.add(f"{path}.{name}", f"{name} and {value[1:]} have no common value")
            elif value in ("min", "max"):
                pass
            elif isinstance(value, bool) or not isinstance(value, int):
                errors.add(
                    f"{path}.{name}",
                    f"expected an integer, 'min', 'max' or '=name', got {_describe(value)}",
                )
            elif not spec.min <= value <= spec.max:
                errors.add(f"{path}.{name}", f"{value} is outside [{spec.min}, {spec.max}]")
        boundary.append(dict(entry))
    if count is None or shapes is None or informative is None:
        return None
    if shapes < len(boundary):
        errors.add(
            "cases.distinct_shapes", f"{shapes} is fewer than the {len(boundary)} boundary cases"
        )
        return None
    if count < 2 * shapes:
        errors.add(
            "cases.count",
            f"{count} cases cannot meet each of {shapes} distinct shapes "
            "twice; use count >= 2 * distinct_shapes",
        )
        return None
    if informative > count:
        errors.add("cases.min_informative", f"{informative} is more than the {count} cases")
        return None
    return CaseSpec(count, shapes, informative, tuple(boundary))


def _words(value: Any) -> str:
    return " ".join(str(value).split())


def _snake(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value) is not None


def _parse_rubric(raw: Any, errors: _Errors) -> tuple[RubricItem, ...]:
    if not isinstance(raw, list) or not raw:
        errors.add("rubric", f"expected a non-empty list of items, got {_describe(raw)}")
        return (DEFAULT_RUBRIC_ITEM,)
    items: list[RubricItem] = []
    for k, entry in enumerate(raw):
        path = f"rubric[{k}]"
        data = _check_keys(
            entry,
            path,
            ("id", "check", "weight"),
            ("title", "required", "api", "arguments", "collection"),
            errors,
        )
        ident = data.get("id")
        if "id" in data and not _snake(ident):
            errors.add(f"{path}.id", f"expected a snake_case name, got {_describe(ident)}")
        check = _text(data, "check", path, errors, choices=RUBRIC_CHECKS)
        weight = _number(data, "weight", path, errors, positive=True)
        required = data.get("required", True)
        if not isinstance(required, bool):
            errors.add(f"{path}.required", f"expected true or false, got {_describe(required)}")
        api = data.get("api", "")
        if check == "transform" and not (isinstance(api, str) and api.startswith("flax.linen.")):
            errors.add(
                f"{path}.api",
                "a transform check names a Flax lifted transform, such as "
                f"'flax.linen.vmap'; got {_describe(api)}",
            )
        arguments = data.get("arguments", [])
        if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
            errors.add(
                f"{path}.arguments",
                f"expected a list of argument names, got {_describe(arguments)}",
            )
            arguments = []
        collection = _text(data, "collection", path, errors, default="params")
        title = _text(data, "title", path, errors, default=str(ident))
        if None not in (check, weight, collection, title) and _snake(ident):
            items.append(
                RubricItem(
                    str(ident),
                    str(title),
                    str(check),
                    float(weight or 0),
                    required is not False,
                    str(api or ""),
                    tuple(arguments),
                    str(collection),
                )
            )
    ids = [i.id for i in items]
    for ident in sorted({i for i in ids if ids.count(i) > 1}):
        errors.add("rubric", f"the id {ident!r} is used twice")
    outputs = [i for i in items if i.check == "outputs"]
    if items and (len(outputs) != 1 or not outputs[0].required):
        errors.add(
            "rubric",
            "exactly one item must check 'outputs', and it must be required: "
            "without it a wrong answer could be accepted",
        )
    return tuple(items) or (DEFAULT_RUBRIC_ITEM,)


def _entries(raw: Any, key: str, errors: _Errors) -> list[tuple[str, Any]]:
    """An optional list section: its entries with their paths (``fingerprints[2]``)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add(key, f"expected a list, got {_describe(raw)}")
        return []
    return [(f"{key}[{k}]", entry) for k, entry in enumerate(raw)]


def _code_message_hint(data: dict, path: str, errors: _Errors) -> tuple[str, str, str] | None:
    """The ``code``, ``message`` and optional ``hint`` every named finding carries."""
    code = data.get("code")
    if "code" in data and not _snake(code):
        errors.add(f"{path}.code", f"expected a snake_case code, got {_describe(code)}")
    message = _text(data, "message", path, errors)
    hint = _text(data, "hint", path, errors, default="")
    if not (_snake(code) and message):
        return None
    return str(code), _words(message), _words(hint or "")


def _parse_fingerprints(directory: Path, raw: Any, errors: _Errors) -> tuple[Fingerprint, ...]:
    found = []
    for path, entry in _entries(raw, "fingerprints", errors):
        data = _check_keys(entry, path, ("code", "file", "message"), ("hint",), errors)
        named = _code_message_hint(data, path, errors)
        file = None
        name = _text(data, "file", path, errors)
        if name is not None:
            file = (directory / name).resolve()
            if not file.is_file():
                errors.add(f"{path}.file", f"file not found: {name} (looked for {file})")
                file = None
        if named and file is not None:
            found.append(Fingerprint(named[0], file, named[1], named[2]))
    return tuple(found)


def _parse_known_errors(raw: Any, errors: _Errors) -> tuple[KnownError, ...]:
    found = []
    for path, entry in _entries(raw, "errors", errors):
        data = _check_keys(entry, path, ("match", "code", "message"), ("hint",), errors)
        pattern = _text(data, "match", path, errors)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                errors.add(f"{path}.match", f"not a valid regular expression: {exc}")
                pattern = None
        named = _code_message_hint(data, path, errors)
        if pattern and named:
            found.append(KnownError(pattern, *named))
    return tuple(found)


_TOP_REQUIRED = (
    "name",
    "title",
    "version",
    "statement",
    "reference",
    "entry_point",
    "inputs",
    "output",
    "tolerance",
    "limits",
    "cases",
)
_TOP_OPTIONAL = ("precision", "hints", "rubric", "fingerprints", "errors")


def load_problem_file(path: Path) -> Problem:
    """Read and validate one ``problem.yaml``; raise ProblemError listing every fault."""
    shown = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProblemError(shown, [("", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProblemError(shown, [("", f"not valid YAML: {where}{reason}")]) from None
    errors = _Errors()
    data = _check_keys(raw, "", _TOP_REQUIRED, _TOP_OPTIONAL, errors)
    directory = path.parent.resolve()
    name = _text(data, "name", "", errors)
    if name is not None and name != directory.name:
        errors.add("name", f"{name!r} differs from its folder name {directory.name!r}")
    title = _text(data, "title", "", errors)
    version = _text(data, "version", "", errors)
    statement = _file(directory, data, "statement", errors)
    reference = _file(directory, data, "reference", errors)
    precision = _text(data, "precision", "", errors, choices=PRECISIONS, default="highest")
    inputs = _parse_inputs(data.get("inputs"), errors) if "inputs" in data else {}

    entry = (
        _check_keys(data.get("entry_point", {}), "entry_point", ("name", "parameters"), (), errors)
        if "entry_point" in data
        else {}
    )
    entry_name = _text(entry, "name", "entry_point", errors)
    if entry_name is not None and not entry_name.isidentifier():
        errors.add("entry_point.name", f"{entry_name!r} is not a Python identifier")
    params = entry.get("parameters")
    if "parameters" in entry and (not isinstance(params, list) or not params):
        errors.add(
            "entry_point.parameters",
            f"expected a non-empty list of input names, got {_describe(params)}",
        )
        params = None
    for k, param in enumerate(params or []):
        if param not in (data.get("inputs") or {}):
            errors.add(f"entry_point.parameters[{k}]", f"{param!r} is not declared in inputs")
    if params and len(set(params)) != len(params):
        errors.add("entry_point.parameters", "a parameter is listed twice")

    output = (
        _check_keys(data.get("output", {}), "output", ("dtype",), (), errors)
        if "output" in data
        else {}
    )
    output_dtype = _text(output, "dtype", "output", errors, choices=FLOAT_DTYPES)
    tolerance = _parse_tolerance(data["tolerance"], errors) if "tolerance" in data else {}
    if output_dtype and tolerance and output_dtype not in tolerance:
        errors.add("tolerance", f"no tolerance for the output dtype {output_dtype!r}")

    limits_data = (
        _check_keys(
            data.get("limits", {}),
            "limits",
            ("call_s", "submission_s", "memory_mb"),
            ("output_kb", "cpu_s", "processes"),
            errors,
        )
        if "limits" in data
        else {}
    )
    call_s = _number(limits_data, "call_s", "limits", errors, positive=True)
    submission_s = _number(limits_data, "submission_s", "limits", errors, positive=True)
    memory_mb = _int(limits_data, "memory_mb", "limits", errors, minimum=1536)
    output_kb = _int(limits_data, "output_kb", "limits", errors, minimum=1, default=64)
    cpu_s = _number(limits_data, "cpu_s", "limits", errors, positive=True)
    processes = _int(limits_data, "processes", "limits", errors, minimum=1, default=256)
    if cpu_s is None and submission_s is not None and "cpu_s" not in limits_data:
        cpu_s = 2 * submission_s  # JAX compiles on every core: CPU time outruns wall time

    cases = (
        _parse_cases(data["cases"], inputs, data.get("inputs"), errors) if "cases" in data else None
    )
    rubric = (
        _parse_rubric(data.get("rubric"), errors) if "rubric" in data else (DEFAULT_RUBRIC_ITEM,)
    )
    fingerprints = _parse_fingerprints(directory, data.get("fingerprints"), errors)
    known_errors = _parse_known_errors(data.get("errors"), errors)
    hints = data.get("hints", {})
    if not isinstance(hints, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in hints.items()
    ):
        errors.add("hints", "expected a mapping of diagnostic codes to non-empty text")
        hints = {}

    # Every declared input must reach the learner, directly or as a dimension.
    # Shapes are read from the raw declarations: an array input that failed validation still
    # uses its dimensions, and its own error says what is wrong with it.
    raw_inputs = data.get("inputs") if isinstance(data.get("inputs"), dict) else {}
    used = set(params or []) | {
        d
        for spec in raw_inputs.values()
        if isinstance(spec, dict) and isinstance(spec.get("shape"), list)
        for d in spec["shape"]
        if isinstance(d, str)
    }
    for input_name in inputs:
        if input_name not in used:
            errors.add(f"inputs.{input_name}", "neither a parameter nor a dimension of one")

    if errors.items:
        raise ProblemError(shown, errors.items)
    assert name and title and version and statement and reference and entry_name and params
    assert output_dtype and precision and cases and memory_mb and output_kb
    assert call_s is not None and submission_s is not None
    return Problem(
        name=name,
        title=title,
        version=version,
        directory=directory,
        statement=statement,
        reference=reference,
        entry_point=entry_name,
        parameters=tuple(params),
        inputs=inputs,
        output_dtype=output_dtype,
        tolerance=tolerance,
        precision=precision,
        limits=Limits(
            call_s, submission_s, memory_mb, output_kb, cpu_s or 2 * submission_s, processes or 256
        ),
        cases=cases,
        hints={k: " ".join(v.split()) for k, v in hints.items()},
        rubric=rubric,
        fingerprints=fingerprints,
        known_errors=known_errors,
    )


def _display(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --- discovery --------------------------------------------------------------------------------


def default_problems_dir() -> Path:
    """Where problem packages live when ``--problems`` is not given.

    In order: ``$JUDGE_PROBLEMS``; a ``problems/`` folder in the working directory or one of
    its parents; the ``problems/`` folder beside the installed ``judge`` package.
    """
    env = os.environ.get("JUDGE_PROBLEMS")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "problems"
        if candidate.is_dir() and any(candidate.glob(f"*/{PROBLEM_FILE}")):
            return candidate
    return Path(__file__).resolve().parent.parent / "problems"


def problem_names(problems_dir: Path) -> list[str]:
    """Names of the problem packages (folders holding a problem.yaml), sorted."""
    if not problems_dir.is_dir():
        return []
    return sorted(p.parent.name for p in problems_dir.glob(f"*/{PROBLEM_FILE}"))


def load_problem(name: str, problems_dir: Path | None = None) -> Problem:
    """Load a problem by name from ``problems_dir``, or from a path to a folder or YAML file."""
    as_path = Path(name)
    if as_path.suffix in (".yaml", ".yml") and as_path.is_file():
        return load_problem_file(as_path)
    if (as_path / PROBLEM_FILE).is_file() and (os.sep in name or name.startswith(".")):
        return load_problem_file(as_path / PROBLEM_FILE)
    folder = problems_dir or default_problems_dir()
    candidate = folder / name / PROBLEM_FILE
    if candidate.is_file():
        return load_problem_file(candidate)
    known = problem_names(folder)
    close = difflib.get_close_matches(name, known, n=1)
    tip = f" (did you mean {close[0]!r}?)" if close else ""
    listing = ", ".join(known) if known else "none"
    raise ProblemNotFound(f"no problem named {name!r} in {folder}{tip}; known: {listing}")
