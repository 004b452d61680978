"""``decide``: verdict, root causes, consequences and score from facts alone, as a table."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge import catalogue
from judge.decide import CaseCounts, Facts, decide, rank
from judge.result import Diagnostic, RubricResult, Severity, Verdict

COUNTS = CaseCounts(planned=4, informative_run=4, informative_passed=2, run=4)


def error(code: str) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, f"{code} found")


def item(ident: str, passed: bool, weight: float = 0.5, required: bool = True) -> dict[str, Any]:
    return {"id": ident, "check": "transform", "weight": weight, "required": required,
            "passed": passed, "score": weight if passed else 0.0, "codes": [],
            "blocked_by": []}  # fmt: skip


# (failure, explained, findings, supported, rubric) ->
#   (verdict, root causes in order, {consequence: its causes}, score)
TABLE: list[tuple[Any, ...]] = [
    # everything passed, every item earned
    (None, [], [], {}, [item("a", True), item("b", True)], Verdict.ACCEPTED, [], {}, 1.0),
    # every case passed, a required item failed: the structure decides
    (
        None,
        [],
        ["unused_nn_vmap"],
        {},
        [item("a", True), item("b", False)],
        Verdict.WRONG_ANSWER,
        ["unused_nn_vmap"],
        {},
        0.5,
    ),
    # a lone symptom stays a root cause: nothing names why the numbers differ
    (
        "mismatch",
        ["values_mismatch"],
        [],
        {},
        [item("a", True), item("b", True)],
        Verdict.WRONG_ANSWER,
        ["values_mismatch"],
        {},
        1.0,
    ),
    # a declared cause present: the symptom follows from it
    (
        "mismatch",
        ["values_mismatch"],
        ["ensemble_params"],
        {},
        [item("a", False)],
        Verdict.WRONG_ANSWER,
        ["ensemble_params"],
        {"values_mismatch": ["ensemble_params"]},
        0.0,
    ),
    # two independent mistakes: two root causes, the symptom follows from both
    (
        "mismatch",
        ["values_mismatch"],
        ["wrong_flatten_order", "ignores_seed"],
        {},
        [],
        Verdict.WRONG_ANSWER,
        ["wrong_flatten_order", "ignores_seed"],
        {"values_mismatch": ["wrong_flatten_order", "ignores_seed"]},
        0.5,
    ),
    # a present cause that is not declared for the symptom: not its consequence
    (
        "mismatch",
        ["wrong_param_values"],
        ["not_flattened"],
        {},
        [],
        Verdict.WRONG_ANSWER,
        ["not_flattened", "wrong_param_values"],
        {},
        0.5,
    ),
    # declared, but the facts allow only format causes (the layer's output was right)
    (
        "mismatch",
        ["values_mismatch"],
        ["ensemble_params"],
        {"values_mismatch": frozenset({"wrong_flatten_order"})},
        [],
        Verdict.WRONG_ANSWER,
        ["ensemble_params", "values_mismatch"],
        {},
        0.5,
    ),
    # a crash decides and is shown first; the structure's findings stay beside it
    (
        "exception",
        ["missing_rng"],
        ["split_rngs"],
        {},
        [item("a", False)],
        Verdict.RUNTIME_ERROR,
        ["missing_rng", "split_rngs"],
        {},
        0.0,
    ),
    ("timeout", ["timeout"], [], {}, [], Verdict.TIME_LIMIT_EXCEEDED, ["timeout"], {}, 0.5),
    (
        "memory",
        ["memory_limit"],
        [],
        {},
        [],
        Verdict.MEMORY_LIMIT_EXCEEDED,
        ["memory_limit"],
        {},
        0.5,
    ),
]


@pytest.mark.parametrize(
    ("failure", "explained", "findings", "supported", "rubric", "verdict", "roots", "follows",
     "score"),
    TABLE,
)  # fmt: skip
def test_the_table(
    failure: str | None,
    explained: list[str],
    findings: list[str],
    supported: dict[str, frozenset[str]],
    rubric: list[dict[str, Any]],
    verdict: Verdict,
    roots: list[str],
    follows: dict[str, list[str]],
    score: float,
) -> None:
    items = [RubricResult.from_dict(r) for r in rubric]
    facts = Facts(failure, [error(c) for c in explained], [error(c) for c in findings], items,
                  COUNTS, supported)  # fmt: skip
    decision = decide(facts)
    assert decision.verdict is verdict
    errors = [d for d in decision.diagnostics if d.severity is Severity.ERROR]
    assert [d.code for d in errors] == roots
    marked = {
        d.code: d.evidence["consequences_of"]
        for d in decision.diagnostics
        if "consequences_of" in d.evidence
    }
    assert marked == follows
    for code, causes in marked.items():
        entry = catalogue.CODES[code]
        assert set(causes) <= set(entry.follows_from)  # only declared links
    assert decision.score == score


def test_rank_merges_one_code_and_keeps_the_error_over_a_note() -> None:
    note = Diagnostic("wrong_output_dtype", Severity.WARNING, "float64")
    again = Diagnostic("wrong_output_dtype", Severity.ERROR, "float16")
    (only,) = rank([note, again])
    assert only.severity is Severity.ERROR and only.message == "float16"


CODES = sorted(c for c, e in catalogue.CODES.items() if e.family not in ("submission", "judge"))


@given(st.lists(st.sampled_from(CODES), unique=True, max_size=6))
def test_every_error_is_a_root_cause_or_a_supported_consequence(codes: list[str]) -> None:
    """The principles as a property: nothing is lost (every code is still there), a code is a
    consequence only of a root cause present whose link the catalogue declares, and a root
    cause is never itself a consequence."""
    ranked = rank([error(c) for c in codes])
    assert sorted(d.code for d in ranked) == sorted(codes)
    roots = {d.code for d in ranked if d.severity is Severity.ERROR}
    for d in ranked:
        if d.severity is Severity.INFO:
            assert set(d.evidence["consequences_of"]) <= roots
            assert set(d.evidence["consequences_of"]) <= set(catalogue.CODES[d.code].follows_from)
