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

from .errors import JudgeError, ProblemError, UsageError
from .grade import GradeOptions, grade, judge_version
from .render import FORMATS
from .render import text as text_render
from .result import EXIT_JUDGE_ERROR, EXIT_USAGE

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
    g.add_argument(
        "--time-per-call",
        type=_positive(float),
        metavar="S",
        help="seconds allowed per call (default: the problem's)",
    )
    g.add_argument(
        "--time-total",
        type=_positive(float),
        metavar="S",
        help="seconds allowed for the whole submission (default: the problem's)",
    )
    g.add_argument(
        "--memory",
        type=_positive(int),
        metavar="MB",
        help="address-space limit of the learner's process in MB (default: the "
        "problem's; JAX needs at least 1536)",
    )
    g.add_argument(
        "--no-shrink",
        action="store_true",
        help="report the first failing case as found, without shrinking it",
    )
    return parser


def _use_color(choice: str, stream: object) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _grade(args: argparse.Namespace) -> int:
    if args.memory is not None and args.memory < 1536:
        raise UsageError(
            f"--memory {args.memory}: JAX aborts under 1536 MB of address space; use more"
        )
    options = GradeOptions(
        backend=args.backend,
        seed=args.seed,
        call_s=args.time_per_call,
        submission_s=args.time_total,
        memory_mb=args.memory,
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
    try:
        return _grade(args)
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
