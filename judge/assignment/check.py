"""``judge check`` for assignments: each assignment.yaml valid, its examples graded as declared.

An assignment's examples live in ``submissions/assignments/<name>/`` (files, not verdict
folders: one file has a verdict per problem), beside the problems' own
``submissions/<problem>/``; ``submissions/assignments/<name>/expected.yaml`` maps each file to,
per problem, its verdict then the codes that problem's section must contain, the first being
its root cause::

    one_missing.py:
      first_problem: [accepted]
      second_problem: [compile_error, entry_point_missing]

Each section is checked by ``judge.check.check_example``, the check a problem's own examples
get, so the two cannot disagree. ``check_all`` and ``count_checks`` wrap the problem checks'
and add these when every problem is checked (``judge check`` with no names).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from ..check import EXPECTED_FILE, CheckResult, Example, nothing_to_check, submissions_dir
from ..check import check_all as check_problems
from ..check import check_example as check_section
from ..check import count_checks as count_problem_checks
from ..constants import submission_suffix
from ..errors import JudgeError
from ..grading import GradeOptions
from ..result import Verdict
from .grade import grade_assignment
from .model import Assignment, assignment_names, default_assignments_dir, load_assignment

EXAMPLES = "assignments"  # submissions/assignments/<name>/


def examples_dir(problems_dir: Path, name: str) -> Path:
    return submissions_dir(problems_dir) / EXAMPLES / name


def examples(
    assignment: Assignment, problems_dir: Path
) -> tuple[dict[Path, dict[str, list[str]]], list[str]]:
    """The example files with, per problem, ``[verdict, code...]``; and what does not add up."""
    folder = examples_dir(problems_dir, assignment.name)
    if not folder.is_dir():
        return {}, []
    expected = folder / EXPECTED_FILE
    faults: list[str] = []
    try:
        loaded: Any = yaml.safe_load(expected.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return {}, [f"{expected}: cannot be read ({exc})"]
    if not isinstance(loaded, dict):
        return {}, [f"{expected}: expected a mapping of files to problems"]
    names = {p.name for p in assignment.parts}
    verdicts = {str(v) for v in Verdict}
    found: dict[Path, dict[str, list[str]]] = {}
    for file, per_problem in loaded.items():
        path = folder / str(file)
        if not path.is_file():
            faults.append(f"{file}: listed in {expected.name} but not on disk")
            continue
        if not isinstance(per_problem, dict) or set(per_problem) != names:
            faults.append(f"{file}: expected one entry per problem ({', '.join(sorted(names))})")
            continue
        for problem, said in per_problem.items():
            if not isinstance(said, list) or not said or str(said[0]) not in verdicts:
                faults.append(f"{file}: {problem}: expected [verdict, code, ...], got {said!r}")
                break
        else:
            found[path] = {str(k): [str(x) for x in v] for k, v in per_problem.items()}
    on_disk = {p for p in folder.iterdir() if submission_suffix(p) is not None}
    faults += [f"{p.name}: not listed in {expected.name}" for p in sorted(on_disk - set(found))]
    return found, faults


def check_assignment(name: str, problems_dir: Path, options: GradeOptions) -> Iterator[CheckResult]:
    """Every check of one assignment, in order; stops after an invalid assignment.yaml."""
    started = time.perf_counter()
    try:
        assignment = load_assignment(name, problems_dir)
    except JudgeError as exc:
        yield CheckResult(name, "assignment.yaml is valid", False, str(exc))
        return
    yield CheckResult(name, "assignment.yaml is valid", True, "", time.perf_counter() - started)
    found, faults = examples(assignment, problems_dir)
    check = f"{EXPECTED_FILE} matches the examples"
    if not examples_dir(problems_dir, assignment.name).is_dir():
        yield nothing_to_check(name, check, examples_dir(problems_dir, assignment.name))
        return
    yield CheckResult(name, check, not faults, "; ".join(faults))
    for path, per_problem in found.items():
        yield check_example(assignment, path, per_problem, options)


def check_example(
    assignment: Assignment, path: Path, per_problem: dict[str, list[str]], options: GradeOptions
) -> CheckResult:
    """Grade an example file against the assignment; each section as declared."""
    started = time.perf_counter()
    report = grade_assignment(path, assignment, options)
    reasons = []
    for part, section in zip(assignment.parts, report.parts, strict=True):
        verdict, *codes = per_problem[part.name]
        example = Example(path, verdict, tuple(codes))
        result = check_section(part.problem, example, options, section.report)
        if not result.passed:
            reasons.append(f"{part.name}: {result.message}")
    return CheckResult(
        assignment.name, path.name, not reasons, "; ".join(reasons), time.perf_counter() - started
    )


def _names(problems_dir: Path) -> list[str]:
    return assignment_names(default_assignments_dir(problems_dir))


def assignment_names_in(problems_dir: Path) -> list[str]:
    """The assignments beside a problem set (``judge check NAME`` takes either)."""
    return _names(problems_dir)


def _split(names: list[str] | None, problems_dir: Path) -> tuple[list[str] | None, list[str]]:
    """The named problems and the named assignments (``judge check ASSIGNMENT`` names an
    assignment as ``judge check PROBLEM`` names a problem); no names: every problem
    and every assignment."""
    assignments = _names(problems_dir)
    if not names:
        return None, assignments
    return [n for n in names if n not in assignments], [n for n in names if n in assignments]


def check_all(
    names: list[str] | None,
    problems_dir: Path,
    options: GradeOptions,
    on_result: Callable[[CheckResult], None] | None = None,
    jobs: int = 1,
) -> list[CheckResult]:
    """``judge.check.check_all`` of the named problems (``jobs`` examples at once), then the
    named assignments' checks (every problem and assignment when none is named)."""
    problems, assignments = _split(names, problems_dir)
    results = (
        check_problems(problems, problems_dir, options, on_result, jobs) if problems != [] else []
    )
    for name in assignments:
        for result in check_assignment(name, problems_dir, options):
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def count_checks(names: list[str] | None, problems_dir: Path) -> int:
    """How many checks ``check_all`` will run, for a progress bar."""
    problems, assignments = _split(names, problems_dir)
    total = count_problem_checks(problems, problems_dir) if problems != [] else 0
    for name in assignments:
        try:
            assignment = load_assignment(name, problems_dir)
        except JudgeError:
            total += 1
            continue
        total += 2 + len(examples(assignment, problems_dir)[0])
    return total
