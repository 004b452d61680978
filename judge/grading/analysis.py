"""A wrong answer explained: the stages' root causes (``stages``, ``param_stage``), the
fingerprints under the facts, and which causes the facts support for each symptom.

Fingerprints name a mistake from the output alone; they come last, when neither the structure
nor a stage named a cause, and never against the recorded structure: a fingerprint whose code
is structural (an ensemble's output) is not named while every structure item of the rubric
passed (the code is built as the reference is: a tiny case where two variants agree, such as
``fold_in(key, 0)`` and ``split(key, 1)[0]`` on a batch of 1, says nothing).
"""

from __future__ import annotations

from .. import catalogue
from ..cases import Case
from ..observations import Observations
from ..problem import Problem
from ..result import Diagnostic, RubricResult, Severity
from . import fingerprints
from .evaluate import Evaluator
from .outcome import Outcome
from .param_stage import Variables, VariantVariables, param_stage
from .stages import FORMAT_CODES, Stages, format_stage


def _variant_variables(evaluator: Evaluator, outcomes: dict[str, Outcome]) -> VariantVariables:
    """The variables fingerprint ``number`` makes on a case (run in the reference's worker
    when not known yet), or None."""

    def made(number: int, case: Case) -> Variables | None:
        # A case of the plan, or one a composition made (another seed): run for its variables.
        outcome = outcomes.get(case.key) or Outcome(case)
        slot = f"fingerprint_{number}"
        fingerprints.variant_output(evaluator, slot, outcome)
        seen = Observations()
        seen.add(fingerprints.variant_observed(evaluator, slot, outcome), case.key)
        return seen.variables(case.key)

    return made


def explain_wrong_answer(
    evaluator: Evaluator,
    results: list[Outcome],
    shown: Outcome,
    first: Outcome,
    findings: list[Diagnostic],
    rubric: list[RubricResult],
) -> tuple[list[Diagnostic], dict[str, frozenset[str]]]:
    """``findings`` with the stages' own (the generic initial-values one replaced when a stage
    names the values' cause), in the order the answer is made, and the supported causes of
    each symptom."""
    problem = evaluator.problem
    tol = evaluator.tolerance(problem.output_dtype)
    outcomes = {**evaluator.outcomes, shown.case.key: shown, first.case.key: first}
    failing = [o for o in [shown, *results] if o.failure == "mismatch"]
    failing = list({o.case.key: o for o in failing}.values())
    stages = Stages()
    learner, reference = evaluator.learner_seen, evaluator.reference_seen
    format_stage(problem, failing, learner, reference, tol, stages)
    cases = _telling_cases(problem, shown, first, failing)
    every_case = {key: o.case for key, o in outcomes.items()}
    named = param_stage(problem, cases, every_case, learner, reference,
                        _variant_variables(evaluator, outcomes), tol)  # fmt: skip
    kept = [f for f in findings if not (named and f.code == "wrong_param_values")]
    # In the order the answer is made: how it is built, its variables, then its format (a
    # tie in rank keeps this order).
    built = [f for f in kept if f.code not in FORMAT_CODES]
    found = built + named + stages.findings + [f for f in kept if f.code in FORMAT_CODES]
    supported = _supported(stages)
    if any(d.evidence.get("beyond_structure") for d in named):
        supported["wrong_param_values"] = frozenset()  # the structure does not explain it
    if not _explains_output(found):
        printed = fingerprints.identify(evaluator, shown, first)
        if printed is not None and not _contradicted(printed, rubric):
            found.append(printed)
    return found, supported


def _telling_cases(
    problem: Problem, shown: Outcome, first: Outcome, failing: list[Outcome]
) -> list[Case]:
    """The cases the parameter stage compares variants on: the one shown, the plan's first
    failure, its largest, and one with other values (a variant that agrees with the learner
    on seed 0 alone is no match)."""
    chosen = {o.case.key: o.case for o in (shown, first)}
    if failing:
        largest = max(failing, key=lambda o: o.case.size(problem))
        chosen.setdefault(largest.case.key, largest.case)
    values = [i.name for i in problem.value_inputs]
    for outcome in failing:
        seen = {tuple(c.values[n] for n in values) for c in chosen.values()}
        if tuple(outcome.case.values[n] for n in values) not in seen:
            chosen.setdefault(outcome.case.key, outcome.case)
            break
    return list(chosen.values())


def _explains_output(found: list[Diagnostic]) -> bool:
    """Whether a cause a wrong output may follow from is named (or the output's own format
    is): then no fingerprint is needed to say why the numbers differ."""
    causes = set(catalogue.CODES["values_mismatch"].follows_from) | set(FORMAT_CODES)
    return any(d.severity is Severity.ERROR and d.code in causes for d in found)


def _contradicted(named: Diagnostic, rubric: list[RubricResult]) -> bool:
    """A structural fingerprint while the structure items all passed: the recorded structure
    says otherwise."""
    structure = [r for r in rubric if r.check in catalogue.STRUCTURE_CHECKS]
    return (
        catalogue.is_structural(named.code)
        and bool(structure)
        and all(not r.codes for r in structure)
    )


def _supported(stages: Stages) -> dict[str, frozenset[str]]:
    """For a wrong output: when the learner's layer output is the reference's, only a format
    cause explains it; otherwise every declared cause may."""
    if stages.layer_output_right:
        return {"values_mismatch": frozenset((*FORMAT_CODES, "state_between_calls"))}
    return {}
