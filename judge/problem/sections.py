"""The sections of problem.yaml, each read into the model with every error collected.

Long because every section's rules sit together, in file order, as an author reads them.
"""

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import catalogue
from ..constants import BACKENDS
from ..limits import CPU_PER_WALL, DECLARED, Limits
from .fields import (
    _check_keys,
    _declared_int,
    _describe,
    _Errors,
    _int,
    _number,
    _text,
)
from .model import (
    ARRAY_DTYPES,
    ARRAY_KINDS,
    FLOAT_DTYPES,
    INT_ROLES,
    ArrayInput,
    CaseSpec,
    Fingerprint,
    Input,
    IntInput,
    KnownError,
    Tolerance,
)


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
        parsed: Input | None = None
        if kind == "int":
            parsed = _parse_int_input(name, spec, path, errors)
        elif kind == "array":
            parsed = _parse_array_input(name, spec, path, errors)
        else:
            errors.add(f"{path}.type", f"expected 'int' or 'array', got {_describe(kind)}")
        if parsed is not None:
            inputs[name] = parsed
    _check_dimensions(raw, inputs, errors)
    return inputs


def _parse_int_input(name: str, spec: dict, path: str, errors: _Errors) -> IntInput | None:
    data = _check_keys(spec, path, ("type", "min", "max"), ("role",), errors)
    lo = _int(data, "min", path, errors)
    hi = _int(data, "max", path, errors)
    role = _text(data, "role", path, errors, choices=INT_ROLES, default="shape")
    if lo is None or hi is None or role is None:
        return None
    if lo > hi:
        errors.add(f"{path}.min", f"min ({lo}) is greater than max ({hi})")
        return None
    return IntInput(name, lo, hi, role)


def _parse_shape(shape: Any, path: str, errors: _Errors) -> list[str | int]:
    """The dimensions that are valid (input names or positive integers)."""
    dims: list[str | int] = []
    if not isinstance(shape, list) or not shape:
        errors.add(
            f"{path}.shape",
            "expected a non-empty list of input names or "
            f"positive integers, got {_describe(shape)}",
        )
        return dims
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
    return dims


def _parse_array_input(name: str, spec: dict, path: str, errors: _Errors) -> ArrayInput | None:
    data = _check_keys(
        spec,
        path,
        ("type", "dtype", "shape", "min", "max"),
        ("nonzero", "min_magnitude", "decimals", "kinds"),
        errors,
    )
    kinds = _array_kinds(data, path, errors)
    decimals = _int(data, "decimals", path, errors, minimum=0)
    dtype = _text(data, "dtype", path, errors, choices=ARRAY_DTYPES)
    lo = _number(data, "min", path, errors)
    hi = _number(data, "max", path, errors)
    magnitude = _number(data, "min_magnitude", path, errors, positive=True, default=0.1)
    nonzero = data.get("nonzero", False)
    if not isinstance(nonzero, bool):
        errors.add(f"{path}.nonzero", f"expected true or false, got {_describe(nonzero)}")
    shape = data.get("shape")
    dims = _parse_shape(shape, path, errors)
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
        assert dtype is not None and lo is not None and hi is not None and magnitude is not None
        return ArrayInput(
            name, dtype, tuple(dims), lo, hi, nonzero is True, magnitude, decimals, kinds
        )
    return None


def _array_kinds(data: dict, path: str, errors: _Errors) -> tuple[str, ...]:
    """``kinds``: what the function must accept, numpy arrays always among them."""
    kinds = data.get("kinds", ["numpy"])
    if (
        not isinstance(kinds, list)
        or not kinds
        or not all(k in ARRAY_KINDS for k in kinds)
        or len(set(kinds)) != len(kinds)
    ):
        errors.add(
            f"{path}.kinds",
            f"expected a list of distinct kinds from {list(ARRAY_KINDS)}, got {_describe(kinds)}",
        )
        return ("numpy",)
    if "numpy" not in kinds:
        errors.add(f"{path}.kinds", "numpy must be among the kinds: the reproducer passes one")
    return tuple(kinds)


def _check_dimensions(raw: dict, inputs: dict[str, Input], errors: _Errors) -> None:
    """Shapes may only name integer inputs of role ``shape`` whose min is at least 1."""
    for spec in list(inputs.values()):
        if not isinstance(spec, ArrayInput):
            continue
        for k, dim in enumerate(spec.shape):
            if not isinstance(dim, str):
                continue
            if _declared_int(raw, dim) and dim not in inputs:
                continue  # an invalid integer input: its own error says why
            target = inputs.get(dim)
            if not isinstance(target, IntInput):
                known = [i.name for i in inputs.values() if isinstance(i, IntInput)]
                close = difflib.get_close_matches(dim, known, n=1)
                tip = f" (did you mean {close[0]!r}?)" if close else ""
                errors.add(
                    f"inputs.{spec.name}.shape[{k}]", f"{dim!r} is not an integer input{tip}"
                )
            elif target.role == "value":
                errors.add(
                    f"inputs.{dim}.role",
                    f"{dim} is a dimension of {spec.name}, so its role must be 'shape'",
                )
            elif target.min < 1:
                errors.add(
                    f"inputs.{dim}.min",
                    f"{dim} is an array dimension of {spec.name}, so its min must be >= 1",
                )


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


def _check_boundary_value(
    path: str,
    name: str,
    value: Any,
    inputs: Mapping[str, Input],
    raw_inputs: Any,
    dims: set[str | int],
    errors: _Errors,
) -> None:
    """One ``name: value`` of a boundary entry: an integer in range, min, max or =other."""
    spec = inputs.get(name)
    target = value[1:] if isinstance(value, str) and value.startswith("=") else None
    if any(
        n is not None and _declared_int(raw_inputs, n) and n not in inputs for n in (name, target)
    ):
        return  # an invalid integer input: its own error says why
    if not isinstance(spec, IntInput):
        errors.add(f"{path}.{name}", "not an integer input")
    elif target is not None:
        other = inputs.get(target)
        if not isinstance(other, IntInput):
            errors.add(f"{path}.{name}", f"{value!r}: {target!r} is not an integer input")
        elif any(i.role != "shape" and i.name not in dims for i in (spec, other)):
            # Equalities tie shapes together; a value input (a seed) varies per case.
            errors.add(
                f"{path}.{name}",
                f"{value!r}: '=' ties shape inputs together; {name} and {target} "
                "must both have role 'shape'",
            )
        elif max(spec.min, other.min) > min(spec.max, other.max):
            errors.add(f"{path}.{name}", f"{name} and {target} have no common value")
    elif value in ("min", "max"):
        pass
    elif isinstance(value, bool) or not isinstance(value, int):
        errors.add(
            f"{path}.{name}",
            f"expected an integer, 'min', 'max' or '=name', got {_describe(value)}",
        )
    elif not spec.min <= value <= spec.max:
        errors.add(f"{path}.{name}", f"{value} is outside [{spec.min}, {spec.max}]")


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
            _check_boundary_value(path, name, value, inputs, raw_inputs, dims, errors)
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
        optional = ("hint", "cause", "inputs")
        data = _check_keys(entry, path, ("code", "file", "message"), optional, errors)
        named = _code_message_hint(data, path, errors)
        cause = _text(data, "cause", path, errors) if "cause" in data else ""
        inputs = _fingerprint_inputs(data.get("inputs"), f"{path}.inputs", errors)
        file = None
        name = _text(data, "file", path, errors)
        if name is not None:
            file = (directory / name).resolve()
            if not file.is_file():
                errors.add(f"{path}.file", f"file not found: {name} (looked for {file})")
                file = None
        if named and file is not None:
            found.append(Fingerprint(named[0], file, named[1], named[2], cause or "", inputs))
    return tuple(found)


_SHIFT = re.compile(r"^\s*([A-Za-z_]\w*)\s*([+-])\s*(\d+)\s*$")


def _fingerprint_inputs(raw: Any, path: str, errors: _Errors) -> dict[str, tuple[str | None, int]]:
    """``{seed: 0}`` or ``{seed: "seed + 1"}``: the variant is the reference on these inputs."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errors.add(path, f"expected a mapping of input names to values, got {_describe(raw)}")
        return {}
    found: dict[str, tuple[str | None, int]] = {}
    for name, value in raw.items():
        if type(value) is int:
            found[str(name)] = (None, value)
        elif isinstance(value, str) and (shift := _SHIFT.match(value)):
            sign = 1 if shift.group(2) == "+" else -1
            found[str(name)] = (shift.group(1), sign * int(shift.group(3)))
        else:
            errors.add(
                f"{path}.{name}", f"expected an integer or 'NAME + N', got {_describe(value)}"
            )
    return found


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


def unknown_hint_keys(keys: list[str], own_codes: list[str]) -> list[str]:
    """The keys of a problem's ``hints:`` that name no code it can meet (the engine's
    hintable codes, from the catalogue, or its own fingerprints' and known errors')."""
    known = {*catalogue.hintable_codes(), *own_codes}
    return [k for k in keys if k not in known]


def _check_hint_keys(
    keys: list[str],
    fingerprints: tuple[Fingerprint, ...],
    known_errors: tuple[KnownError, ...],
    errors: _Errors,
) -> None:
    """A hint for a code nothing emits would never be shown: an error, with a did-you-mean."""
    own = [f.code for f in fingerprints] + [k.code for k in known_errors]
    for key in unknown_hint_keys(keys, own):
        close = difflib.get_close_matches(key, [*catalogue.hintable_codes(), *own], n=1)
        tip = f" (did you mean {close[0]!r}?)" if close else ""
        errors.add(f"hints.{key}", f"no diagnostic has this code{tip}")


def _parse_limits(data: dict, errors: _Errors) -> Limits | None:
    """``limits:`` -> Limits, each as ``limits.DECLARED`` says (type, default, least value);
    None when a required value is missing or invalid."""
    found: dict[str, Any] = {}
    for limit in DECLARED:
        if limit.kind is int:
            value: float | None = _int(data, limit.name, "limits", errors,
                                       minimum=int(limit.minimum))  # fmt: skip
        else:
            value = _number(data, limit.name, "limits", errors, positive=True)
        if value and limit.maximum is not None and value > limit.maximum:
            errors.add(f"limits.{limit.name}", f"expected at most {limit.maximum:g}, got {value}")
        elif value:
            found[limit.name] = value
        elif limit.default is not None:
            found[limit.name] = limit.default
    if not all(limit.name in found for limit in DECLARED if limit.required):
        return None
    found.setdefault("cpu_s", CPU_PER_WALL * found["submission_s"])
    return Limits(**found)
