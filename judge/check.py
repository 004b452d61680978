"""Checking a problem set: each package valid, its reference accepted, its examples as declared.

A problem set is a folder holding ``problems/<name>/`` and ``submissions/<name>/<verdict>/``;
``submissions/<name>/expected.yaml`` maps each example to the diagnostic codes its report must
contain, the first being the root cause (the report's first diagnostic), and optionally to the
score it must get (a number or a range), so that a change of weights that breaks what the
rubric means to teach fails the check:

    wrong_answer/plain_layer.py: [some_structural_code]             # codes only
    wrong_answer/not_flattened.py: {codes: [not_flattened], score: [0.9, 0.97]}

An accepted example scores 1.0 and a compile error 0 without saying so.

The test suite runs these same checks, one test per check, so ``judge check`` and ``pytest``
cannot disagree.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from .consistency import contradictions
from .constants import submission_suffix
from .errors import ProblemError
from .grading import GradeOptions, grade
from .problem import Problem, load_problem, problem_names
from .result import Report, Verdict

EXPECTED_FILE = "expected.yaml"
# The scores a verdict fixes, so that expected.yaml need not repeat them.
IMPLIED_SCORES = {str(Verdict.ACCEPTED): (1.0, 1.0), str(Verdict.COMPILE_ERROR): (0.0, 0.0)}


@dataclass(frozen=True)
class CheckResult:
    """One check of one problem: ``name`` says what was checked, ``message`` why it failed."""

    problem: str
    name: str
    passed: bool
    message: str = ""
    duration_s: float = 0.0
    # Why nothing was checked (no examples on disk: a wheel install, a bundle's setup); a
    # skipped check is no failure, and never shown as a pass.
    skipped: str = ""


# A check that grades a file of its own, to be run when the caller chooses (side by side).
Deferred = Callable[[], "CheckResult"]


def nothing_to_check(problem: str, name: str, folder: Path) -> CheckResult:
    """The check of examples where there are none: skipped, saying where they would be."""
    return CheckResult(problem, name, True, skipped=f"no examples at {folder}: nothing to check")


@dataclass(frozen=True)
class Expectation:
    """What one entry of expected.yaml declares: codes (root cause first) and, optionally, the
    score as an inclusive range (an exact score is a range of one value)."""

    codes: tuple[str, ...] = ()
    score: tuple[float, float] | None = None


@dataclass(frozen=True)
class Example:
    """An example submission and what its report must say."""

    path: Path
    verdict: str
    codes: tuple[str, ...]
    score: tuple[float, float] | None = None

    @property
    def name(self) -> str:
        return f"{self.verdict}/{self.path.name}"


def submissions_dir(problems_dir: Path) -> Path:
    """Examples live beside the problems: ``<set>/problems`` and ``<set>/submissions``."""
    return problems_dir.parent / "submissions"


def _score(value: object, where: str, verdict: str) -> tuple[tuple[float, float] | None, str]:
    """A declared score: a number in [0, 1] or a range [low, high]; else the error."""

    def number(v: object) -> float | None:
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
            return None
        return float(v)

    ends = [number(v) for v in value] if isinstance(value, list) and len(value) == 2 else []
    exact = number(value)
    if exact is not None:
        low = high = exact
    elif ends and ends[0] is not None and ends[1] is not None:
        low, high = ends[0], ends[1]
        if low > high:
            return None, f"{where}: the range's low end {low:g} is above its high end {high:g}"
    else:
        return None, f"{where}: expected a number in [0, 1] or a range [low, high], got {value!r}"
    if (verdict == str(Verdict.ACCEPTED)) != (low == high == 1.0):
        return None, f"{where}: an accepted example scores 1.0, and only an accepted one does"
    return (low, high), ""


def _expectation(name: str, value: object, shown: str) -> tuple[Expectation, list[str]]:
    """One entry: ``[codes]`` or ``{codes: [...], score: ...}``."""
    codes: object = value
    score = None
    errors: list[str] = []
    if isinstance(value, dict):
        unknown = sorted(str(k) for k in value if k not in ("codes", "score"))
        if unknown:
            errors.append(f"{shown}: {name}.{unknown[0]}: unknown key (use codes and score)")
        codes = value.get("codes", [])
        if "score" in value:
            score, error = _score(value["score"], f"{shown}: {name}.score", name.split("/")[0])
            errors += [error] if error else []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        errors.append(f"{shown}: {name}.codes: expected a list of codes, got {codes!r}")
        codes = []
    return Expectation(tuple(codes), score), errors


def read_expected(path: Path) -> tuple[dict[str, Expectation], list[str]]:
    """expected.yaml: each example's expectation, and one line per malformed entry naming the
    file and the field. ``judge check`` and the test suite both read it here."""
    problems: list[str] = []
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        return {}, [f"{path}: not valid YAML ({exc})"]
    if not isinstance(loaded, dict):
        return {}, [f"{path}: expected a mapping of files to lists of codes"]
    declared: dict[str, Expectation] = {}
    for name, value in loaded.items():
        declared[str(name)], errors = _expectation(str(name), value, str(path))
        problems += errors
    return declared, problems


def examples(problem: str, problems_dir: Path) -> tuple[list[Example], list[str]]:
    """The examples on disk with their declared codes and scores, and what does not add up."""
    folder = submissions_dir(problems_dir) / problem
    if not folder.is_dir():
        return [], []
    expected_path = folder / EXPECTED_FILE
    declared, problems = read_expected(expected_path) if expected_path.is_file() else ({}, [])
    on_disk = sorted(p for p in folder.glob("*/*") if submission_suffix(p) is not None)
    found = []
    verdicts = {str(v) for v in Verdict}
    for path in on_disk:
        name = f"{path.parent.name}/{path.name}"
        if path.parent.name not in verdicts:
            problems.append(f"{name}: {path.parent.name!r} is not a verdict")
            continue
        if name not in declared:
            problems.append(f"{name}: not listed in {EXPECTED_FILE}")
        expectation = declared.get(name, Expectation())
        score = expectation.score or IMPLIED_SCORES.get(path.parent.name)
        found.append(Example(path, path.parent.name, expectation.codes, score))
    listed = {f"{e.verdict}/{e.path.name}" for e in found}
    problems += [
        f"{name}: listed in {EXPECTED_FILE} but not on disk"
        for name in sorted(set(declared) - listed)
    ]
    return found, problems


def check_example(
    problem: Problem, example: Example, options: GradeOptions, report: Report | None = None
) -> CheckResult:
    """Grade an example (or take its ``report``, already graded with ``options``); it must get
    its folder's verdict and its declared codes, root first."""
    started = time.perf_counter()
    report = report if report is not None else grade(example.path, problem, options)
    codes = [d.code for d in report.diagnostics]
    reasons = []
    if report.verdict != example.verdict:
        reasons.append(f"verdict {report.verdict}, expected {example.verdict} ({report.summary})")
    missing = [c for c in example.codes if c not in codes]
    if missing:
        reasons.append(f"missing codes {missing}; got {codes}")
    elif example.codes and codes[0] != example.codes[0]:
        reasons.append(f"root cause {codes[0]}, expected {example.codes[0]}; got {codes}")
    reasons += [f"the report contradicts itself: {c}" for c in contradictions(report, problem)]
    if (report.score == 1.0) != (report.verdict is Verdict.ACCEPTED):
        reasons.append(f"score {report.score} with verdict {report.verdict}")
    elif example.score is not None and not in_range(report.score, example.score):
        low, high = example.score
        declared = f"{low:g}" if low == high else f"[{low:g}, {high:g}]"
        reasons.append(f"score {report.score:g}, expected {declared} ({EXPECTED_FILE})")
    return CheckResult(
        problem.name, example.name, not reasons, "; ".join(reasons), time.perf_counter() - started
    )


def in_range(score: float, declared: tuple[float, float]) -> bool:
    """Within the declared range; reports round scores to 4 decimals, so allow that much."""
    low, high = declared
    return low - 5e-5 <= score <= high + 5e-5


def check_reference(problem: Problem, options: GradeOptions) -> CheckResult:
    """The reference, graded as a learner under the problem's own limits, is accepted."""
    started = time.perf_counter()
    report = grade(problem.reference, problem, options)
    ok = report.verdict is Verdict.ACCEPTED
    return CheckResult(
        problem.name,
        "reference is accepted",
        ok,
        "" if ok else report.summary,
        time.perf_counter() - started,
    )


def check_fingerprint(problem: Problem, index: int, options: GradeOptions) -> CheckResult:
    """A fingerprint names a mistake, so it must not be accepted: else it is the reference."""
    fingerprint = problem.fingerprints[index]
    started = time.perf_counter()
    report = grade(fingerprint.file, problem, dataclasses.replace(options, shrink=False))
    ok = report.verdict is not Verdict.ACCEPTED
    return CheckResult(
        problem.name,
        f"fingerprint {fingerprint.file.name} is wrong",
        ok,
        "" if ok else f"{fingerprint.file.name} is accepted: it cannot name a mistake",
        time.perf_counter() - started,
    )


def check_problem(
    name: str, problems_dir: Path, options: GradeOptions, deferred: bool = False
) -> Iterator[CheckResult | Deferred]:
    """Every check of one problem, in order; stops after an invalid problem.yaml. With
    ``deferred``, each check that grades a file (the reference, a fingerprint, an example)
    comes as a function to call, for the caller to run side by side (``check_all``)."""
    started = time.perf_counter()
    try:
        problem = load_problem(name, problems_dir)
    except ProblemError as exc:
        yield CheckResult(
            name, "problem.yaml is valid", False, str(exc), time.perf_counter() - started
        )
        return
    yield CheckResult(name, "problem.yaml is valid", True, "", time.perf_counter() - started)
    reference = functools.partial(check_reference, problem, options)
    yield reference if deferred else reference()
    for index in range(len(problem.fingerprints)):
        fingerprint = functools.partial(check_fingerprint, problem, index, options)
        yield fingerprint if deferred else fingerprint()
    found, problems = examples(name, problems_dir)
    check = f"{EXPECTED_FILE} matches the examples"
    folder = submissions_dir(problems_dir) / name
    if not folder.is_dir():
        yield nothing_to_check(name, check, folder)
        return
    yield CheckResult(name, check, not problems, "; ".join(problems))
    for example in found:
        graded = functools.partial(check_example, problem, example, options)
        yield graded if deferred else graded()


def check_all(
    names: list[str] | None,
    problems_dir: Path,
    options: GradeOptions,
    on_result: Callable[[CheckResult], None] | None = None,
    jobs: int = 1,
) -> list[CheckResult]:
    """Check the named problems (all of them by default); ``on_result`` sees each as it ends.

    Each problem.yaml is read first; then every file is graded, ``jobs`` at a time (their
    workers are processes; threads only wait on them), the reference first, whose outputs the
    others share (``grading.memo``: a case the reference has run is not run again), and
    reported in the order a single job would give."""
    results: list[CheckResult | None] = []
    pending: list[tuple[int, Deferred]] = []
    for name in names or problem_names(problems_dir):
        for item in check_problem(name, problems_dir, options, deferred=True):
            if isinstance(item, CheckResult):
                results.append(item)
                if on_result is not None:
                    on_result(item)
            else:
                pending.append((len(results), item))
                results.append(None)

    def run(slot: int, check: Deferred) -> None:
        results[slot] = result = check()
        if on_result is not None:
            on_result(result)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="judge-check") as pool:
        for future in [pool.submit(run, *job) for job in pending]:
            future.result()
    return [r for r in results if r is not None]


def count_checks(names: list[str] | None, problems_dir: Path) -> int:
    """How many checks ``check_all`` will run, for a progress bar."""
    total = 0
    for name in names or problem_names(problems_dir):
        try:
            problem = load_problem(name, problems_dir)
        except ProblemError:
            total += 1
            continue
        total += 3 + len(problem.fingerprints) + len(examples(name, problems_dir)[0])
    return total
