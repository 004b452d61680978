"""Problem packages: ``problems/<name>/problem.yaml`` read into frozen dataclasses.

Every field is validated when loaded and every error is reported at once, each with its path
(``cases.batch.max``), with a did-you-mean for unknown keys, so an author fixes a package in one
pass. Nothing here knows any particular exercise: a new problem is a new folder. Modules:
``model`` (the dataclasses), ``fields`` (checked reads of one field), ``sections`` (one section
of the YAML each); this one reads a file and finds packages.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import yaml

from ..errors import ProblemError, ProblemNotFound
from ..limits import DECLARED, Limits
from .fields import _check_keys, _describe, _Errors, _file, _text
from .model import (
    ARRAY_DTYPES,
    DEFAULT_RUBRIC_ITEM,
    FLOAT_DTYPES,
    INT_ROLES,
    PRECISIONS,
    PROBLEM_FILE,
    RUBRIC_CHECKS,
    VISIBILITIES,
    ArrayInput,
    CaseSpec,
    Fingerprint,
    Input,
    IntInput,
    KnownError,
    Problem,
    RubricItem,
    Tolerance,
)
from .rubric_section import _parse_rubric
from .sections import (
    _TOP_OPTIONAL,
    _TOP_REQUIRED,
    _check_hint_keys,
    _parse_cases,
    _parse_fingerprints,
    _parse_inputs,
    _parse_known_errors,
    _parse_limits,
    _parse_tolerance,
)
from .sources import ENTRY_POINT_GROUP, Located, Source, locate

__all__ = [
    "ARRAY_DTYPES",
    "DEFAULT_RUBRIC_ITEM",
    "ENTRY_POINT_GROUP",
    "FLOAT_DTYPES",
    "INT_ROLES",
    "NO_PROBLEMS_HINT",
    "PRECISIONS",
    "PROBLEM_FILE",
    "RUBRIC_CHECKS",
    "VISIBILITIES",
    "ArrayInput",
    "CaseSpec",
    "Fingerprint",
    "Input",
    "IntInput",
    "KnownError",
    "Limits",
    "Located",
    "Problem",
    "RubricItem",
    "Source",
    "Tolerance",
    "bundled_problems_dir",
    "default_problems_dir",
    "load_problem",
    "load_problem_file",
    "locate_problems",
    "problem_names",
]


def _read_yaml(path: Path, shown: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProblemError(shown, [("", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProblemError(shown, [("", f"not valid YAML: {where}{reason}")]) from None


def _section(
    data: dict, key: str, required: tuple[str, ...], optional: tuple[str, ...], errors: _Errors
) -> dict:
    return _check_keys(data.get(key, {}), key, required, optional, errors) if key in data else {}


def _parse_entry(data: dict, errors: _Errors) -> tuple[str | None, list[str] | None]:
    entry = _section(data, "entry_point", ("name", "parameters"), (), errors)
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
    return entry_name, params


def _parse_hints(data: dict, problem_codes: dict[str, Any], errors: _Errors) -> dict[str, str]:
    hints = data.get("hints", {})
    if not isinstance(hints, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in hints.items()
    ):
        errors.add("hints", "expected a mapping of diagnostic codes to non-empty text")
        return {}
    _check_hint_keys(list(hints), problem_codes["fingerprints"], problem_codes["errors"], errors)
    return {k: " ".join(v.split()) for k, v in hints.items()}


def _check_inputs_used(
    data: dict, inputs: dict[str, Input], params: list[str] | None, errors: _Errors
) -> None:
    """Every declared input must reach the learner, directly or as a dimension. Shapes are
    read from the raw declarations: an array input that failed validation still uses its
    dimensions, and its own error says what is wrong with it."""
    raw_inputs: dict = data["inputs"] if isinstance(data.get("inputs"), dict) else {}
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


def _parse_sections(data: dict, directory: Path, errors: _Errors) -> dict[str, Any]:
    """Every section but the top-level texts, each with its errors collected (in file order,
    as an author reads them)."""
    found: dict[str, Any] = {}
    inputs = _parse_inputs(data.get("inputs"), errors) if "inputs" in data else {}
    entry_name, params = _parse_entry(data, errors)
    output = _section(data, "output", ("dtype",), (), errors)
    output_dtype = _text(output, "dtype", "output", errors, choices=FLOAT_DTYPES)
    tolerance = _parse_tolerance(data["tolerance"], errors) if "tolerance" in data else {}
    if output_dtype and tolerance and output_dtype not in tolerance:
        errors.add("tolerance", f"no tolerance for the output dtype {output_dtype!r}")
    limits_keys = (
        tuple(limit.name for limit in DECLARED if limit.required),
        tuple(limit.name for limit in DECLARED if not limit.required),
    )
    found["limits"] = _parse_limits(_section(data, "limits", *limits_keys, errors), errors)
    found["cases"] = (
        _parse_cases(data["cases"], inputs, data.get("inputs"), errors) if "cases" in data else None
    )
    fingerprints = _parse_fingerprints(directory, data.get("fingerprints"), errors)
    raw: dict = data["inputs"] if isinstance(data.get("inputs"), dict) else {}
    _check_fingerprint_inputs(fingerprints, inputs, set(map(str, raw)), errors)
    # An outputs item's ``partial:`` may name the fingerprints' codes: those declared, so that
    # a fingerprint with an error of its own does not make the rubric wrong too.
    declared = data.get("fingerprints")
    codes = [str(f.get("code")) for f in declared or [] if isinstance(f, dict)]
    found["rubric"] = (
        _parse_rubric(data.get("rubric"), errors, codes)
        if "rubric" in data
        else (DEFAULT_RUBRIC_ITEM,)
    )
    known_errors = _parse_known_errors(data.get("errors"), errors)
    found["hints"] = _parse_hints(
        data, {"fingerprints": fingerprints, "errors": known_errors}, errors
    )
    _check_inputs_used(data, inputs, params, errors)
    found.update(
        entry_point=entry_name,
        parameters=tuple(params or ()),
        inputs=inputs,
        output_dtype=output_dtype,
        tolerance=tolerance,
        fingerprints=fingerprints,
        known_errors=known_errors,
    )
    return found


def load_problem_file(path: Path) -> Problem:
    """Read and validate one ``problem.yaml``; raise ProblemError listing every fault."""
    shown = _display(path)
    raw = _read_yaml(path, shown)
    errors = _Errors()
    data = _check_keys(raw, "", _TOP_REQUIRED, _TOP_OPTIONAL, errors)
    directory = path.parent.resolve()
    name = _text(data, "name", "", errors)
    if name is not None and name != directory.name:
        errors.add("name", f"{name!r} differs from its folder name {directory.name!r}")
    texts = {
        "name": name,
        "title": _text(data, "title", "", errors),
        "version": _text(data, "version", "", errors),
        "statement": _file(directory, data, "statement", errors),
        "reference": _file(directory, data, "reference", errors),
        "precision": _text(data, "precision", "", errors, choices=PRECISIONS, default="highest"),
    }
    sections = _parse_sections(data, directory, errors)
    if errors.items:
        raise ProblemError(shown, errors.items)
    fields = {**texts, **sections}
    assert all(
        fields[k]
        for k in (
            "name",
            "title",
            "version",
            "statement",
            "reference",
            "entry_point",
            "parameters",
            "output_dtype",
            "precision",
            "cases",
            "limits",
        )
    )
    return Problem(directory=directory, **fields)


def _display(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --- discovery --------------------------------------------------------------------------------


# Where a wheel carries the bundled problem set (copied there by setup.py at build time).
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "_bundled"


def bundled_problems_dir() -> Path:
    """The problem set that ships with the judge.

    An installed wheel carries it as package data (``judge/_bundled/problems``); a source
    checkout (an editable install) has it at its top, beside ``pyproject.toml``.
    """
    if (BUNDLED_DIR / "problems").is_dir():
        return BUNDLED_DIR / "problems"
    return Path(__file__).resolve().parent.parent.parent / "problems"


def default_problems_dir() -> Path:
    """Where problem packages live when ``--problems`` is not given.

    In order: ``$JUDGE_PROBLEMS``; a ``problems/`` folder holding a package in the working
    directory or one of its parents; the bundled problem set (``bundled_problems_dir``).
    """
    env = os.environ.get("JUDGE_PROBLEMS")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "problems"
        if candidate.is_dir() and any(candidate.glob(f"*/{PROBLEM_FILE}")):
            return candidate
    return bundled_problems_dir()


NO_PROBLEMS_HINT = (
    "pass --problems DIR (a folder of problem packages), set $JUDGE_PROBLEMS, or run from a "
    "problem set holding problems/<name>/problem.yaml"
)


def locate_problems(problems_dir: Path | None = None) -> Located:
    """Every problem a command sees from ``problems_dir`` (default: ``default_problems_dir``),
    each with its source; installed problem sets join the bundled one (``sources``)."""
    return locate(problems_dir or default_problems_dir(), bundled_problems_dir())


def problem_names(problems_dir: Path) -> list[str]:
    """Names of the problem packages (folders holding a problem.yaml), sorted; for the bundled
    set, with those of the installed problem sets."""
    return sorted(locate_problems(problems_dir).problems)


def load_problem(name: str, problems_dir: Path | None = None) -> Problem:
    """Load a problem by name from ``problems_dir``, or from a path to a folder or YAML file."""
    as_path = Path(name)
    if as_path.suffix in (".yaml", ".yml") and as_path.is_file():
        return load_problem_file(as_path)
    if (as_path / PROBLEM_FILE).is_file() and (os.sep in name or name.startswith(".")):
        return load_problem_file(as_path / PROBLEM_FILE)
    folder = problems_dir or default_problems_dir()
    located = locate_problems(folder)
    if name in located.problems:  # names are folder names: never a path
        return load_problem_file(located.problems[name].folder / name / PROBLEM_FILE)
    known = sorted(located.problems)
    close = difflib.get_close_matches(name, known, n=1)
    tip = f" (did you mean {close[0]!r}?)" if close else ""
    listing = ", ".join(known) if known else f"none ({NO_PROBLEMS_HINT})"
    where = f"{folder}{' or an installed problem set' if located.merged else ''}"
    raise ProblemNotFound(f"no problem named {name!r} in {where}{tip}; known: {listing}")


def _check_fingerprint_inputs(
    fingerprints: tuple[Fingerprint, ...],
    inputs: dict[str, Input],
    declared: set[str],
    errors: _Errors,
) -> None:
    """A fingerprint's ``inputs:`` may move value inputs only (a seed): a shape moved would
    make variables the learner's cannot be compared with. An input that is declared but did
    not parse has its own error already."""
    for number, fingerprint in enumerate(fingerprints):
        for name, (source, _) in fingerprint.inputs.items():
            for used in sorted(str(u) for u in {name, source} if u is not None):
                role = getattr(inputs.get(used), "role", None)
                if role == "value" or (used in declared and role not in ("shape", None)):
                    continue  # a value input, or one whose own role is already an error
                if used in declared and role is None and used not in inputs:
                    continue
                errors.add(
                    f"fingerprints[{number}].inputs.{name}",
                    f"{used!r} is not a value input of this problem (role: value)",
                )
