"""A judge_error is never a number: which results have no real grading, and the line naming them.

A ``judge_error`` is the judge's fault, never the learner's: its score is no grade at all. The
gradebook and every LMS export leave that cell empty, the summary leaves it out of the mean,
median and histogram, and ``judge batch`` and ``judge export`` name those students on stderr.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ..render.text import visible
from ..result import Verdict


class _Graded(Protocol):
    @property
    def student(self) -> str: ...

    @property
    def score(self) -> float | None: ...


def score_of(report: Mapping[str, Any]) -> float | None:
    """The report's score (0..1), or None when it has no real grading: a ``judge_error``, or
    no numeric score at all."""
    if report.get("verdict") == str(Verdict.JUDGE_ERROR):
        return None
    value = report.get("score")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def no_grade(records: Iterable[_Graded]) -> list[str]:
    """The students with no grade, sorted."""
    return sorted(r.student for r in records if r.score is None)


def no_grade_line(records: Iterable[_Graded]) -> str | None:
    """The stderr line that names the students with no grade, or None when every one has one."""
    names = no_grade(records)
    if not names:
        return None
    have = "1 student has" if len(names) == 1 else f"{len(names)} students have"
    shown = ", ".join(visible(n) for n in names)
    return f"judge: {have} no grade (judge_error): {shown} — see their feedback"
