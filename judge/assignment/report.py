"""The report of one file graded against an assignment: the public ``judge.assignment/1`` JSON.

A new document beside ``judge.report/1``, not a change to it: each problem's section embeds the
ordinary ``judge.report/1`` object of that problem's grading, so every tool that reads one
report reads each section. Plain data, no I/O.

Verdict and exit code over the whole assignment, by the rule of ``judge grade``: ``accepted``
(exit 0) when every problem is accepted; ``judge_error`` (exit 3) when any problem's grading
was the judge's fault, since the total is then not the learner's; otherwise (exit 1) the
verdict of the first problem, in the assignment's order, that was not accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..result import Report, Verdict

ASSIGNMENT_SCHEMA = "judge.assignment/1"


@dataclass
class PartReport:
    """One problem's section: its points and its own report."""

    problem: str
    entry_point: str
    max_points: float
    report: Report

    @property
    def points(self) -> float:
        """The points earned: the problem's score times its points (never more than them)."""
        return round(min(self.max_points, self.max_points * self.report.score), 4)

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "entry_point": self.entry_point,
            "verdict": str(self.report.verdict),
            "points": self.points,
            "max_points": self.max_points,
            "report": self.report.to_dict(),
        }


@dataclass
class AssignmentReport:
    """One file graded against every problem of an assignment; ``to_dict`` is the JSON."""

    assignment: str
    title: str
    submission: str
    parts: list[PartReport]
    timing: dict[str, float] = field(default_factory=lambda: {"total_s": 0.0})

    @property
    def points(self) -> float:
        return round(sum(part.points for part in self.parts), 4)

    @property
    def max_points(self) -> float:
        return round(sum(part.max_points for part in self.parts), 4)

    @property
    def score(self) -> float:
        """The points earned over the assignment's points: 0..1, as a report's score is."""
        return round(self.points / self.max_points, 6) if self.max_points else 0.0

    @property
    def verdict(self) -> Verdict:
        verdicts = [part.report.verdict for part in self.parts]
        if Verdict.JUDGE_ERROR in verdicts:
            return Verdict.JUDGE_ERROR
        return next((v for v in verdicts if v is not Verdict.ACCEPTED), Verdict.ACCEPTED)

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    @property
    def accepted(self) -> int:
        return sum(part.report.verdict is Verdict.ACCEPTED for part in self.parts)

    @property
    def summary(self) -> str:
        return (
            f"{self.verdict}: {self.points:g} of {self.max_points:g} points; "
            f"{self.accepted} of {len(self.parts)} problems accepted"
        )

    @property
    def environment(self) -> dict[str, Any]:
        """Where it was graded: the first problem's grading that says (all share one)."""
        return next((dict(p.report.environment) for p in self.parts if p.report.environment), {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": ASSIGNMENT_SCHEMA,
            "assignment": self.assignment,
            "title": self.title,
            "submission": self.submission,
            "verdict": str(self.verdict),
            "score": self.score,
            "points": self.points,
            "max_points": self.max_points,
            "summary": self.summary,
            "problems": [part.to_dict() for part in self.parts],
            "environment": self.environment,
            "timing": {k: round(v, 4) for k, v in self.timing.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssignmentReport:
        """The report back from its JSON (a batch's reports.jsonl); the inverse of ``to_dict``."""
        return cls(
            assignment=str(data.get("assignment", "")),
            title=str(data.get("title", "")),
            submission=str(data.get("submission", "")),
            parts=[
                PartReport(
                    problem=str(part.get("problem", "")),
                    entry_point=str(part.get("entry_point", "")),
                    max_points=float(part.get("max_points") or 0.0),
                    report=Report.from_dict(part["report"]),
                )
                for part in data.get("problems") or []
            ],
            timing={k: float(v) for k, v in (data.get("timing") or {}).items()},
        )


def is_assignment(data: dict[str, Any]) -> bool:
    """Whether a stored JSON object is an assignment report (else a ``judge.report/1``)."""
    return data.get("schema") == ASSIGNMENT_SCHEMA
