"""``assignments/<name>/assignment.yaml`` read into a frozen ``Assignment``; where they live.

An assignment names problems and their points; it restates nothing of a problem. Every field
is validated when loaded and every error is listed with its path (``problems[1].points``), as
for a problem package, so that an author fixes the file in one pass.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import JudgeError, ProblemError, ProblemNotFound
from ..problem import PROBLEM_FILE, Problem, default_problems_dir, load_problem, problem_names
from ..problem.fields import _check_keys, _describe, _Errors

ASSIGNMENT_FILE = "assignment.yaml"
_TOP_REQUIRED = ("name", "problems")
_TOP_OPTIONAL = ("title",)
_PART_REQUIRED = ("problem", "points")
_PART_OPTIONAL = ("entry_point",)


@dataclass(frozen=True)
class Part:
    """One problem of an assignment and what it is worth.

    ``problem.entry_point`` is the name the learner's function must have: the assignment's
    ``entry_point:`` when it renames it (the reference keeps its own name, in
    ``problem.reference_entry_point``), else the problem's.
    """

    problem: Problem
    points: float

    @property
    def name(self) -> str:
        return self.problem.name

    @property
    def entry_point(self) -> str:
        return self.problem.entry_point


@dataclass(frozen=True)
class Assignment:
    """A validated assignment: its problems in order, each with its points."""

    name: str
    title: str
    path: Path
    parts: tuple[Part, ...]
    digest: str  # of assignment.yaml's bytes: a rerun of a batch regrades when it changes

    @property
    def max_points(self) -> float:
        return sum(part.points for part in self.parts)

    @property
    def entry_points(self) -> tuple[str, ...]:
        return tuple(part.entry_point for part in self.parts)

    @property
    def version(self) -> str:
        """What a stored result depends on: this file and each problem's version."""
        versions = ",".join(f"{p.name}@{p.problem.version}" for p in self.parts)
        return f"{self.digest[:12]}:{versions}"


# --- discovery --------------------------------------------------------------------------------


def default_assignments_dir(problems_dir: Path | None = None) -> Path:
    """Where assignments live: ``$JUDGE_ASSIGNMENTS``, else ``assignments/`` beside the problem
    folder in use (``--problems DIR``, ``$JUDGE_PROBLEMS``, ``./problems`` or a parent's, or the
    bundled set), so that a problem set carries its assignments the way it carries problems."""
    env = os.environ.get("JUDGE_ASSIGNMENTS")
    if env:
        return Path(env)
    return (problems_dir or default_problems_dir()).parent / "assignments"


def assignment_names(assignments_dir: Path) -> list[str]:
    """Names of the assignments (folders holding an assignment.yaml), sorted."""
    if not assignments_dir.is_dir():
        return []
    return sorted(p.parent.name for p in assignments_dir.glob(f"*/{ASSIGNMENT_FILE}"))


def _find(name: str, problems_dir: Path | None) -> Path:
    """The assignment.yaml that ``name`` means: a path to one (or its folder), else a name."""
    as_path = Path(name)
    if as_path.suffix in (".yaml", ".yml") and as_path.is_file():
        return as_path
    if (as_path / ASSIGNMENT_FILE).is_file() and (os.sep in name or name.startswith(".")):
        return as_path / ASSIGNMENT_FILE
    folder = default_assignments_dir(problems_dir)
    candidate = folder / name / ASSIGNMENT_FILE
    if candidate.is_file():
        return candidate
    known = assignment_names(folder)
    close = difflib.get_close_matches(name, known, n=1)
    tip = f" (did you mean {close[0]!r}?)" if close else ""
    listing = ", ".join(known) if known else "none"
    raise ProblemNotFound(
        f"no assignment named {name!r} in {folder}{tip}; known: {listing} (an assignment is "
        f"assignments/<name>/{ASSIGNMENT_FILE} beside the problems folder)"
    )


def _problems_for(path: Path, problems_dir: Path | None) -> Path:
    """The problems an assignment names: ``--problems DIR``, else the problem set the file sits
    in (``<set>/assignments/<name>/assignment.yaml`` beside ``<set>/problems``), else the
    default problem folder."""
    if problems_dir is not None:
        return problems_dir
    beside = path.resolve().parent.parent.parent / "problems"
    if beside.is_dir() and any(beside.glob(f"*/{PROBLEM_FILE}")):
        return beside
    return default_problems_dir()


# --- loading ----------------------------------------------------------------------------------


def load_assignment(name: str | Path, problems_dir: Path | None = None) -> Assignment:
    """Load an assignment by name (or from a path to its folder or YAML file), with its problems.

    Raises:
        ProblemNotFound: no such assignment (exit 2), with a did-you-mean.
        ProblemError: the file is invalid (exit 2), every error with its path; or a problem it
            names is an invalid package (that package's own errors).
    """
    path = _find(str(name), problems_dir)
    shown = _display(path)
    try:
        raw_bytes = path.read_bytes()
        raw = yaml.safe_load(raw_bytes.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemError(shown, [("", f"cannot read: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProblemError(shown, [("", f"not valid YAML: {where}{reason}")]) from None
    errors = _Errors()
    data = _check_keys(raw, "", _TOP_REQUIRED, _TOP_OPTIONAL, errors)
    title_name = _names(data, path, errors)
    parts = _parse_parts(data.get("problems"), _problems_for(path, problems_dir), errors)
    if errors.items:
        raise ProblemError(shown, errors.items)
    assert title_name is not None
    return Assignment(
        name=title_name[1],
        title=title_name[0],
        path=path.resolve(),
        parts=tuple(parts),
        digest=hashlib.sha256(raw_bytes).hexdigest(),
    )


def _names(data: dict[str, Any], path: Path, errors: _Errors) -> tuple[str, str] | None:
    """``(title, name)``; the name must equal the folder's, as a problem's does."""
    name = data.get("name")
    if "name" in data and (not isinstance(name, str) or not name.strip()):
        errors.add("name", f"expected a non-empty string, got {_describe(name)}")
        return None
    if not isinstance(name, str):
        return None
    folder = path.resolve().parent.name
    if path.name == ASSIGNMENT_FILE and name != folder:
        errors.add("name", f"{name!r} differs from its folder name {folder!r}")
    title = data.get("title", name)
    if not isinstance(title, str) or not title.strip():
        errors.add("title", f"expected a non-empty string, got {_describe(title)}")
        return None
    return title, name


def _parse_parts(raw: Any, problems_dir: Path, errors: _Errors) -> list[Part]:
    """Each ``problems[k]``: a known problem, positive points, an optional identifier; no
    problem and no function name twice."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not raw:
        errors.add("problems", f"expected a non-empty list, got {_describe(raw)}")
        return []
    parts: list[Part] = []
    for k, item in enumerate(raw):
        where = f"problems[{k}]"
        entry = _check_keys(item, where, _PART_REQUIRED, _PART_OPTIONAL, errors)
        points = _points(entry, where, errors)
        problem = _problem(entry, where, problems_dir, errors)
        if problem is None or points is None:
            continue
        if problem.name in {p.name for p in parts}:
            errors.add(f"{where}.problem", f"{problem.name!r} is listed twice")
            continue
        if problem.entry_point in {p.entry_point for p in parts}:
            errors.add(
                f"{where}.entry_point",
                f"{problem.entry_point!r} is already another problem's function name",
            )
            continue
        parts.append(Part(problem, points))
    return parts


def _points(entry: dict[str, Any], where: str, errors: _Errors) -> float | None:
    value = entry.get("points")
    if "points" not in entry:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.add(f"{where}.points", f"expected a positive number, got {_describe(value)}")
        return None
    if value <= 0:
        errors.add(f"{where}.points", f"expected a positive number, got {value!r}")
        return None
    return float(value)


def _problem(
    entry: dict[str, Any], where: str, problems_dir: Path, errors: _Errors
) -> Problem | None:
    """The problem ``entry`` names, its function renamed when the assignment says so."""
    name = entry.get("problem")
    if "problem" not in entry:
        return None
    if not isinstance(name, str) or not name:
        errors.add(f"{where}.problem", f"expected a problem name, got {_describe(name)}")
        return None
    if name not in problem_names(problems_dir):
        close = difflib.get_close_matches(name, problem_names(problems_dir), n=1)
        tip = f" (did you mean {close[0]!r}?)" if close else ""
        errors.add(f"{where}.problem", f"no problem named {name!r} in {problems_dir}{tip}")
        return None
    try:
        problem = load_problem(name, problems_dir)
    except ProblemError:
        raise  # the package's own errors, with its own path, say more than one line here
    except JudgeError as exc:
        errors.add(f"{where}.problem", str(exc))
        return None
    renamed = entry.get("entry_point")
    if "entry_point" not in entry or renamed == problem.entry_point:
        return problem
    if not isinstance(renamed, str) or not renamed.isidentifier():
        errors.add(
            f"{where}.entry_point", f"expected a Python identifier, got {_describe(renamed)}"
        )
        return None
    return dataclasses.replace(
        problem, entry_point=renamed, reference_entry_point=problem.entry_point
    )


def _display(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
