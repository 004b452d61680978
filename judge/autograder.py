"""What runs in the Gradescope image for each submission (``judge autograde``).

The bundle's ``run_autograder`` calls it: it picks the learner's file in
``<root>/submission``, grades it and writes ``<root>/results/results.json``. Whatever happens a
results.json is written (no file, an unreadable one, a judge that cannot run), so Gradescope
always has something to show; the reason goes to the learner in words and to the instructor
in the run's stdout.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import candidates
from . import lock as locking
from .assignment import grade_assignment, load_assignment
from .assignment import render as assignment_render
from .candidates import DEFAULT_PICK, Pick
from .errors import JudgeError
from .grading import GradeOptions, grade
from .problem import Problem, load_problem
from .render import gradescope
from .result import Report


def choose(
    folder: Path, entry_point: str | tuple[str, ...], pick: Pick = DEFAULT_PICK
) -> tuple[Path | None, list[str]]:
    """The file to grade, and a note for the learner when a pick chose among several: the
    rule every place shares (``judge.candidates``). None, with the reason as a note when
    there is one, when nothing is graded (no file, or an issue such as ``--pick error``)."""
    choice = candidates.choose(folder, entry_point, pick)
    if choice.path is None:
        assert choice.issue is not None
        return None, [] if choice.issue[0] == "no_submission" else [_issue_words(choice)]
    return choice.path, [choice.note] if choice.note else []


def _issue_words(choice: candidates.Choice) -> str:
    """Why nothing was graded, in the learner's words: the issue and what to submit."""
    assert choice.issue is not None
    code, message = choice.issue
    if code == "ambiguous_submission":
        return f"Your submission: {message}. Submit only the file to grade."
    return f"Your submission: {message}."


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


def _nothing_graded(choice: candidates.Choice, words: str, extra: dict[str, Any]) -> dict[str, Any]:
    """results.json when the rule graded no file: nothing submitted, or its issue."""
    if choice.issue is None or choice.issue[0] == "no_submission":
        message = f"No .py or .ipynb file was submitted: submit the file that defines {words}."
    else:
        message = _issue_words(choice)
    print(f"judge autograde: nothing graded: {message}", flush=True)
    return gradescope.failure(message, extra=extra)


def _graded_as_submitted(report: Report, chosen: Path, choice: candidates.Choice) -> Report:
    """The report naming the file as the learner submitted it (``sub/x.py``, not
    ``submission/sub/x.py``), with the note of a pick among several files."""
    report = candidates.relabel(report, str(_relative(chosen)), choice.name)
    if choice.note:
        report.diagnostics = [*report.diagnostics, candidates.note_diagnostic(choice)]
    return report


def autograde(
    root: Path,
    problem: str,
    problems_dir: Path | None,
    options: GradeOptions,
    points: float = gradescope.DEFAULT_POINTS,
    lock_file: Path | None = None,
    pick: Pick = DEFAULT_PICK,
) -> dict[str, Any]:
    """The results.json object for the submission in ``root/submission``; never raises a
    JudgeError (it becomes the learner's message). ``pick``: see ``judge.candidates``."""
    extra: dict[str, Any] = {}
    notes: list[str] = []
    try:
        found = _lock_facts(lock_file)
        if found is not None:
            extra["lock"] = found
        package: Problem = load_problem(problem, problems_dir)
        choice = candidates.choose(root / "submission", package.entry_point, pick)
        if choice.path is None:
            return _nothing_graded(choice, package.entry_point, extra)
        notes = [choice.note] if choice.note else []
        report = grade(_relative(choice.path), package, options)
        report = _graded_as_submitted(report, choice.path, choice)
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
    pick: Pick = DEFAULT_PICK,
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
        choice = candidates.choose(root / "submission", assignment.entry_points, pick)
        if choice.path is None:
            return _nothing_graded(choice, " and ".join(assignment.entry_points), extra)
        notes = [choice.note] if choice.note else []
        report = grade_assignment(_relative(choice.path), assignment, options)
        report.submission = choice.name
        for k, part in enumerate(report.parts):
            noted = choice if k == 0 else dataclasses.replace(choice, note="")
            part.report = _graded_as_submitted(part.report, choice.path, noted)
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
