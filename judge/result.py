"""Plain data for outcomes: verdicts, diagnostics, mismatches and the report. No I/O here.

The report's dictionary form (``Report.to_dict``) is the public JSON schema ``judge.report/1``;
its keys and the exit codes below change only with a schema version bump and a CHANGELOG note.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA = "judge.report/1"


class Verdict(StrEnum):
    """What the judge concluded about a submission. Exactly one per report."""

    ACCEPTED = "accepted"
    WRONG_ANSWER = "wrong_answer"
    RUNTIME_ERROR = "runtime_error"
    TIME_LIMIT_EXCEEDED = "time_limit_exceeded"
    MEMORY_LIMIT_EXCEEDED = "memory_limit_exceeded"
    COMPILE_ERROR = "compile_error"
    JUDGE_ERROR = "judge_error"

    @property
    def exit_code(self) -> int:
        """0 accepted, 1 any other learner verdict, 3 the judge's own fault (2 is usage)."""
        if self is Verdict.ACCEPTED:
            return EXIT_ACCEPTED
        if self is Verdict.JUDGE_ERROR:
            return EXIT_JUDGE_ERROR
        return EXIT_REJECTED


EXIT_ACCEPTED = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_JUDGE_ERROR = 3


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Mismatch:
    """Why one output differs from the expected one, as found by ``compare``.

    ``code`` is a stable diagnostic code (``values_mismatch``, ``wrong_output_shape``, ...);
    ``evidence`` holds plain JSON values (numbers, lists, strings).
    """

    code: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnostic:
    """One finding for the learner: what they did, how to fix it, and the evidence."""

    code: str
    severity: Severity
    message: str
    hint: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class FailingCase:
    """The smallest failing case found, in JSON-ready form, with a line to paste into Python."""

    index: int
    inputs: dict[str, Any]
    expected: dict[str, Any] | None
    got: dict[str, Any] | None
    mismatch: dict[str, Any] | None
    reproducer: str
    shrink_steps: int = 0
    # Confirmation in a fresh learner process (additive in judge.report/1): whether the failure
    # happened again there (None: not tried, as with --no-shrink), and the calls the sequence
    # shown made first (inputs, as ``inputs``); the reproducer makes the same calls.
    fresh_process: bool | None = None
    earlier_calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RubricResult:
    """One rubric item as graded: the report's ``rubric`` entries (``judge.report/1``).

    ``passed``: the item's own check passed and nothing it requires failed; ``score``: the
    weight it earned (partial credit included); ``codes``: the diagnostics it stands for;
    ``blocked_by``: the required items that failed; ``partial``: slip -> count, for an
    outputs item's partial credit; ``note``: why it earned what it did, in words.
    """

    id: str
    title: str
    check: str
    weight: float
    required: bool
    passed: bool
    score: float
    codes: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)
    blocked_by: list[str] = field(default_factory=list)
    partial: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RubricResult:
        """From its JSON form; a field an older report lacks takes its default."""
        return cls(
            id=str(data.get("id", "")),
            title=str(data.get("title", data.get("id", ""))),
            check=str(data.get("check", "")),
            weight=float(data.get("weight") or 0.0),
            required=bool(data.get("required", False)),
            passed=bool(data.get("passed", False)),
            score=float(data.get("score") or 0.0),
            codes=[str(c) for c in data.get("codes") or []],
            requires=[str(r) for r in data.get("requires") or []],
            blocked_by=[str(r) for r in data.get("blocked_by") or []],
            partial={str(k): int(v) for k, v in (data.get("partial") or {}).items()},
            note=str(data.get("note", "")),
        )


@dataclass
class Report:
    """Everything one grading produced. ``to_dict`` gives the ``judge.report/1`` JSON object."""

    problem: str
    submission: str
    verdict: Verdict
    score: float
    summary: str
    cases: dict[str, int] = field(default_factory=lambda: {"run": 0, "passed": 0, "seed": 0})
    failing_case: FailingCase | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    output: dict[str, Any] = field(
        default_factory=lambda: {"stdout": "", "stderr": "", "truncated": False}
    )
    environment: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=lambda: {"total_s": 0.0})
    rubric: list[RubricResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """A Report back from its ``judge.report/1`` form (a batch's reports.jsonl), to render
        it again or merge it; the inverse of ``to_dict``."""
        failing = data.get("failing_case")
        return cls(
            problem=str(data.get("problem", "")),
            submission=str(data.get("submission", "")),
            verdict=Verdict(data["verdict"]),
            score=float(data.get("score") or 0.0),
            summary=str(data.get("summary", "")),
            cases=dict(data.get("cases") or {}),
            failing_case=FailingCase(**failing) if isinstance(failing, dict) else None,
            diagnostics=[
                Diagnostic(
                    str(d.get("code")),
                    Severity(d.get("severity", "error")),
                    str(d.get("message", "")),
                    str(d.get("hint", "")),
                    dict(d.get("evidence") or {}),
                )
                for d in data.get("diagnostics") or []
            ],
            output=dict(data.get("output") or {}),
            environment=dict(data.get("environment") or {}),
            timing={k: float(v) for k, v in (data.get("timing") or {}).items()},
            rubric=[RubricResult.from_dict(item) for item in data.get("rubric") or []],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "problem": self.problem,
            "submission": self.submission,
            "verdict": str(self.verdict),
            "score": self.score,
            "summary": self.summary,
            "cases": dict(self.cases),
            "failing_case": asdict(self.failing_case) if self.failing_case else None,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "output": dict(self.output),
            "environment": dict(self.environment),
            "timing": {k: round(v, 4) for k, v in self.timing.items()},
            "rubric": [item.to_dict() for item in self.rubric],
        }
