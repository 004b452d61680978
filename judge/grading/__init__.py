"""Grading one submission: problem + learner file -> Report.

The learner's code and the reference run in workers of their own (``pair``); the comparison and
the verdict happen here, in the judge's process, which never imports the learner's code (or
JAX). Modules: ``options`` (how to grade), ``memo`` (what is known of a reference, in memory
and on disk), ``pair`` (the two workers), ``evaluate`` (one case; shrinking), ``rubric``,
``fingerprints``, ``report`` (building the Report), ``run`` (one grading, start to end),
``replies`` (the learner's replies, cleaned).
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import backends, cache, diagnose
from ..errors import ProblemNotFound, WorkerError
from ..notebook.frames import in_cells
from ..problem import Problem, default_problems_dir, load_problem, problem_names
from ..result import Report, Verdict
from ..runtime.wire import Reply, syntax_failure
from ..submission import Submission, read_submission
from .options import GradeOptions
from .replies import clean_reply
from .report import unrun_report
from .run import Grading

__all__ = [
    "GradeOptions",
    "clean_reply",
    "grade",
    "grade_submission",
    "resolve_problem",
    "unrun_report",
]


def resolve_problem(submission: Submission, name: str | None, problems_dir: Path | None) -> Problem:
    """The problem named, or the one whose entry point the submission defines."""
    folder = problems_dir or default_problems_dir()
    if name:
        return load_problem(name, folder)
    names = problem_names(folder)
    if not names:
        raise ProblemNotFound(f"no problem packages in {folder}; pass --problems DIR")
    problems = [load_problem(n, folder) for n in names]
    defined = set(submission.defined_names())
    matches = [p for p in problems if p.entry_point in defined]
    if len(matches) == 1:
        return matches[0]
    if len(problems) == 1:
        return problems[0]  # one problem: grade against it and report what is missing
    if matches:
        listing = ", ".join(p.name for p in matches)
        raise ProblemNotFound(
            f"{submission.display}: matches several problems ({listing}); pass --problem NAME"
        )
    raise ProblemNotFound(
        f"{submission.display}: defines no known entry point "
        f"({', '.join(p.entry_point for p in problems)}); pass --problem NAME"
    )


def parse_failure(submission: Submission) -> Reply | None:
    """The learner's worker's reply for a file Python cannot parse, found without starting
    one: parsing runs none of the learner's code. None when it parses (the worker compiles it
    again, with the same interpreter, and may still fail for other reasons)."""
    return syntax_failure(submission.source, submission.module_filename)


def hidden_paths(submission: Submission, problem: Problem, options: GradeOptions) -> list[str]:
    """What the learner's code must not see: the problem package, the reference and the
    fingerprints, the project the judge runs from, the judge's working folder (reports go
    there), the folder the submission came from (a class's other files), and ``options.hide``.
    The Python installation stays visible even when it lies inside one of them."""
    package_parent = Path(__file__).resolve().parent.parent.parent
    found = [
        problem.directory,
        problem.reference.parent,
        *(f.file.parent for f in problem.fingerprints),
        Path.cwd(),
        Path(submission.path).resolve().parent,
        *(Path(p) for p in options.hide),
    ]
    stored = cache.cache_dir()
    if stored is not None:  # stored reference outputs; its xla/ folder stays readable
        found.append(stored)
    if (package_parent / "pyproject.toml").is_file():  # a source checkout, not site-packages
        found.append(package_parent)
    return sorted({str(p.resolve()) for p in found if str(p.resolve()) != "/"})


def _unrunnable(submission: Submission, problem: Problem, options: GradeOptions) -> Report | None:
    """The report of a file that cannot run at all (unreadable, or unparsable); else None."""
    if submission.problem is not None:
        code, message = submission.problem
        diagnostic = diagnose.submission_problem(code, message, submission.display)
        return unrun_report(problem, options, submission.display, Verdict.COMPILE_ERROR, diagnostic)
    unparsable = parse_failure(submission) if options.python is None else None
    if unparsable is None:
        return None
    name = Path(submission.display).name
    found = diagnose.translate(problem, diagnose.load_failure(problem, name, dict(unparsable)))
    line = found.evidence.get("line")
    found = in_cells(
        diagnose.locate_in_notebook(
            found, submission.cell_of_line(line if isinstance(line, int) else None)
        ),
        submission,
    )
    return unrun_report(problem, options, submission.display, Verdict.COMPILE_ERROR, found)


def grade(
    path: str | Path,
    problem: str | Problem | None = None,
    options: GradeOptions | None = None,
    problems_dir: Path | None = None,
) -> Report:
    """Grade one learner file against a problem and return its Report.

    Raises a UsageError subclass when the file, the problem or the backend cannot be had,
    ProblemError for an invalid package. A learner's failure is never raised: it is the
    report's verdict. A judge-side failure (the reference broke) is a ``judge_error`` report.
    """
    options = options or GradeOptions()
    started = time.perf_counter()
    backends.check(options.backend)
    submission = read_submission(path)
    resolved = (
        problem
        if isinstance(problem, Problem)
        else resolve_problem(submission, problem, problems_dir)
    )
    return grade_submission(submission, resolved, options, started)


def grade_submission(
    submission: Submission,
    resolved: Problem,
    options: GradeOptions,
    started: float | None = None,
) -> Report:
    """Grade a submission already read (``grade`` reads one; an assignment reads its file once
    for all its problems). ``started``: when the grading began, for ``timing.total_s``."""
    started = time.perf_counter() if started is None else started
    report = _unrunnable(submission, resolved, options)
    if report is None:
        grading = Grading(
            submission, resolved, options, hidden_paths(submission, resolved, options)
        )
        try:
            report = grading.run()
        except WorkerError as exc:
            report = Report(
                problem=resolved.name,
                submission=submission.display,
                verdict=Verdict.JUDGE_ERROR,
                score=0.0,
                summary=f"judge_error: {exc}",
                environment=grading.environment,
                timing=dict(grading.timing),
            )
        if grading.pair.learner is not None:
            report.output = grading.pair.learner_output()
    report.timing["total_s"] = time.perf_counter() - started
    return report
