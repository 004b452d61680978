"""One student's grading, on a pool thread: a report for every outcome, never an exception.

A student's trouble (no gradable file, a file gone since it was collected, a grading that
crashed) becomes that student's ``judge_error`` report; only a fault of the whole batch (the
backend is missing, the problem package is invalid) is handed back, to stop the batch.

The file's code is parsed here, on the student's own pool thread, never before the batch
starts: by the grading, and for ``normalized_hash``, so that one file slow to parse delays its
own result while the others are graded.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import traceback
from pathlib import Path

from ..assignment import Assignment, AssignmentReport, grade_assignment, unrun_assignment
from ..candidates import relabel
from ..errors import BackendUnavailable, ProblemError, SubmissionNotFound
from ..grading import GradeOptions, grade, unrun_report
from ..problem import Problem
from ..result import Diagnostic, Report, Severity, Verdict
from ..submission import read_submission
from .collect import Entry, normalized_hash

# What a class is graded against: one problem, or an assignment (several, with points).
Task = Problem | Assignment
# What a pool thread hands back: the report (none if stopped first), the seconds it took, the
# fault of the whole batch, if any, and the file's ``normalized_hash``.
Outcome = tuple[Report | AssignmentReport | None, float, BaseException | None, str | None]
_FATAL = (BackendUnavailable, ProblemError)


def grade_one(
    entry: Entry,
    problem: Task,
    options: GradeOptions,
    problems_dir: Path | None,
    stop: threading.Event,
) -> Outcome:
    """Runs on a pool thread: the report, the seconds it took, and the code's hash (None if
    the file cannot be read); never raises.

    No report when the batch was stopped before this grading began. A fault of the whole
    batch (the backend is missing, the problem package is invalid) comes back as the third
    value, to stop the batch; any other exception is this student's ``judge_error``.
    """
    started = time.perf_counter()
    assert entry.path is not None
    if stop.is_set():
        return None, 0.0, None, None
    try:
        report: Report | AssignmentReport
        if isinstance(problem, Assignment):
            report = grade_assignment(entry.path, problem, options)
            report.submission = entry.display
            report.parts = [
                dataclasses.replace(p, report=_relabel(p.report, entry, k == 0))
                for k, p in enumerate(report.parts)
            ]
        else:
            graded = grade(entry.path, problem, options, problems_dir=problems_dir)
            report = _relabel(graded, entry)
    except _FATAL as exc:
        return None, time.perf_counter() - started, exc, None
    except SubmissionNotFound as exc:  # gone since it was collected, or its code is too large
        reason = str(exc).replace(str(entry.path), entry.display)
        missing = Entry(entry.student, entry.display, issue=("unreadable_submission", reason))
        report = issue_report(missing, problem, options)
    except Exception as exc:
        report = _crash_report(entry, problem, options, exc)
    try:  # here, not when the batch saves it: a report no line can hold is this student's alone
        json.dumps(report.to_dict(), allow_nan=False)
    except (TypeError, ValueError) as exc:
        report = _crash_report(entry, problem, options, exc)
    return report, time.perf_counter() - started, None, _normalized(entry.path)


def _normalized(path: Path) -> str | None:
    """The file's ``normalized_hash``; None if it cannot be read (any more), or not within
    this process's memory: the hash only groups identical files, never worth a result."""
    try:
        return normalized_hash(read_submission(path).source)
    except (OSError, MemoryError, RecursionError):  # SubmissionNotFound is an OSError
        return None


# What a student can do about each issue, and what the instructor can: a report's ``hint`` is
# the student's (feedback and every platform show it); the instructor's advice is kept in the
# diagnostic's evidence (``instructor_hint``), read in reports.jsonl.
_HINTS = {
    "ambiguous_submission": (
        "Submit exactly one file that defines {wanted}.",
        "Grade the right file with `judge grade FILE`, or choose with `judge batch --pick "
        "first|newest`.",
    ),
    "no_submission": ("Submit a .py or .ipynb file that defines {wanted}.", ""),
    "unreadable_submission": (
        "Submit the file itself (not a link), readable and within the size limit.",
        "Check the file (a broken link, its size, its permissions) and run the batch again: "
        "it grades only what is missing.",
    ),
}


def issue_report(entry: Entry, problem: Task, options: GradeOptions) -> Report | AssignmentReport:
    """The ``judge_error`` of a student with nothing gradable: the entry's issue, with the
    student's hint, and the instructor's in the evidence."""
    assert entry.issue is not None
    code, message = entry.issue
    wanted = (
        " and ".join(problem.entry_points)
        if isinstance(problem, Assignment)
        else problem.entry_point
    )
    student, instructor = _HINTS.get(code, ("", ""))
    evidence = {"instructor_hint": instructor} if instructor else {}
    diagnostic = Diagnostic(code, Severity.ERROR, message, student.format(wanted=wanted), evidence)
    return _unrun(problem, options, entry.display, diagnostic)


def _unrun(
    problem: Task, options: GradeOptions, display: str, diagnostic: Diagnostic
) -> Report | AssignmentReport:
    """A ``judge_error`` report for the whole problem or, for an assignment, each problem."""
    if isinstance(problem, Assignment):
        return unrun_assignment(problem, options, display, Verdict.JUDGE_ERROR, diagnostic)
    return unrun_report(problem, options, display, Verdict.JUDGE_ERROR, diagnostic)


def _crash_report(
    entry: Entry, problem: Task, options: GradeOptions, exc: Exception
) -> Report | AssignmentReport:
    """A grading that raised: the judge's fault, recorded for this student alone."""
    message = f"grading failed inside the judge: {type(exc).__name__}: {exc}"[:1000]
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    diagnostic = Diagnostic(
        "grading_crashed",
        Severity.ERROR,
        message,
        "Not a mistake in your code: the judge failed on it, and it will be graded again.",
        # Not under "traceback": the text report shows that key, and these lines are the
        # judge's, for the instructor only.
        {
            "exception": type(exc).__name__,
            "judge_traceback": "".join(lines)[-4000:],
            "instructor_hint": "Running the batch again retries it.",
        },
    )
    return _unrun(problem, options, entry.display, diagnostic)


def _relabel(report: Report, entry: Entry, noted: bool = True) -> Report:
    """Show the submission as the source names it, not where it was unpacked; with the note
    of a pick among several files, when there was one (``noted``: this report carries it)."""
    assert entry.path is not None
    report = relabel(report, str(entry.path), entry.display)
    if noted and entry.note is not None:
        report.diagnostics = [*report.diagnostics, entry.note]
    return report
