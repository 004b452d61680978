"""``judge check``: a problem set's own checks, side by side, with progress a log can follow."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape as rich_escape

from .errors import UsageError
from .grading import GradeOptions
from .problem import NO_PROBLEMS_HINT, default_problems_dir, load_problem, problem_names
from .progress import progress as progress_for

if TYPE_CHECKING:
    from .check import CheckResult


def check_command(args: argparse.Namespace) -> int:
    """``judge check [NAME...]``: every check, side by side, with progress; a table, then
    one line per failure; JUnit on request."""
    from rich.console import Console

    from .assignment.check import assignment_names_in, check_all, count_checks
    from .render import junit

    folder = args.problems or default_problems_dir()
    known = problem_names(folder)
    assignments = assignment_names_in(folder)
    for name in args.problem_names:
        if name not in known and name not in assignments:
            load_problem(name, folder)  # raises ProblemNotFound with a did-you-mean
    if not known:
        raise UsageError(f"no problem packages in {folder}; {NO_PROBLEMS_HINT}")
    console = Console(stderr=True)
    options = GradeOptions(limits={"call_s": args.time_per_call}, sandbox=args.sandbox)
    total = count_checks(args.problem_names or None, folder)
    with progress_for(console, "judge check") as progress:
        task = progress.add_task("checking", total=total)

        def advance(result: CheckResult) -> None:
            progress.update(task, advance=1, description=f"{result.problem}: {result.name}")

        jobs = args.jobs or os.cpu_count() or 1
        results = check_all(args.problem_names or None, folder, options, advance, jobs)
    failed = [r for r in results if not r.passed]
    _print_checks(results, failed)
    if args.junit is not None:
        args.junit.write_text(junit.render_checks(results), encoding="utf-8")
    return 1 if failed else 0


def _print_checks(results: Sequence[CheckResult], failed: Sequence[CheckResult]) -> None:
    """The failed checks (all checks when none failed) as a table, then one line per failure."""
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    skipped = sum(bool(r.skipped) for r in results)
    passed = len(results) - len(failed) - skipped
    title = f"judge check: {passed} of {len(results)} passed"
    table = Table(title=title + (f", {skipped} skipped (nothing to check)" if skipped else ""))
    table.add_column("problem")
    table.add_column("check")
    table.add_column("result")
    table.add_column("reason", overflow="fold")
    for result in failed or results:
        table.add_row(
            result.problem,
            result.name,
            "[yellow]skipped[/yellow]"
            if result.skipped
            else "[green]pass[/green]"
            if result.passed
            else "[red]FAIL[/red]",
            rich_escape(result.skipped or result.message),
        )
    out.print(table)
    for result in failed:  # one line each, whole, for CI logs and grep
        print(f"FAIL {result.problem} {result.name}: {result.message}")
