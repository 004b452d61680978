"""The command line: parse, grade, render, exit with a documented code. No grading logic here.

Exit codes (a public contract, see docs/grading-a-file.md):
    0  accepted
    1  any other learner verdict (wrong_answer, runtime_error, compile_error, ...)
    2  usage or configuration error (bad arguments, missing file, invalid problem package,
       unavailable backend)
    3  judge_error: the judge's own fault

The commands' arguments and help are in ``cli_args.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import cli_check, cli_problems
from .assignment import load_assignment
from .cli_args import build_parser
from .cli_assignment import assignment_command
from .cli_flags import isolation_options
from .cli_output import emit, recorded_lock, use_color
from .errors import JudgeError, ProblemError, UsageError
from .grading import GradeOptions, grade
from .problem import Problem, default_problems_dir, load_problem
from .render import FORMATS
from .render import text as text_render
from .result import EXIT_JUDGE_ERROR, Report

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from .batch import BatchResult, Record, Shard, Task


def _problems_dir(args: argparse.Namespace) -> Path:
    return args.problems or default_problems_dir()


def _progress(console: Console, label: str) -> Progress:
    """The progress of a long command on stderr: a bar on a terminal, lines in a log."""
    from .progress import progress

    return progress(console, label)


def _show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markdown import Markdown

    problem = load_problem(args.problem, _problems_dir(args))
    Console().print(Markdown(problem.statement.read_text(encoding="utf-8")))
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from . import lock
    from .bundle import build_bundle

    # An assignment's points are its assignment.yaml's; a problem's, --points.
    assignment = load_assignment(args.assignment, args.problems) if args.assignment else None
    target = assignment or load_problem(args.problem, _problems_dir(args))
    points = assignment.max_points if assignment is not None else args.points
    pinned = lock.read(args.lock) if args.lock is not None else None
    path = build_bundle(
        target,
        args.output,
        lock=pinned,
        points=points,
        wheelhouse=args.wheelhouse,
        sandbox=args.sandbox,
        pick=args.pick,
    )
    source = f"pinned as in {args.lock}" if pinned else "pinned to this environment's versions"
    worth = f", worth {points:g} points" if assignment is not None else ""
    print(
        f"wrote {path} ({source}): upload it to Gradescope as the autograder of "
        f"{target.name}{worth}"
    )
    return 0


def _autograde(args: argparse.Namespace) -> int:
    from .autograder import autograde, write

    options = GradeOptions(
        **isolation_options(args),
        hide=(str(args.root.resolve() / "results"), str(args.root.resolve() / "source")),
    )
    results = autograde(
        args.root, args.problem, args.problems, options, args.points, args.lock, args.pick
    )
    write(args.root / "results" / "results.json", results)
    print(f"judge autograde: score {results['score']:g} of {args.points:g}")
    return 0


def _lock(args: argparse.Namespace) -> int:
    from . import lock

    if args.check is not None:
        differences = lock.differences(lock.read(args.check))
        for line in differences:
            print(f"DIFFERS {line}")
        print(f"judge lock: {'differs from' if differences else 'matches'} {args.check}")
        return 1 if differences else 0
    text = lock.render(lock.installed_pins())
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {args.output}: {exc.strerror or exc}") from None
    count = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    print(f"wrote {args.output}: {count} pinned packages; pip install -c {args.output} ...")
    return 0


def _batch(args: argparse.Namespace) -> int:
    """``judge batch``, for a problem or (``--assignment``) an assignment."""
    from .batch import parse_shard

    shard = parse_shard(args.shard) if args.shard is not None else None
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: expected 1 or more")
    source = Path(args.source)
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    target: Task = (
        load_assignment(args.assignment, args.problems)
        if getattr(args, "assignment", None)
        else load_problem(args.problem, _problems_dir(args))
    )
    options = GradeOptions(
        backend=args.backend,
        seed=args.seed,
        shrink=not args.no_shrink,
        **isolation_options(args),
    )
    result = _run_batch(args, source, target, options, shard)
    title = f"judge batch {target.name}: {len(result.records)} students in {args.out}"
    _print_class(result.records, title, result.notes())
    if result.interrupted:
        print(
            f"judge: interrupted: {len(result.graded)} new results saved in {args.out}; "
            "run the same command again to grade the rest",
            file=sys.stderr,
        )
        return 128 + (result.stopped_by or 2)  # 130 for Ctrl-C (SIGINT is 2)
    return 0


def _run_batch(
    args: argparse.Namespace,
    source: Path,
    problem: Task,
    options: GradeOptions,
    shard: Shard | None,
) -> BatchResult:
    """``run_batch`` under a progress bar that tallies the verdicts as they come."""
    from collections import Counter

    from rich.console import Console

    from .batch import run_batch

    counts: Counter[str] = Counter()
    with _progress(Console(stderr=True), "judge batch") as progress:
        task = progress.add_task("grading", total=None)

        def started(total: int, reused: int) -> None:
            progress.update(task, total=total)
            if reused:
                progress.console.print(f"reusing {reused} finished results from {args.out}")

        def advance(record: Record) -> None:
            counts[record.verdict] += 1
            tally = " · ".join(f"{verdict} {n}" for verdict, n in counts.most_common())
            progress.update(task, advance=1, description=tally)

        return run_batch(
            source,
            problem,
            args.out,
            options,
            jobs=args.jobs,
            shard=shard,
            problems_dir=args.problems,
            on_start=started,
            on_result=advance,
            regrade=_regrade(args),
            pick=args.pick,
        )


def _regrade(args: argparse.Namespace) -> list[str] | None:
    """``--regrade`` ids, flattened; [] for ``--regrade-all`` (everyone); None for nobody."""
    if args.regrade_all:
        return []
    if args.regrade is None:
        return None
    return [student for ids in args.regrade for student in ids]


def _export(args: argparse.Namespace) -> int:
    from .batch import latest, read_records
    from .render import lms

    reports = args.folder / "reports.jsonl"
    if not reports.is_file():
        raise UsageError(f"{reports}: no such file (run judge batch --out {args.folder} first)")
    try:
        roster = lms.read_roster(args.roster.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise UsageError(f"{args.roster}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UsageError(f"{args.roster}: {exc}") from None
    records = list(latest(read_records(reports)[0]).values())
    problems = sorted({r.problem for r in records})
    name = args.assignment or ", ".join(problems) or "judge"
    text, unmatched = lms.export(
        args.lms, {r.student: r.score for r in records}, roster, args.points, name
    )
    args.out.write_text(text, encoding="utf-8")
    print(f"judge export: {len(roster)} roster rows written to {args.out} ({args.lms})")
    for student in unmatched:
        print(f"judge: warning: {text_render.visible(student)} has a result but no roster row",
              file=sys.stderr)  # fmt: skip
    _say_ungraded(records)
    return 0


def _merge(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .batch import merge

    with _progress(Console(stderr=True), "judge merge") as progress:
        task = progress.add_task("writing feedback", total=None)
        result = merge(
            [Path(folder) for folder in args.folders],
            args.out,
            on_start=lambda total: progress.update(task, total=total),
            on_written=lambda record: progress.update(
                task, advance=1, description=text_render.visible(record.student)
            ),
        )
    title = f"judge merge: {len(result.records)} students in {args.out}"
    _print_class(result.records, title, result.notes())
    return 0


def _print_class(records: Sequence[Record], title: str, notes: Sequence[str]) -> None:
    """A class's verdict counts as a table, then the notes for the instructor."""
    from rich.console import Console

    from .render import summary as summary_render

    rows = [record.summary_row() for record in records]
    Console(highlight=False).print(summary_render.table(rows, title))
    for line in notes:
        print(text_render.visible(line))  # student ids are file names: learners chose them
    _say_ungraded(records)


def _say_ungraded(records: Sequence[Record]) -> None:
    """The students with no grade (a judge_error: an empty cell, never a zero), on stderr."""
    from .batch import no_grade_line

    line = no_grade_line(records)
    if line:
        print(line, file=sys.stderr)


def _render(args: argparse.Namespace, report: Report, problem: Problem | None) -> str:
    pinned = recorded_lock(args, report)
    if args.format == "text":
        color = use_color(args.color, sys.stdout) and args.output is None
        return text_render.render(report, color=color)
    if args.format == "gradescope" and problem is not None:
        from .render import gradescope

        shown = {item.id: item.visibility for item in problem.rubric}
        return gradescope.dumps(gradescope.results(report, visibility=shown, lock=pinned))
    return FORMATS[args.format](report)


def _grade(args: argparse.Namespace) -> int:
    options = GradeOptions(
        backend=args.backend,
        seed=args.seed,
        **isolation_options(args),
        hide=(str(args.output.resolve().parent),) if args.output is not None else (),
        shrink=not args.no_shrink,
    )
    problem: str | Problem | None = args.problem
    if args.format == "gradescope":  # its items' visibility is the package's, not the report's
        from .grading import resolve_problem
        from .submission import read_submission

        problem = resolve_problem(read_submission(args.submission), args.problem, args.problems)
    report = grade(args.submission, problem, options, problems_dir=args.problems)
    if getattr(args, "folder_note", None) is not None:
        report.diagnostics.append(args.folder_note)
    rendered = _render(args, report, problem if isinstance(problem, Problem) else None)
    return emit(args, rendered, report.summary) or report.exit_code


def _grade_folder(args: argparse.Namespace) -> None:
    """``judge grade FOLDER``: the folder's file, by the rule every place shares
    (``candidates.in_folder``), becomes ``args.submission``; a pick's note, ``args.folder_note``
    (the report carries it; with ``--assignment``, stderr does)."""
    from . import candidates

    if not (folder := Path(args.submission)).is_dir():
        return
    wanted = (
        load_assignment(args.assignment, args.problems).entry_points
        if getattr(args, "assignment", None)
        else load_problem(args.problem, _problems_dir(args)).entry_point
        if args.problem
        else ()
    )
    choice = candidates.in_folder(folder, wanted, args.pick)
    args.submission = str(choice.path)
    args.folder_note = candidates.note_diagnostic(choice) if choice.note else None
    if args.folder_note is not None and getattr(args, "assignment", None):
        print(f"judge: note: {text_render.visible(choice.note)}", file=sys.stderr)


def _start_zygote(args: argparse.Namespace) -> None:
    """Start the zygote as soon as the command is known, so its imports overlap ours."""
    from .sandbox.zygote import start_for_command

    start_for_command(
        args.command,
        getattr(args, "backend", "cpu"),
        getattr(args, "sandbox", "auto"),
        allowed=not getattr(args, "no_zygote", False),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``judge`` and ``python -m judge``; returns the exit code."""
    args = build_parser().parse_args(argv)
    _start_zygote(args)
    commands = {
        "grade": _grade,
        "check": cli_check.check_command,
        "list": cli_problems.list_problems,
        "new": cli_problems.new_problem,
        "show": _show,
        "gradescope-bundle": _bundle,
        "autograde": _autograde,
        "lock": _lock,
        "batch": _batch,
        "merge": _merge,
        "export": _export,
    }
    try:
        if args.command == "grade":
            _grade_folder(args)
        return (assignment_command(args) or commands[args.command])(args)
    except ProblemError as exc:
        if len(exc.errors) == 1:
            print(f"judge: error: {exc}", file=sys.stderr)
        else:
            print(f"judge: error: {exc.path}: {len(exc.errors)} problems", file=sys.stderr)
            for field, message in exc.errors:
                print(f"  {field}: {message}" if field else f"  {message}", file=sys.stderr)
        return exc.exit_code
    except JudgeError as exc:
        print(f"judge: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("judge: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in the judge: one line, never the learner's fault
        if os.environ.get("JUDGE_DEBUG"):
            raise
        print(
            f"judge: internal error: {type(exc).__name__}: {exc} (set JUDGE_DEBUG=1 for "
            "the traceback)",
            file=sys.stderr,
        )
        return EXIT_JUDGE_ERROR
    finally:
        from .sandbox import zygote

        zygote.end_run()  # nothing outlives the command, even when main is called in-process
