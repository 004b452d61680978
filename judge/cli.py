"""The command line: parse, grade, render, exit with a documented code. No grading logic here.

Exit codes (a public contract, see README):
    0  accepted
    1  any other learner verdict (wrong_answer, runtime_error, compile_error, ...)
    2  usage or configuration error (bad arguments, missing file, invalid problem package,
       unavailable backend)
    3  judge_error: the judge's own fault
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.markup import escape as rich_escape

from .errors import JudgeError, ProblemError, UsageError
from .grade import GradeOptions, grade, judge_version
from .problem import default_problems_dir, load_problem, problem_names
from .render import FORMATS
from .render import text as text_render
from .result import EXIT_JUDGE_ERROR, EXIT_USAGE
from .sandbox import SANDBOXES

BACKENDS = ("cpu", "gpu", "tpu")


def _positive(kind: type) -> object:
    def parse(value: str) -> object:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}") from None
        if number <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
        return number

    return parse


def _add_isolation_flags(parser: argparse.ArgumentParser) -> None:
    """Limits and sandbox of the learner's process: the same for one file and for a class."""
    parser.add_argument(
        "--time-per-call",
        type=_positive(float),
        metavar="S",
        help="seconds allowed per call (default: the problem's)",
    )
    parser.add_argument(
        "--time-total",
        type=_positive(float),
        metavar="S",
        help="seconds allowed for a whole submission (default: the problem's)",
    )
    parser.add_argument(
        "--memory",
        type=_positive(int),
        metavar="MB",
        help="address-space limit of the learner's process in MB (default: the "
        "problem's; JAX needs at least 1536)",
    )
    parser.add_argument(
        "--cpu-time",
        type=_positive(float),
        metavar="S",
        help="CPU seconds the learner's process may use in all (default: the problem's)",
    )
    parser.add_argument(
        "--processes",
        type=_positive(int),
        metavar="N",
        help="tasks the learner's code may add to those JAX runs (default: the problem's; "
        "not enforced for root, see README)",
    )
    parser.add_argument(
        "--output-limit",
        type=_positive(int),
        metavar="KB",
        help="KB of the learner's stdout and of its stderr kept (default: the problem's)",
    )
    parser.add_argument(
        "--sandbox",
        choices=SANDBOXES,
        default="auto",
        help="isolation of the learner's code: bwrap (bubblewrap), none (process isolation "
        "only), auto (bwrap where it runs; default)",
    )


def _isolation_options(args: argparse.Namespace) -> dict[str, object]:
    """GradeOptions fields from the flags ``_add_isolation_flags`` adds."""
    if args.memory is not None and args.memory < 1536:
        raise UsageError(
            f"--memory {args.memory}: JAX aborts under 1536 MB of address space; use more"
        )
    return {
        "call_s": args.time_per_call,
        "submission_s": args.time_total,
        "memory_mb": args.memory,
        "cpu_s": args.cpu_time,
        "processes": args.processes,
        "output_kb": args.output_limit,
        "sandbox": args.sandbox,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="judge", description="Grade JAX/Flax exercises against a reference solution."
    )
    parser.add_argument("--version", action="version", version=f"judge {judge_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = commands.add_parser(
        "grade",
        help="grade one learner file (.py or .ipynb)",
        description="Grade one learner file and print a report. Exit 0 if accepted, 1 for any "
        "other verdict, 2 for usage errors, 3 for a judge error.",
    )
    g.add_argument("submission", help="the learner's .py or .ipynb file")
    g.add_argument(
        "--problem",
        help="problem name or folder (default: inferred from the function the file defines)",
    )
    g.add_argument(
        "--problems",
        type=Path,
        metavar="DIR",
        help="folder of problem packages (default: ./problems, then the bundled "
        "ones; or $JUDGE_PROBLEMS)",
    )
    g.add_argument(
        "--backend",
        choices=BACKENDS,
        default="cpu",
        help="JAX backend for reference and learner alike (default: cpu)",
    )
    g.add_argument(
        "--seed",
        type=int,
        default=0,
        help="which set of cases to draw (default 0: every learner gets the same)",
    )
    g.add_argument(
        "--format", choices=sorted(FORMATS), default="text", help="report format (default: text)"
    )
    g.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report to FILE; stdout then gets a one-line summary",
    )
    g.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in the text report (default: auto, on a terminal)",
    )
    _add_isolation_flags(g)
    g.add_argument(
        "--no-shrink",
        action="store_true",
        help="report the first failing case as found, without shrinking it",
    )
    c = commands.add_parser(
        "check",
        help="check problem packages: valid, reference accepted, examples as declared",
        description="Check every problem package (or those named): its problem.yaml is valid, "
        "its reference is accepted, its fingerprints are not, and every example in "
        "submissions/<problem>/<verdict>/ gets that verdict and its declared codes. Exit 0 "
        "when all hold, 1 otherwise.",
    )
    c.add_argument("problem_names", nargs="*", metavar="PROBLEM", help="problems (default: all)")
    c.add_argument("--problems", type=Path, metavar="DIR", help="folder of problem packages")
    c.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML to FILE")
    c.add_argument(
        "--time-per-call",
        type=_positive(float),
        metavar="S",
        default=8.0,
        help="seconds allowed per call while checking (default: 8)",
    )

    ls = commands.add_parser(
        "list",
        help="list the problems with their titles",
        description="List the problem packages found.",
    )
    ls.add_argument("--problems", type=Path, metavar="DIR", help="folder of problem packages")

    sh = commands.add_parser(
        "show",
        help="show a problem's statement",
        description="Print a problem's statement, rendered.",
    )
    sh.add_argument("problem", metavar="PROBLEM", help="problem name")
    sh.add_argument("--problems", type=Path, metavar="DIR", help="folder of problem packages")

    b = commands.add_parser(
        "gradescope-bundle",
        help="build a Gradescope autograder zip for a problem",
        description="Build the zip to upload to Gradescope: setup.sh installs the judge, "
        "run_autograder grades /autograder/submission into /autograder/results/results.json.",
    )
    b.add_argument("problem", metavar="PROBLEM", help="problem name")
    b.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="ZIP",
        default=Path("autograder.zip"),
        help="where to write the zip (default: autograder.zip)",
    )
    b.add_argument("--problems", type=Path, metavar="DIR", help="folder of problem packages")

    bt = commands.add_parser(
        "batch",
        help="grade a class: every submission in a folder or .zip, into a gradebook",
        description="Grade every student's submission in SOURCE (a folder of files, a folder "
        "of folders, or a .zip of either) against one problem, in parallel, into DIR: "
        "gradebook.csv, reports.jsonl, feedback/<student>.md and summary.html. A rerun grades "
        "only what is missing or changed. Exit 0 when the batch ran, whatever the verdicts; 2 "
        "for usage errors; 130 when interrupted (what finished is kept).",
    )
    bt.add_argument("source", metavar="SOURCE", help="folder of submissions, or a .zip of one")
    bt.add_argument("--problem", required=True, help="problem name or folder")
    bt.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output folder (created; what it holds is reused on a rerun)",
    )
    bt.add_argument(
        "--jobs", type=int, metavar="N", help="gradings at once (default: the number of CPUs)"
    )
    bt.add_argument(
        "--shard",
        metavar="I/N",
        help="grade only shard I of N (0-based), chosen by a stable hash of the student id",
    )
    bt.add_argument("--problems", type=Path, metavar="DIR", help="folder of problem packages")
    bt.add_argument(
        "--backend",
        choices=BACKENDS,
        default="cpu",
        help="JAX backend for reference and learner alike (default: cpu)",
    )
    bt.add_argument(
        "--seed", type=int, default=0, help="which set of cases to draw (default 0), for all"
    )
    _add_isolation_flags(bt)
    bt.add_argument(
        "--no-shrink",
        action="store_true",
        help="report each first failing case as found, without shrinking it (faster)",
    )

    mg = commands.add_parser(
        "merge",
        help="combine the output folders of judge batch shards into one",
        description="Combine the output folders of judge batch runs (shards) into one "
        "gradebook, reports.jsonl, feedback and summary. A student found in several keeps the "
        "newest result; results already in --out are kept too.",
    )
    mg.add_argument("folders", nargs="+", metavar="DIR", help="output folders of judge batch")
    mg.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="where to write the merged result"
    )
    return parser


def _problems_dir(args: argparse.Namespace) -> Path:
    return args.problems or default_problems_dir()


def _check(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from rich.table import Table

    from .check import check_all, count_checks
    from .render import junit

    folder = _problems_dir(args)
    known = problem_names(folder)
    for name in args.problem_names:
        if name not in known:
            load_problem(name, folder)  # raises ProblemNotFound with a did-you-mean
    if not known:
        raise UsageError(f"no problem packages in {folder}")
    console = Console(stderr=True)
    options = GradeOptions(call_s=args.time_per_call)
    total = count_checks(args.problem_names or None, folder)
    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("checking", total=total)

        def advance(result: object) -> None:
            progress.update(task, advance=1, description=f"{result.problem}: {result.name}")

        results = check_all(args.problem_names or None, folder, options, advance)
    failed = [r for r in results if not r.passed]
    out = Console(highlight=False)
    table = Table(title=f"judge check: {len(results) - len(failed)} of {len(results)} passed")
    table.add_column("problem")
    table.add_column("check")
    table.add_column("result")
    table.add_column("reason", overflow="fold")
    for result in failed or results:
        table.add_row(
            result.problem,
            result.name,
            "[green]pass[/green]" if result.passed else "[red]FAIL[/red]",
            rich_escape(result.message),
        )
    out.print(table)
    for result in failed:  # one line each, whole, for CI logs and grep
        print(f"FAIL {result.problem} {result.name}: {result.message}")
    if args.junit is not None:
        args.junit.write_text(junit.render_checks(results), encoding="utf-8")
    return 1 if failed else 0


def _list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    folder = _problems_dir(args)
    table = Table(title=f"problems in {folder}")
    for column in ("name", "title", "version", "entry point"):
        table.add_column(column)
    for name in problem_names(folder):
        problem = load_problem(name, folder)
        table.add_row(
            problem.name,
            problem.title,
            problem.version,
            f"{problem.entry_point}({', '.join(problem.parameters)})",
        )
    Console(highlight=False).print(table)
    return 0


def _show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markdown import Markdown

    problem = load_problem(args.problem, _problems_dir(args))
    Console().print(Markdown(problem.statement.read_text(encoding="utf-8")))
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from .bundle import build_bundle

    problem = load_problem(args.problem, _problems_dir(args))
    path = build_bundle(problem, args.output)
    print(f"wrote {path}: upload it to Gradescope as the autograder of {problem.name}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from collections import Counter

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from .batch import Record, parse_shard, run_batch
    from .render import summary as summary_render

    shard = parse_shard(args.shard) if args.shard is not None else None
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: expected 1 or more")
    source = Path(args.source)
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    problem = load_problem(args.problem, _problems_dir(args))
    options = GradeOptions(
        backend=args.backend,
        seed=args.seed,
        shrink=not args.no_shrink,
        **_isolation_options(args),
    )
    counts: Counter[str] = Counter()
    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("grading", total=None)

        def started(total: int, reused: int) -> None:
            progress.update(task, total=total)
            if reused:
                progress.console.print(f"reusing {reused} finished results from {args.out}")

        def advance(record: Record) -> None:
            counts[record.verdict] += 1
            tally = " · ".join(f"{verdict} {n}" for verdict, n in counts.most_common())
            progress.update(task, advance=1, description=tally)

        result = run_batch(
            source,
            problem,
            args.out,
            options,
            jobs=args.jobs,
            shard=shard,
            problems_dir=args.problems,
            on_start=started,
            on_result=advance,
        )
    rows = [record.summary_row() for record in result.records]
    title = f"judge batch {problem.name}: {len(rows)} students in {args.out}"
    Console(highlight=False).print(summary_render.table(rows, title))
    for line in result.notes():
        print(line)
    if result.interrupted:
        print(
            f"judge: interrupted: {len(result.graded)} new results saved in {args.out}; "
            "run the same command again to grade the rest",
            file=sys.stderr,
        )
        return 128 + (result.stopped_by or 2)  # 130 for Ctrl-C (SIGINT is 2)
    return 0


def _merge(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .batch import merge
    from .render import summary as summary_render

    result = merge([Path(folder) for folder in args.folders], args.out)
    rows = [record.summary_row() for record in result.records]
    title = f"judge merge: {len(rows)} students in {args.out}"
    Console(highlight=False).print(summary_render.table(rows, title))
    for line in result.notes():
        print(line)
    return 0


def _use_color(choice: str, stream: object) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _grade(args: argparse.Namespace) -> int:
    options = GradeOptions(
        backend=args.backend,
        seed=args.seed,
        **_isolation_options(args),
        hide=(str(args.output.resolve().parent),) if args.output is not None else (),
        shrink=not args.no_shrink,
    )
    report = grade(args.submission, args.problem, options, problems_dir=args.problems)
    if args.format == "text":
        color = _use_color(args.color, sys.stdout) and args.output is None
        rendered = text_render.render(report, color=color)
    else:
        rendered = FORMATS[args.format](report)
    if args.output is not None:
        try:
            args.output.write_text(rendered, encoding="utf-8")
        except OSError as exc:
            print(f"judge: error: --output {args.output}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        print(report.summary)
    else:
        sys.stdout.write(rendered)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``judge`` and ``python -m judge``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {
        "grade": _grade,
        "check": _check,
        "list": _list,
        "show": _show,
        "gradescope-bundle": _bundle,
        "batch": _batch,
        "merge": _merge,
    }
    try:
        return commands[args.command](args)
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
