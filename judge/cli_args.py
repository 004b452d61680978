"""The command line's grammar: each command's arguments and help, no behaviour.

Flags that several commands take are each defined once, as a parent parser, in ``cli_flags``;
``cli.py`` runs what this parses.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from . import cli_flags as shared
from .constants import judge_version
from .sandbox import SANDBOXES

if TYPE_CHECKING:
    _Commands = argparse._SubParsersAction[argparse.ArgumentParser]

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
    own = shared.parent()
    own.add_argument(
        "submission",
        help="the learner's .py or .ipynb file, or a folder (its file picked as --pick says)",
    )
    own.add_argument(
        "--problem",
        help="problem name or folder (default: inferred from the function the file defines)",
    )
    shared.assignment_flag(own, "grade the file against every problem of assignment NAME instead")
    commands.add_parser(
        "grade",
        help="grade one learner file (.py or .ipynb)",
        description="Grade one learner file and print a report. Exit 0 if accepted, 1 for any "
        "other verdict, 2 for usage errors, 3 for a judge error.",
        parents=[
            own,
            shared.problems_flag(
                "folder of problem packages (default: ./problems, then the bundled "
                "ones; or $JUDGE_PROBLEMS)"
            ),
            shared.cases_flags(
                "which set of cases to draw (default 0: every learner gets the same)"
            ),
            shared.report_flags(),
            shared.isolation_flags(),
            shared.shrink_flag("report the first failing case as found, without shrinking it"),
            shared.zygote_flag(),
            _lock_flag(),
            shared.pick_flag(),
        ],
    )


def _lock_flag() -> argparse.ArgumentParser:
    """``--lock FILE``: the constraints file the grading environment was installed from."""
    flags = shared.parent()
    flags.add_argument(
        "--lock",
        type=Path,
        metavar="FILE",
        help="constraints file (judge lock) this environment was installed from: the report "
        "records it, and whether the installed versions match it",
    )
    return flags


def _add_check(commands: _Commands) -> None:
    own = shared.parent()
    own.add_argument("problem_names", nargs="*", metavar="PROBLEM", help="problems (default: all)")
    c = commands.add_parser(
        "check",
        help="check problem packages: valid, reference accepted, examples as declared",
        description="Check every problem package (or those named): its problem.yaml is valid, "
        "its reference is accepted, its fingerprints are not, and every example in "
        "submissions/<problem>/<verdict>/ gets that verdict and its declared codes. Exit 0 "
        "when all hold, 1 otherwise.",
        parents=[own, shared.problems_flag()],
    )
    c.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML to FILE")
    c.add_argument(
        "--jobs",
        type=shared.positive(int),
        metavar="N",
        default=None,
        help="examples graded at once (default: the number of CPUs)",
    )
    c.add_argument(
        "--time-per-call",
        type=shared.positive(float),
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
        parents=[shared.problems_flag()],
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
    own = shared.parent()
    own.add_argument("problem", metavar="PROBLEM", help="problem name")
    commands.add_parser(
        "show",
        help="show a problem's statement",
        description="Print a problem's statement, rendered.",
        parents=[own, shared.problems_flag()],
    )


def _add_bundle(commands: _Commands) -> None:
    own = shared.parent()
    own.add_argument("problem", metavar="PROBLEM", nargs="?", help="problem name")
    shared.assignment_flag(own, "bundle assignment NAME (its problems, points as in it) instead")
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
        type=shared.positive(float),
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
        parents=[own, shared.problems_flag(), _lock_flag(), shared.pick_flag()],
    )


def _add_autograde(commands: _Commands) -> None:
    own = shared.parent()
    own.add_argument("--root", type=Path, required=True, metavar="DIR", help="/autograder")
    own.add_argument("--problem", help="problem name or folder")
    shared.assignment_flag(own, "grade against assignment NAME instead (its own points)")
    own.add_argument(
        "--points",
        type=shared.positive(float),
        default=100.0,
        help="the assignment's autograder points (default: 100)",
    )
    commands.add_parser(
        "autograde",
        help="grade a Gradescope submission (what the bundle's run_autograder runs)",
        description="Grade the file in DIR/submission that defines the problem's entry point "
        "and write DIR/results/results.json in Gradescope's format; a results.json is written "
        "whatever happens. Exit 0 when it was written.",
        parents=[
            own,
            shared.problems_flag(),
            _lock_flag(),
            shared.isolation_flags(),
            shared.pick_flag(),
        ],
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
            shared.problems_flag(),
            shared.cases_flags("which set of cases to draw (default 0), for all"),
            shared.isolation_flags(),
            shared.shrink_flag(
                "report each first failing case as found, without shrinking it (faster)"
            ),
            shared.pick_flag(),
            shared.zygote_flag(),
        ],
    )


def _batch_arguments() -> argparse.ArgumentParser:
    """The arguments of ``judge batch`` alone."""
    own = shared.parent()
    own.add_argument("source", metavar="SOURCE", help="folder of submissions, or a .zip of one")
    own.add_argument("--problem", help="problem name or folder")
    shared.assignment_flag(own, "grade every problem of assignment NAME instead: a column each")
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
    regrade = own.add_mutually_exclusive_group()
    regrade.add_argument(
        "--regrade",
        action="append",
        type=_ids,
        metavar="ID[,ID...]",
        help="grade these students again even when their file is unchanged (repeatable); an "
        "id the source does not hold is refused (exit 2)",
    )
    regrade.add_argument(
        "--regrade-all",
        action="store_true",
        help="grade everyone again, whatever was finished before",
    )
    return own


def _ids(value: str) -> list[str]:
    """``--regrade``'s value: one id, or several separated by commas."""
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if not ids:
        raise argparse.ArgumentTypeError(f"expected student ids, got {value!r}")
    return ids


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
        "--points", type=shared.positive(float), default=100.0, help="the assignment's points (100)"
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
