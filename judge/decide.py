"""The verdict, the root causes, their consequences and the score: one pure function of the
facts a grading collected (as DOMjudge's ``determineVerdict``), tested as a table.

Rules:

- the verdict is the first failure's (``catalogue.FAILURES``); with every case passed, a
  required rubric item that failed makes it a wrong answer, else it is accepted;
- every independent mistake is its own root cause: the diagnostics are ordered by the
  catalogue's rank, one per code;
- a diagnostic is marked a consequence of another only where the catalogue declares the link
  (``Code.follows_from``) *and* this file's facts support it (``Facts.supported``: for a code,
  the causes its facts allow; a code absent from it allows every declared one);
- a crash, a timeout or a limit decides the verdict; its failure is shown first, and what the
  structure checks found stays in the report beside it (the rubric holds it too);
- the score is 1.0 when accepted, else the rubric's weighted sum (or the informative cases
  passed, for a problem without a rubric).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import catalogue
from .result import Diagnostic, RubricResult, Severity, Verdict


@dataclass(frozen=True)
class CaseCounts:
    """The cases a grading ran, for the score of a problem without a rubric."""

    planned: int
    informative_run: int = 0
    informative_passed: int = 0
    run: int = 0


@dataclass(frozen=True)
class Facts:
    """What a grading collected, before anything is decided."""

    failure: str | None  # the kind of the first failing case in plan order; None: all passed
    explained: list[Diagnostic]  # that failure in words (empty when all passed)
    findings: list[Diagnostic]  # structure, parameter and format stages; warnings; notes
    rubric: list[RubricResult]
    counts: CaseCounts
    supported: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    diagnostics: list[Diagnostic]
    score: float


def decide(facts: Facts) -> Decision:
    """The verdict, the diagnostics in order (root causes first, consequences marked) and the
    score, from the facts alone."""
    verdict = _verdict(facts)
    if verdict in (Verdict.ACCEPTED, Verdict.WRONG_ANSWER):
        diagnostics = rank(facts.explained + facts.findings, facts.supported)
    else:
        diagnostics = rank(facts.explained, {}) + [
            d for d in rank(facts.findings, {}) if d.code not in {e.code for e in facts.explained}
        ]
    return Decision(verdict, diagnostics, score(verdict, facts.rubric, facts.counts))


def _verdict(facts: Facts) -> Verdict:
    if facts.failure is not None:
        return catalogue.FAILURES[facts.failure].verdict
    failed = [r for r in facts.rubric if r.required and not r.passed]
    return Verdict.WRONG_ANSWER if failed else Verdict.ACCEPTED


def _rank_of(diagnostic: Diagnostic) -> int:
    if diagnostic.severity is not Severity.ERROR:
        return catalogue.NOTE
    return catalogue.rank(diagnostic.code)


def rank(
    diagnostics: list[Diagnostic], supported: dict[str, frozenset[str]] | None = None
) -> list[Diagnostic]:
    """Root causes first, one diagnostic per code (the others' messages in its ``also``), and
    each symptom whose declared and supported cause is present marked as its consequence."""
    merged: dict[str, Diagnostic] = {}
    for diagnostic in diagnostics:
        first = merged.get(diagnostic.code)
        if first is None:
            merged[diagnostic.code] = diagnostic
        elif diagnostic.severity is Severity.ERROR and first.severity is not Severity.ERROR:
            merged[diagnostic.code] = diagnostic  # the error is the finding; a note is not
        else:
            also = [*first.evidence.get("also", []), diagnostic.message]
            merged[diagnostic.code] = dataclasses.replace(
                first, evidence={**first.evidence, "also": also}
            )
    ordered = sorted(merged.values(), key=_rank_of)  # stable: equal ranks keep their order
    roots: list[str] = []  # errors met so far that are no one's consequence
    out = []
    for diagnostic in ordered:
        marked = _as_consequence(diagnostic, roots, supported or {})
        if marked.severity is Severity.ERROR:
            roots.append(marked.code)
        out.append(marked)
    return out


def _as_consequence(
    diagnostic: Diagnostic, causes: list[str], supported: dict[str, frozenset[str]]
) -> Diagnostic:
    entry = catalogue.CODES.get(diagnostic.code)
    if entry is None or not entry.follows_from or diagnostic.severity is not Severity.ERROR:
        return diagnostic
    allowed = supported.get(diagnostic.code)
    found = [
        c
        for c in causes
        if c != diagnostic.code and c in entry.follows_from and (allowed is None or c in allowed)
    ]
    if not found:
        return diagnostic
    return dataclasses.replace(
        diagnostic,
        severity=Severity.INFO,
        message=f"{diagnostic.message} (a consequence of {' and '.join(found)})",
        evidence={**diagnostic.evidence, "consequence_of": found[0], "consequences_of": found},
    )


def score(verdict: Verdict, rubric: list[RubricResult], counts: CaseCounts) -> float:
    """1.0 when accepted; else the rubric's weighted sum, or the informative cases passed."""
    if verdict is Verdict.ACCEPTED:
        return 1.0
    total_weight = sum(item.weight for item in rubric)
    if rubric and total_weight:
        return round(sum(item.score for item in rubric) / total_weight, 4)
    not_run = counts.planned - counts.run
    if counts.informative_run + not_run:
        return round(counts.informative_passed / (counts.informative_run + not_run), 4)
    return 0.0
