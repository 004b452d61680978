"""The command line's grammar: each command's arguments and help, no behaviour.

Flags that several commands take (``--problems``, ``--backend`` and ``--seed``, the limits and
sandbox of the learner's process, ``--no-shrink``) are each defined once, as a parent parser;
``cli.py`` runs what this parses.

Long because every command's arguments and their help live here, each once, so that a reader
finds any flag in one file.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from .backends import BACKENDS
from .constants import MIN_MEMORY_MB, judge_version
from .errors import UsageError
from .render import FORMATS
from .sandbox import SANDBOXES

if TYPE_CHECKING:
    _Commands = argparse._SubParsersAction[argparse.ArgumentParser]

_PROBLEMS_HELP = "folder of problem packages"


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}") from None
        if number <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
        return number

    return parse


# --- flags shared by several commands, as parent parsers ---------------------------------------
# argparse registers a parent's arguments before those the command adds itself, in the order of
# ``parents``. A command whose own arguments come first (in --help, in usage, in "the following
# arguments are required") passes them as the first parent, ``own``.


def _flags() -> argparse.ArgumentParser:
    """An empty parent parser: flags only, no -h of its own."""
    return argparse.ArgumentParser(add_help=False)


def _problems_flag(help_text: str = _PROBLEMS_HELP) -> argparse.ArgumentParser:
    """``--problems``: where the problem packages are."""
    flags = _flags()
    flags.add_argument("--problems", type=Path, metavar="DIR", help=help_text)
    return flags


def _cases_flags(seed_help: str) -> argparse.ArgumentParser:
    """``--backend`` and ``--seed``: where the cases run, and which cases."""
    flags = _flags()
    flags.add_argument(
        "--backend",
        choices=BACKENDS,
        default="cpu",
        help="JAX backend for reference and learner alike (default: cpu)",
    )
    flags.add_argument("--seed", type=int, default=0, help=seed_help)
    return flags


def _report_flags() -> argparse.ArgumentParser:
    """``--format``, ``--output`` and ``--color``: how and where one report is written."""
    flags = _flags()
    flags.add_argument(
        "--format", choices=sorted(FORMATS), default="text", help="report format (default: text)"
    )
    flags.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report to FILE; stdout then gets a one-line summary",
    )
    flags.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in the text report (default: auto, on a terminal)",
    )
    return flags


def _isolation_flags() -> argparse.ArgumentParser:
    """Limits and sandbox of the learner's process: the same for one file and for a class."""
    flags = _flags()
    flags.add_argument(
        "--time-per-call",
        type=_positive(float),
        metavar="S",
        help="seconds allowed per call (default: the problem's)",
    )
    flags.add_argument(
        "--time-total",
        type=_positive(float),
        metavar="S",
        help="seconds allowed for a whole submission (default: the problem's)",
    )
    flags.add_argument(
        "--memory",
        type=_positive(int),
        metavar="MB",
        help="address-space limit of the learner's process in MB (default: the "
        f"problem's; JAX needs at least {MIN_MEMORY_MB})",
    )
    flags.add_argument(
        "--cpu-time",
        type=_positive(float),
        metavar="S",
        help="CPU seconds the learner's process may use in all (default: the problem's)",
    )
    flags.add_argument(
        "--processes",
        type=_positive(int),
        metavar="N",
        help="tasks the learner's code may add to those JAX runs (default: the problem's); "
        "as root a pids cgroup enforces it, otherwise RLIMIT_NPROC: the report's "
        "environment.limits_enforced.processes says which",
    )
    flags.add_argument(
        "--output-limit",
        type=_positive(int),
        metavar="KB",
        help="KB of the learner's stdout and of its stderr kept (default: the problem's)",
    )
    flags.add_argument(
        "--sandbox",
        choices=SANDBOXES,
        default="auto",
        help="isolation of the learner's code: bwrap (bubblewrap with a mount allowlist), "
        "landlock (Landlock + seccomp, no package needed), none (trusted code only), auto (the "
        "strongest that works here; never none by itself; default)",
    )
    return flags


def _shrink_flag(help_text: str) -> argparse.ArgumentParser:
    """``--no-shrink``: report a failing case as found."""
    flags = _flags()
    flags.add_argument("--no-shrink", action="store_true", help=help_text)
    return flags


def _assignment_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--assignment NAME``: several problems and their points (``assignments/<name>/``)."""
    parser.add_argument("--assignment", metavar="NAME", help=help_text)


class Isolation(TypedDict):
    """The GradeOptions fields that ``_isolation_flags`` sets."""

    call_s: float | None
    submission_s: float | None
    memory_mb: int | None
    cpu_s: float | None
    processes: int | None
    output_kb: int | None
    sandbox: str


def isolation_options(args: argparse.Namespace) -> Isolation:
    """GradeOptions fields from the flags ``_isolation_flags`` adds."""
    if args.memory is not None and args.memory < MIN_MEMORY_MB:
        raise UsageError(
            f"--memory {args.memory}: JAX aborts under {MIN_MEMORY_MB} MB of address space; "
            "use more"
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


# --- the commands ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``judge`` parser: one subcommand per job, their common flags shared as parents."""
    parser = argparse.ArgumentParser(
        prog="judge", description="Grade JAX/Flax exercises against a reference solution."
    )
    parser.add_argument("--version", action="version", version=f"judge {judge_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_grade,
        _add_check,
        _add_list,
        _add_new,
        _add_show,
        _add_bundle,
        _add_autograde,
        _add_lock,
        _add_batch,
        _add_merge,
        _add_export,
    ):
        add(commands)
    return parser


def _add_grade(commands: _Commands) -> None:
    own = _flags()
    own.add_argument("submission", help="the learner's .py or .ipynb file")
    own.add_argument(
        "--problem",
        help="problem name or folder (default: inferred from the function the file defines)",
    )
    _assignment_flag(own, "grade the file against every problem of assignment NAME instead")
    commands.add_parser(
        "grade",
        help="grade one learner file (.py or .ipynb)",
        description="Grade one learner file and print a report. Exit 0 if accepted, 1 for any "
        "other verdict, 2 for usage errors, 3 for a judge error.",
        parents=[
            own,
            _problems_flag(
                "folder of problem packages (default: ./problems, then the bundled "
                "ones; or $JUDGE_PROBLEMS)"
            ),
            _cases_flags("which set of cases to draw (default 0: every learner gets the same)"),
            _report_flags(),
            _isolation_flags(),
            _shrink_flag("report the first failing case as found, without shrinking it"),
            _lock_flag(),
        ],
    )


def _lock_flag() -> argparse.ArgumentParser:
    """``--lock FILE``: the constraints file the grading environment was installed from."""
    flags = _flags()
    flags.add_argument(
        "--lock",
        type=Path,
        metavar="FILE",
        help="constraints file (judge lock) this environment was installed from: the report "
        "records it, and whether the installed versions match it",
    )
    return flags


def _add_check(commands: _Commands) -> None:
    own = _flags()
    own.add_argument("problem_names", nargs="*", metavar="PROBLEM", help="problems (default: all)")
    c = commands.add_parser(
        "check",
        help="check problem packages: valid, reference accepted, examples as declared",
        description="Check every problem package (or those named): its problem.yaml is valid, "
        "its reference is accepted, its fingerprints are not, and every example in "
        "submissions/<problem>/<verdict>/ gets that verdict and its declared codes. Exit 0 "
        "when all hold, 1 otherwise.",
        parents=[own, _problems_flag()],
    )
    c.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML to FILE")
    c.add_argument(
        "--jobs",
        type=_positive(int),
        metavar="N",
        default=None,
        help="examples graded at once (default: the number of CPUs)",
    )
    c.add_argument(
        "--time-per-call",
        type=_positive(float),
        metavar="S",
        default=8.0,
        help="seconds allowed per call while checking (default: 8)",
    )
    c.add_argument(
        "--sandbox",
        choices=SANDBOXES,
        default="auto",
        help="isolation of the examples' code while checking (default: auto)",
    )


def _add_list(commands: _Commands) -> None:
    commands.add_parser(
        "list",
        help="list the problems with their titles and where each comes from",
        description="List the problem packages found, each with its source: the folder "
        "(--problems, $JUDGE_PROBLEMS, ./problems), or, without one, the problem sets installed "
        "as Python distributions (entry point group jax_judge.problems) and the bundled set.",
        parents=[_problems_flag()],
    )


def _add_new(commands: _Commands) -> None:
    new = commands.add_parser(
        "new",
        help="write a new problem package that judge check passes, to start from",
        description="Write problems/NAME (problem.yaml, statement.md), reference/NAME.py, an "
        "accepted and a wrong example with submissions/NAME/expected.yaml, and, when the "
        "folder has none, a pyproject.toml that makes the problem set a pip-installable "
        "distribution. Nothing is overwritten. Exit 0, or 2 when NAME or a file exists.",
    )
    new.add_argument("name", metavar="NAME", help="the problem's name: a lowercase identifier")
    new.add_argument(
        "--into",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the problem set to write into (default: the working directory)",
    )


def _add_show(commands: _Commands) -> None:
    own = _flags()
    own.add_argument("problem", metavar="PROBLEM", help="problem name")
    commands.add_parser(
        "show",
        help="show a problem's statement",
        description="Print a problem's statement, rendered.",
        parents=[own, _problems_flag()],
    )


def _add_bundle(commands: _Commands) -> None:
    own = _flags()
    own.add_argument("problem", metavar="PROBLEM", nargs="?", help="problem name")
    _assignment_flag(own, "bundle assignment NAME (its problems, points as in it) instead")
    own.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="ZIP",
        default=Path("autograder.zip"),
        help="where to write the zip (default: autograder.zip)",
    )
    own.add_argument(
        "--points",
        type=_positive(float),
        default=100.0,
        help="the assignment's autograder points, shared among the rubric items (default: 100)",
    )
    own.add_argument(
        "--wheelhouse",
        type=Path,
        metavar="DIR",
        help="a folder of wheels to carry in the zip, so that the image installs without an "
        "index (pip download -r constraints.txt -d DIR ...)",
    )
    own.add_argument(
        "--sandbox",
        choices=SANDBOXES,
        default="auto",
        help="isolation of the learner's code on Gradescope (default: auto)",
    )
    commands.add_parser(
        "gradescope-bundle",
        help="build a Gradescope autograder zip for a problem",
        description="Build the zip to upload to Gradescope: setup.sh brings the Python the "
        "pinned versions need, installs the judge with them (constraints.txt, from --lock or "
        "this environment) and runs judge check; run_autograder grades /autograder/submission "
        "into /autograder/results/results.json.",
        parents=[own, _problems_flag(), _lock_flag()],
    )


def _add_autograde(commands: _Commands) -> None:
    own = _flags()
    own.add_argument("--root", type=Path, required=True, metavar="DIR", help="/autograder")
    own.add_argument("--problem", help="problem name or folder")
    _assignment_flag(own, "grade against assignment NAME instead (its own points)")
    own.add_argument(
        "--points",
        type=_positive(float),
        default=100.0,
        help="the assignment's autograder points (default: 100)",
    )
    commands.add_parser(
        "autograde",
        help="grade a Gradescope submission (what the bundle's run_autograder runs)",
        description="Grade the file in DIR/submission that defines the problem's entry point "
        "and write DIR/results/results.json in Gradescope's format; a results.json is written "
        "whatever happens. Exit 0 when it was written.",
        parents=[own, _problems_flag(), _lock_flag(), _isolation_flags()],
    )


def _add_lock(commands: _Commands) -> None:
    lk = commands.add_parser(
        "lock",
        help="write the constraints file that pins this grading environment",
        description="Write the exact versions of every package the judge needs, as installed "
        "here, as a pip constraints file (pip install -c FILE ...), with the Python version "
        "they were taken from; or, with --check, compare this environment with one. Exit 0, "
        "or 1 when --check finds a difference.",
    )
    lk.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)"
    )
    lk.add_argument(
        "--check",
        type=Path,
        metavar="FILE",
        help="compare the installed versions with FILE instead; exit 1 listing the differences",
    )


def _add_batch(commands: _Commands) -> None:
    commands.add_parser(
        "batch",
        help="grade a class: every submission in a folder or .zip, into a gradebook",
        description="Grade every student's submission in SOURCE (a folder of files, a folder "
        "of folders, or a .zip of either) against one problem, in parallel, into DIR: "
        "gradebook.csv, reports.jsonl, feedback/<student>.md and summary.html. A rerun grades "
        "only what is missing or changed. Exit 0 when the batch ran, whatever the verdicts; 2 "
        "for usage errors; 130 when interrupted (what finished is kept).",
        parents=[
            _batch_arguments(),
            _problems_flag(),
            _cases_flags("which set of cases to draw (default 0), for all"),
            _isolation_flags(),
            _shrink_flag("report each first failing case as found, without shrinking it (faster)"),
        ],
    )


def _batch_arguments() -> argparse.ArgumentParser:
    """The arguments of ``judge batch`` alone."""
    own = _flags()
    own.add_argument("source", metavar="SOURCE", help="folder of submissions, or a .zip of one")
    own.add_argument("--problem", help="problem name or folder")
    _assignment_flag(own, "grade every problem of assignment NAME instead: a column each")
    own.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output folder (created; what it holds is reused on a rerun)",
    )
    own.add_argument(
        "--jobs", type=int, metavar="N", help="gradings at once (default: the number of CPUs)"
    )
    own.add_argument(
        "--shard",
        metavar="I/N",
        help="grade only shard I of N (0-based): the class ordered by a stable hash of the ids "
        "and dealt out in turn, so shards differ by at most one student",
    )
    own.add_argument(
        "--regrade",
        nargs="*",
        metavar="ID",
        help="grade these students again even when their file is unchanged (no ID: everyone)",
    )
    return own


def _add_export(commands: _Commands) -> None:
    ex = commands.add_parser(
        "export",
        help="write a class's grades for an LMS (Canvas gradebook CSV, or a plain CSV)",
        description="Read the results of judge batch (or merge) in DIR and write a gradebook "
        "an LMS imports. The roster maps the judge's student ids (its file_id column) to the "
        "LMS's; for Canvas it has the columns of Canvas's gradebook export (Student, ID, SIS "
        "User ID, SIS Login ID, Section). Points are each score times --points. To update an "
        "existing Canvas assignment, name the grade column as Canvas does: 'Name (Canvas id)' "
        "(--assignment 'Homework 3 (123456)'). A roster's 'Points Possible' row is dropped. A "
        "judge_error is an empty cell, never a zero, and is named on stderr.",
    )
    ex.add_argument("folder", type=Path, metavar="DIR", help="output folder of judge batch")
    ex.add_argument("--lms", choices=("canvas", "csv"), default="canvas", help="format")
    ex.add_argument("--roster", type=Path, required=True, metavar="FILE", help="roster CSV")
    ex.add_argument(
        "--points", type=_positive(float), default=100.0, help="the assignment's points (100)"
    )
    ex.add_argument(
        "--assignment",
        default=None,
        help="the grade column's name (the problem); for Canvas, 'Name (Canvas id)' to update "
        "an existing assignment",
    )
    ex.add_argument("--out", type=Path, required=True, metavar="FILE", help="CSV to write")


def _add_merge(commands: _Commands) -> None:
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
