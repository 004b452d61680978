"""The commands about problem packages themselves: ``judge list`` (each problem with where it
comes from) and ``judge new`` (a package to start from). Kept apart from ``cli.py``, which runs
gradings; like it, no logic of the judge's own here: discovery is ``problem.sources``, the
skeleton ``problem.template``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import UsageError
from .problem import NO_PROBLEMS_HINT, default_problems_dir, load_problem, locate_problems


def list_problems(args: argparse.Namespace) -> int:
    """``judge list``: a table of the problems found, with their source; warnings on stderr."""
    from rich.console import Console
    from rich.table import Table

    folder = args.problems or default_problems_dir()
    located = locate_problems(folder)
    for line in located.warnings:
        print(f"judge: warning: {line}", file=sys.stderr)
    if not located.problems:  # an empty table would read as success
        raise UsageError(f"no problem packages in {folder}; {NO_PROBLEMS_HINT}")
    where = f"{folder} and the installed problem sets" if located.merged else str(folder)
    sources = list(dict.fromkeys(located.problems.values()))
    table = Table(title=f"problems in {where}")
    columns = ("name", "title", "version", "entry point", "source")
    for column in columns if len(sources) > 1 else columns[:-1]:  # one source: the line below
        table.add_column(column)
    for name, source in sorted(located.problems.items()):
        problem = load_problem(name, folder)
        row = [
            problem.name,
            problem.title,
            problem.version,
            f"{problem.entry_point}({', '.join(problem.parameters)})",
            source.label,
        ]
        table.add_row(*(row if len(sources) > 1 else row[:-1]))
    Console(highlight=False).print(table)
    for source in sources:  # one line each, whole, for grep
        declared = f" ({source.entry_point})" if source.entry_point else ""
        print(f"source {source.label}: {source.folder}{declared}")
    return 0


def new_problem(args: argparse.Namespace) -> int:
    """``judge new NAME``: write the skeleton, say what was written and what to run next."""
    from .problem.template import new_problem as write

    into: Path = args.into
    if into.exists() and not into.is_dir():
        raise UsageError(f"--into {into}: not a folder")
    try:  # a new problem set starts as a new folder (docs/problem-packages.md, judge new)
        into.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--into {into}: cannot be made ({exc.strerror or exc})") from None
    written = write(args.name, into)
    for path in written:
        print(f"wrote {path}")
    print(
        f"judge new: problem {args.name!r} written; check it with `judge check {args.name}` "
        f"in {into} (or `judge check --problems {into / 'problems'} {args.name}`)"
    )
    return 0
