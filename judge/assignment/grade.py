"""One learner file graded against every problem of an assignment.

Each problem is an ordinary grading of its own (its own workers, plan, reference and report),
so nothing about one problem can change another's result: a function missing for one problem
is that problem's ``compile_error`` (``entry_point_missing``, 0 points) and the others are
graded as usual. The file is read once and handed to every grading, so all of them grade the
same content even if the file changes meanwhile. Gradings run one after another: each already
runs two processes, and a batch grades several students at once.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from .. import backends, diagnose
from ..grading import GradeOptions, grade_submission, unrun_report
from ..problem import Problem
from ..result import Diagnostic, Report, Verdict
from ..submission import Submission, read_submission
from .model import Assignment
from .report import AssignmentReport, PartReport


def grade_assignment(
    submission: str | Path | Submission,
    assignment: Assignment,
    options: GradeOptions | None = None,
) -> AssignmentReport:
    """Grade one file against each problem of ``assignment``; one section per problem.

    Args:
        submission: the learner's ``.py`` or ``.ipynb`` path, or a ``Submission`` already read
            (a notebook's source, say).
        assignment: from ``load_assignment``.
        options: how to grade, the same for every problem (limits given here override each
            problem's own).

    Raises:
        UsageError: the file cannot be read, the backend is unavailable. A learner's failure is
            never raised: it is a section's verdict.
    """
    options = options or GradeOptions()
    started = time.perf_counter()
    backends.check(options.backend)
    read = submission if isinstance(submission, Submission) else read_submission(submission)
    options = dataclasses.replace(options, hide=(*options.hide, *_packages(assignment)))
    parts = []
    for part in assignment.parts:
        report = grade_submission(read, part.problem, options)
        others = set(assignment.entry_points) - {part.entry_point}
        parts.append(PartReport(part.name, part.entry_point, part.points, report))
        _no_rename_to_another_problem(report, part.problem, others, Path(read.display).name)
    return AssignmentReport(
        assignment=assignment.name,
        title=assignment.title,
        submission=read.display,
        parts=parts,
        timing={"total_s": time.perf_counter() - started},
    )


def _packages(assignment: Assignment) -> list[str]:
    """Every problem's package, reference and fingerprints: while one problem is graded, the
    learner's code must not see the others' either (each grading hides only its own)."""
    found = {
        str(path.resolve())
        for part in assignment.parts
        for path in (
            part.problem.directory,
            part.problem.reference.parent,
            *(f.file.parent for f in part.problem.fingerprints),
        )
    }
    return sorted(found)


def _no_rename_to_another_problem(
    report: Report, problem: Problem, others: set[str], filename: str
) -> None:
    """A missing function's did-you-mean must not name another problem's function: "rename
    first_function to second_function" would cost the learner the other problem. Such a
    diagnostic is worded again without it (in place, summary included)."""
    for k, found in enumerate(report.diagnostics):
        if found.code != "entry_point_missing" or found.evidence.get("did_you_mean") not in others:
            continue
        evidence = {key: v for key, v in found.evidence.items() if key != "did_you_mean"}
        reply = {"code": found.code, "evidence": evidence}
        again = diagnose.load_failure(problem, filename, reply)
        report.diagnostics[k] = again
        report.summary = report.summary.replace(found.message, again.message)


def unrun_assignment(
    assignment: Assignment,
    options: GradeOptions,
    display: str,
    verdict: Verdict,
    diagnostic: Diagnostic,
) -> AssignmentReport:
    """The report of a file none of whose problems could be graded (no file, an unreadable
    one, a crash): every section says the same, so the gradebook's columns all read 0."""
    return AssignmentReport(
        assignment=assignment.name,
        title=assignment.title,
        submission=display,
        parts=[
            PartReport(
                part.name,
                part.entry_point,
                part.points,
                unrun_report(part.problem, options, display, verdict, diagnostic),
            )
            for part in assignment.parts
        ],
    )
