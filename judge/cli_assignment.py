"""The commands that take ``--assignment NAME``: grade, batch, gradescope-bundle, autograde.

``cli.main`` asks ``assignment_command`` first: with ``--assignment`` the command runs here,
otherwise as before in ``cli.py``. Parse, grade, render, exit code; no grading logic. Exit
codes are those of ``judge grade`` over the whole assignment (``judge.assignment.report``): 0
when every problem is accepted, 1 for any other learner verdict, 2 for a usage error (an
unknown assignment, an invalid assignment.yaml, ``--problem`` and ``--assignment`` together), 3
when the judge failed on any problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from .assignment import Assignment, AssignmentReport, grade_assignment, load_assignment
from .assignment import render as assignment_render
from .cli_flags import isolation_options
from .cli_output import emit, recorded_lock, use_color
from .errors import UsageError
from .grading import GradeOptions

Command = Callable[[argparse.Namespace], int]
_DEFAULT_POINTS = 100.0  # --points' default in cli_args: not given, or given as the default


def assignment_command(args: argparse.Namespace) -> Command | None:
    """The handler when ``--assignment`` applies to this command, else None (``cli.py``'s own).

    Raises:
        UsageError: both ``--problem`` and ``--assignment``, or (where one is required)
            neither.
    """
    handlers: dict[str, Command] = {"grade": _grade, "autograde": _autograde}
    if args.command not in (*handlers, "batch", "gradescope-bundle"):
        return None  # `judge export --assignment` names a grade column: not this flag
    given = "PROBLEM" if args.command == "gradescope-bundle" else "--problem"
    if args.assignment is None:
        if args.problem is None and args.command != "grade":
            raise UsageError(f"judge {args.command}: pass {given} NAME or --assignment NAME")
        return None
    if args.problem is not None:
        raise UsageError(f"judge {args.command}: pass {given} or --assignment, not both")
    if getattr(args, "points", _DEFAULT_POINTS) != _DEFAULT_POINTS:
        raise UsageError(
            f"--points {args.points:g}: an assignment's points are those of its "
            "assignment.yaml (the problems' points add up to the total); leave --points out"
        )
    # batch, gradescope-bundle: cli's own, one path for both kinds of target
    return handlers.get(args.command)


def _grade(args: argparse.Namespace) -> int:
    if args.format not in assignment_render.FORMATS:
        raise UsageError(
            f"--format {args.format}: with --assignment, use one of "
            f"{', '.join(assignment_render.FORMATS)}"
        )
    assignment = load_assignment(args.assignment, args.problems)
    options = GradeOptions(
        backend=args.backend,
        seed=args.seed,
        **isolation_options(args),
        hide=(str(args.output.resolve().parent),) if args.output is not None else (),
        shrink=not args.no_shrink,
    )
    report = grade_assignment(args.submission, assignment, options)
    rendered = _render(args, report, assignment)
    return emit(args, rendered, report.summary) or report.exit_code


def _render(args: argparse.Namespace, report: AssignmentReport, assignment: Assignment) -> str:
    pinned = recorded_lock(args, report.parts[0].report) if report.parts else None
    for part in report.parts[1:]:  # one lock for the whole file: recorded in each section
        if "lock" in report.parts[0].report.environment:
            part.report.environment["lock"] = report.parts[0].report.environment["lock"]
    if args.format == "json":
        return assignment_render.render_json(report)
    if args.format == "gradescope":
        from .render import gradescope

        shown = {p.name: {i.id: i.visibility for i in p.problem.rubric} for p in assignment.parts}
        results = assignment_render.gradescope_results(report, visibility=shown, lock=pinned)
        return gradescope.dumps(results)
    if args.format == "classroom":
        return json.dumps(assignment_render.classroom_results(report), indent=2) + "\n"
    if args.format == "prairielearn":
        return json.dumps(assignment_render.prairielearn_results(report), indent=2) + "\n"
    color = use_color(args.color, sys.stdout) and args.output is None
    return assignment_render.render_text(report, color=color)


def _autograde(args: argparse.Namespace) -> int:
    from .autograder import autograde_assignment, write

    options = GradeOptions(
        **isolation_options(args),
        hide=(str(args.root.resolve() / "results"), str(args.root.resolve() / "source")),
    )
    results = autograde_assignment(
        args.root, args.assignment, args.problems, options, args.lock, args.pick
    )
    write(args.root / "results" / "results.json", results)
    print(f"judge autograde: {args.assignment}: {results['score']:g} points")
    return 0
