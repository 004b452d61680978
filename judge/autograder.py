"""What runs in the Gradescope image for each submission (``judge autograde``).

The bundle's ``run_autograder`` calls it: it picks the learner's file in
``<root>/submission``, grades it and writes ``<root>/results/results.json``. Whatever happens a
results.json is written (no file, an unreadable one, a judge that cannot run), so Gradescope
always has something to show; the reason goes to the learner in words and to the instructor
in the run's stdout.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import lock as locking
from .assignment import grade_assignment, load_assignment
from .assignment import render as assignment_render
from .constants import submission_suffix
from .errors import JudgeError, SubmissionNotFound
from .grading import GradeOptions, grade
from .problem import Problem, load_problem
from .render import gradescope
from .submission import read_submission

# Folders that archivers, editors and Python leave behind: never the submission.
_JUNK = ("__MACOSX", "__pycache__", ".ipynb_checkpoints")


def _candidates(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if submission_suffix(p) is not None
        and p.is_file()
        and not any(part.startswith(".") or part in _JUNK for part in p.relative_to(folder).parts)
    )


def _defines(path: Path, wanted: tuple[str, ...]) -> bool:
    try:
        names = read_submission(path).defined_names()
    except SubmissionNotFound:
        return False
    return any(name in names for name in wanted)


def choose(folder: Path, entry_point: str | tuple[str, ...]) -> tuple[Path | None, list[str]]:
    """The file to grade, and a warning line for the learner when that choice was not clear.

    The file that defines the entry point (for an assignment, any of its functions); of
    several, the first in name order (named in the warning with the others); when none does,
    the only file, else the first one.
    """
    wanted = (entry_point,) if isinstance(entry_point, str) else entry_point
    entry_point = " or ".join(wanted)  # the words of the notes below
    candidates = _candidates(folder)
    if not candidates:
        return None, []
    shown = {p: p.relative_to(folder).as_posix() for p in candidates}
    defining = [p for p in candidates if _defines(p, wanted)]
    if len(defining) == 1 or (not defining and len(candidates) == 1):
        return (defining or candidates)[0], []
    if defining:
        others = ", ".join(shown[p] for p in defining[1:])
        return defining[0], [
            f"{len(defining)} submitted files define {entry_point}: graded "
            f"{shown[defining[0]]}, not {others}. Submit only the file to grade."
        ]
    listing = ", ".join(shown[p] for p in candidates)
    return candidates[0], [
        f"none of the submitted files ({listing}) defines {entry_point}: graded "
        f"{shown[candidates[0]]}."
    ]


def _relative(path: Path) -> Path:
    """``submission/x.py`` rather than the whole path, when run from the root (as Gradescope
    does): the report names the file as the learner knows it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _lock_facts(lock_file: Path | None) -> dict[str, Any] | None:
    """What the bundle's lock file says, pins included; None without one. Raises JudgeError
    for an unreadable lock (the caller turns it into the learner's message)."""
    lock = locking.read(lock_file) if lock_file is not None else None
    return locking.facts(lock, with_pins=True) if lock is not None else None


def _without_pins(found: Mapping[str, Any]) -> dict[str, Any]:
    """The lock facts a report records: all but the (long) list of pins."""
    return {k: v for k, v in found.items() if k != "pins"}


def _could_not_grade(exc: JudgeError, notes: list[str], extra: dict[str, Any]) -> dict[str, Any]:
    """A judge error, said in the log and to the learner as the instructor's problem."""
    print(f"judge autograde: {exc}", flush=True)
    return gradescope.failure(
        f"The grader could not grade this ({exc}): tell your instructor.",
        notes=notes,
        extra=extra,
    )


def autograde(
    root: Path,
    problem: str,
    problems_dir: Path | None,
    options: GradeOptions,
    points: float = gradescope.DEFAULT_POINTS,
    lock_file: Path | None = None,
) -> dict[str, Any]:
    """The results.json object for the submission in ``root/submission``; never raises a
    JudgeError (it becomes the learner's message)."""
    extra: dict[str, Any] = {}
    notes: list[str] = []
    try:
        found = _lock_facts(lock_file)
        if found is not None:
            extra["lock"] = found
        package: Problem = load_problem(problem, problems_dir)
        chosen, notes = choose(root / "submission", package.entry_point)
        if chosen is None:
            return gradescope.failure(
                "No .py or .ipynb file was submitted: submit the file that defines "
                f"{package.entry_point}.",
                extra=extra,
            )
        report = grade(_relative(chosen), package, options)
        if found is not None:
            report.environment["lock"] = _without_pins(found)
    except JudgeError as exc:
        return _could_not_grade(exc, notes, extra)
    visibility = {item.id: item.visibility for item in package.rubric}
    return gradescope.results(report, points=points, visibility=visibility, notes=notes, lock=found)


def autograde_assignment(
    root: Path,
    name: str,
    problems_dir: Path | None,
    options: GradeOptions,
    lock_file: Path | None = None,
) -> dict[str, Any]:
    """``autograde`` for an assignment: one file, every problem, scored out of the
    assignment's own points; never raises a JudgeError."""
    extra: dict[str, Any] = {}
    notes: list[str] = []
    try:
        found = _lock_facts(lock_file)
        if found is not None:
            extra["lock"] = found
        assignment = load_assignment(name, problems_dir)
        chosen, notes = choose(root / "submission", assignment.entry_points)
        if chosen is None:
            return gradescope.failure(
                "No .py or .ipynb file was submitted: submit the file that defines "
                f"{' and '.join(assignment.entry_points)}.",
                extra=extra,
            )
        report = grade_assignment(_relative(chosen), assignment, options)
        for part in report.parts:
            if found is not None:
                part.report.environment["lock"] = _without_pins(found)
    except JudgeError as exc:
        return _could_not_grade(exc, notes, extra)
    visibility = {
        part.name: {item.id: item.visibility for item in part.problem.rubric}
        for part in assignment.parts
    }
    return assignment_render.gradescope_results(
        report, visibility=visibility, notes=notes, lock=found
    )


def write(path: Path, results: Mapping[str, Any]) -> None:
    """Write ``results`` to ``path`` whole or not at all (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".results.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(gradescope.dumps(results))
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
