"""One student's grading, on a pool thread: a report for every outcome, never an exception.

A student's trouble (no gradable file, a file gone since it was collected, a grading that
crashed) becomes that student's ``judge_error`` report; only a fault of the whole batch (the
backend is missing, the problem package is invalid) is handed back, to stop the batch.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from pathlib import Path

from ..errors import BackendUnavailable, ProblemError, SubmissionNotFound
from ..grading import GradeOptions, grade, unrun_report
from ..problem import Problem
from ..result import Diagnostic, Report, Severity, Verdict
from .collect import Entry

# What a pool thread hands back: the report (none if stopped first), the seconds it took, and
# the fault of the whole batch, if any.
Outcome = tuple[Report | None, float, BaseException | None]
_FATAL = (BackendUnavailable, ProblemError)


def grade_one(
    entry: Entry,
    problem: Problem,
    options: GradeOptions,
    problems_dir: Path | None,
    stop: threading.Event,
) -> Outcome:
    """Runs on a pool thread: the report and the seconds it took; never raises.

    No report when the batch was stopped before this grading began. A fault of the whole
    batch (the backend is missing, the problem package is invalid) comes back as the third
    value, to stop the batch; any other exception is this student's ``judge_error``.
    """
    started = time.perf_counter()
    assert entry.path is not None
    if stop.is_set():
        return None, 0.0, None
    try:
        report = grade(entry.path, problem, options, problems_dir=problems_dir)
        report = _relabel(report, entry)
    except _FATAL as exc:
        return None, time.perf_counter() - started, exc
    except SubmissionNotFound as exc:  # gone or changed since it was collected
        missing = Entry(entry.student, entry.display, issue=("unreadable_submission", str(exc)))
        report = issue_report(missing, problem, options)
    except Exception as exc:
        report = _crash_report(entry, problem, options, exc)
    return report, time.perf_counter() - started, None


def issue_report(entry: Entry, problem: Problem, options: GradeOptions) -> Report:
    """The ``judge_error`` of a student with nothing gradable: the entry's issue, with a hint."""
    assert entry.issue is not None
    code, message = entry.issue
    hints = {
        "ambiguous_submission": f"Keep exactly one file that defines {problem.entry_point}, or "
        "grade the right one with `judge grade FILE`.",
        "no_submission": f"Submit a .py or .ipynb file that defines {problem.entry_point}.",
        "unreadable_submission": "Check the file (a broken link, its size, its permissions) "
        "and run the batch again: it grades only what is missing.",
    }
    diagnostic = Diagnostic(code, Severity.ERROR, message, hints.get(code, ""))
    return unrun_report(problem, options, entry.display, Verdict.JUDGE_ERROR, diagnostic)


def _crash_report(entry: Entry, problem: Problem, options: GradeOptions, exc: Exception) -> Report:
    """A grading that raised: the judge's fault, recorded for this student alone."""
    message = f"grading failed inside the judge: {type(exc).__name__}: {exc}"[:1000]
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    diagnostic = Diagnostic(
        "grading_crashed",
        Severity.ERROR,
        message,
        "Not a mistake in your code: the judge failed. Running the batch again retries it.",
        # Not under "traceback": the text report shows that key, and these lines are the
        # judge's, for the instructor only.
        {"exception": type(exc).__name__, "judge_traceback": "".join(lines)[-4000:]},
    )
    return unrun_report(problem, options, entry.display, Verdict.JUDGE_ERROR, diagnostic)


def _relabel(report: Report, entry: Entry) -> Report:
    """Show the submission as the source names it, not where it was unpacked."""
    assert entry.path is not None
    real = str(entry.path)
    report.submission = entry.display
    if real != entry.display:
        report.diagnostics = [
            dataclasses.replace(d, message=d.message.replace(real, entry.display))
            for d in report.diagnostics
        ]
        report.summary = report.summary.replace(real, entry.display)
    return report
