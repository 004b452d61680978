"""The rubric: each item of the problem's rubric scored, and what the structure checks found.

``outputs`` earns the fraction of informative cases passed; every other item is a structural
check from ``structure.RUBRIC_CHECKS``, all or nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import structure, wording
from ..problem import Problem, RubricItem, Tolerance
from ..result import Diagnostic, Severity
from ..structure import Observations, Variables
from .outcome import Outcome

# (where, the learner's variables or None when unseen, the reference's), one per observed case
ObservedPair = tuple[str, Variables | None, Variables]


def observed_pairs(
    problem: Problem, results: list[Outcome], learner: Observations, reference: Observations
) -> list[ObservedPair]:
    """Every case on which both sides initialised variables (under jax.jit the learner's
    init runs only when a new shape is traced); a mistake may show on some cases only, such as
    a wrong size that agrees when in_dim == features."""
    pairs: list[ObservedPair] = [
        (o.case.describe(problem), learner.variables(o.case.key), theirs)
        for o in results
        if (theirs := reference.variables(o.case.key)) is not None
    ]
    return [p for p in pairs if p[1] is not None] or pairs[:1]


def _outputs_credit(results: list[Outcome], planned: int) -> tuple[bool, float]:
    """Informative cases passed; cases that never ran count as failed."""
    passed = all(o.passed for o in results) and len(results) == planned
    informative = [o for o in results if o.informative]
    denominator = len(informative) + planned - len(results)
    credit = sum(o.passed for o in informative) / denominator if denominator else 0.0
    return passed, credit


def _structural(
    item: RubricItem, learner: Observations, reference: Observations, observed: list[ObservedPair]
) -> list[Diagnostic]:
    check = structure.RUBRIC_CHECKS[item.check]
    if not check.per_case:
        assert check.whole is not None
        return check.whole(item, learner, reference)
    assert check.case is not None
    for where, mine, theirs in observed:
        found = check.case(item, mine, theirs, where)
        if found:
            return found
    return []


def score(
    problem: Problem,
    results: list[Outcome],
    planned: int,
    learner: Observations,
    reference: Observations,
) -> tuple[list[dict[str, Any]], list[Diagnostic], list[ObservedPair]]:
    """Each rubric item's entry for the report, the structural diagnostics, and the observed
    variable pairs they were found on."""
    observed = observed_pairs(problem, results, learner, reference)
    rubric: list[dict[str, Any]] = []
    findings: list[Diagnostic] = []
    for item in problem.rubric:
        if item.check == "outputs":
            diagnostics: list[Diagnostic] = []
            passed, credit = _outputs_credit(results, planned)
        else:
            found = _structural(item, learner, reference, observed)
            diagnostics = [wording.hinted(problem, d) for d in found]
            passed = not diagnostics
            credit = 1.0 if passed else 0.0
        findings += diagnostics
        rubric.append(
            {
                "id": item.id,
                "title": item.title,
                "check": item.check,
                "weight": item.weight,
                "required": item.required,
                "passed": passed,
                "score": round(item.weight * credit, 4),
                "codes": [d.code for d in diagnostics],
            }
        )
    collections = [i.collection for i in problem.rubric if i.check.startswith("variable_")]
    if collections and observed and all(mine is None for _, mine, _ in observed):
        findings.append(wording.hinted(problem, structure.unobserved(sorted(set(collections)))))
    return rubric, findings, observed


def initial_values(
    problem: Problem, observed: list[ObservedPair], tol: Tolerance
) -> Diagnostic | None:
    """Initial values that differ, in the collections the rubric compares."""
    collections = dict.fromkeys(
        i.collection for i in problem.rubric if i.check.startswith("variable_")
    )
    found = (
        structure.check_variable_values(c, mine, theirs, tol, where)
        for c in collections
        for where, mine, theirs in observed
    )
    values = next((v for v in found if v is not None), None)
    return wording.hinted(problem, values) if values is not None else None


def output_dtype(problem: Problem, results: list[Outcome]) -> list[Diagnostic]:
    """A warning when the function returns an array of another dtype than the reference;
    none when a failure already names the dtype as its reason."""
    if any(o.mismatch is not None and o.mismatch.code == "wrong_output_dtype" for o in results):
        return []
    for outcome in results:
        got, expected = outcome.got, outcome.expected
        if (
            isinstance(got, np.ndarray)
            and expected is not None
            and outcome.reply.get("type") != "list"
            and got.dtype != expected.dtype
        ):
            return [
                wording.hinted(
                    problem,
                    Diagnostic(
                        "wrong_output_dtype",
                        Severity.WARNING,
                        f"your function returns {got.dtype} where the reference returns "
                        f"{expected.dtype}.",
                        "Return the layer's output as it comes, without casting it.",
                        {
                            "dtype": str(got.dtype),
                            "reference_dtype": str(expected.dtype),
                            "case": outcome.case.describe(problem),
                        },
                    ),
                )
            ]
    return []
