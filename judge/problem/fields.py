"""Checked reads of YAML fields: each error is collected with its path, never raised alone."""

import difflib
import math
from pathlib import Path
from typing import Any


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
