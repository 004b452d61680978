"""Building the Report: score, failing case, rubric codes, summary, environment."""

from __future__ import annotations

import platform
from typing import Any

from .. import catalogue
from ..cases import Case
from ..constants import judge_version, library_versions
from ..limits import Limits
from ..problem import Problem
from ..result import Diagnostic, FailingCase, Report, RubricResult, Severity, Verdict
from ..sandbox import Sandbox, Worker
from .confirm import Confirmed
from .options import GradeOptions
from .outcome import Outcome, array_json, got_json


def environment(
    hello: dict[str, Any],
    options: GradeOptions,
    problem: Problem,
    limits: Limits,
    sandbox: Sandbox,
    learner: Worker | None,
) -> dict[str, Any]:
    """What the learner's code ran under, as its worker said and the judge set it."""
    versions = hello.get("versions") or {}
    return {
        "backend": options.backend,
        "device": hello.get("device"),
        "platform": hello.get("platform"),
        "device_id": options.device,
        "python": versions.get("python") or platform.python_version(),
        "jax": versions.get("jax"),
        "jaxlib": versions.get("jaxlib"),
        "flax": versions.get("flax"),
        "numpy": versions.get("numpy"),
        "hypothesis": library_versions()["hypothesis"],
        "judge": judge_version(),
        "matmul_precision": problem.precision,
        "sandbox": sandbox.label,
        "limits": limits.to_dict(),
        "limits_enforced": _enforced(hello, learner),
        "sandbox_enforced": _confined(hello),
    }


def _confined(hello: dict[str, Any]) -> dict[str, Any] | None:
    """What the kernel enforces around the learner's worker, as the worker reported it."""
    confined = hello.get("confined")
    if not isinstance(confined, dict):
        return None
    keep = ("landlock", "fs", "net", "scopes", "seccomp", "capabilities", "uid")
    return {k: confined[k] for k in keep if k in confined}


def _enforced(hello: dict[str, Any], learner: Worker | None) -> dict[str, Any]:
    """The limits the learner's worker reported, and the cgroup's process bound if any."""
    enforced = dict(hello.get("limits") or {}) if isinstance(hello.get("limits"), dict) else {}
    cgroup = learner.process_limit() if learner is not None else None
    if cgroup is not None:
        enforced["processes"] = cgroup
    memory = learner.memory_limit() if learner is not None else None
    if memory is not None:
        enforced["memory_mb"] = memory
    return enforced


def score(
    verdict: Verdict, rubric: list[RubricResult], results: list[Outcome], planned: int
) -> float:
    """1.0 when accepted; else the rubric's weighted sum, or the informative cases passed."""
    if verdict is Verdict.ACCEPTED:
        return 1.0
    total_weight = sum(item.weight for item in rubric)
    if rubric and total_weight:
        return round(sum(item.score for item in rubric) / total_weight, 4)
    informative_run = sum(o.informative for o in results)
    informative_passed = sum(o.informative and o.passed for o in results)
    not_run = planned - len(results)
    if informative_run + not_run:
        return round(informative_passed / (informative_run + not_run), 4)
    return 0.0


def failing_case(
    problem: Problem, shown: Outcome, index: int, steps: int, confirmed: Confirmed | None = None
) -> FailingCase:
    """The report's failing case; with ``confirmed``, as the fresh worker showed it, and the
    calls it needed first."""
    earlier = confirmed.earlier if confirmed is not None else []
    seeded = confirmed.seeded if confirmed is not None else bool(shown.reply.get("global_random"))
    return FailingCase(
        index=index,
        inputs=shown.case.to_json(problem),
        expected=array_json(shown.expected) if shown.expected is not None else None,
        got=got_json(shown),
        mismatch=(
            {
                "code": shown.mismatch.code,
                "message": shown.mismatch.message,
                "evidence": shown.mismatch.evidence,
            }
            if shown.mismatch
            else None
        ),
        reproducer=shown.case.reproducer(problem, earlier, seeded),
        shrink_steps=steps,
        fresh_process=confirmed.reproduced if confirmed is not None else None,
        earlier_calls=[c.to_json(problem) for c in earlier],
    )


def claim_output_codes(rubric: list[RubricResult], diagnostics: list[Diagnostic]) -> None:
    """Give the outputs item, when it failed, the error codes no other item claimed."""
    claimed = {code for item in rubric for code in item.codes}
    for item in rubric:
        if item.check == "outputs" and not item.passed:
            item.codes = [
                d.code
                for d in diagnostics
                if d.code not in claimed and d.severity is Severity.ERROR
            ]


# The failures that are shrunk (``run.Grading``); the others are shown as the plan met them.
SHRUNK_FAILURES = catalogue.SHRUNK_FAILURES


def summary(
    verdict: Verdict,
    problem: Problem,
    plan: list[Case],
    results: list[Outcome],
    failing: tuple[Outcome, int] | None,
    diagnostics: list[Diagnostic],
) -> str:
    if verdict is Verdict.ACCEPTED:
        return f"accepted: all {len(results)} cases passed"
    if failing is not None:
        outcome, index = failing
        first = diagnostics[0].code if diagnostics else str(outcome.failure)
        # A timeout, a dead process or the memory limit stops grading: never shrunk.
        smallest = "smallest failing" if outcome.failure in SHRUNK_FAILURES else "failing"
        return (
            f"{verdict} on case {index + 1} of {len(plan)} ({first}); {smallest} "
            f"case: {outcome.case.describe(problem)}"
        )
    head = diagnostics[0] if diagnostics else None
    return f"{verdict}: {head.message}" if head else str(verdict)


def unrun_report(
    problem: Problem,
    options: GradeOptions,
    display: str,
    verdict: Verdict,
    diagnostic: Diagnostic,
) -> Report:
    """The report of a submission none of whose cases ran: it could not be read, loaded or
    found. Its one diagnostic is the reason."""
    return Report(
        problem=problem.name,
        submission=display,
        verdict=verdict,
        score=0.0,
        summary=f"{verdict}: {diagnostic.message}",
        cases={
            "run": 0,
            "passed": 0,
            "seed": options.seed,
            "planned": problem.cases.count,
            "informative": 0,
        },
        diagnostics=[diagnostic],
        environment={"backend": options.backend, "judge": judge_version()},
    )
