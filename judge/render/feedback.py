"""A learner's feedback file: the text report in a fenced Markdown block under a short heading."""

from __future__ import annotations

import re

from ..result import Report
from . import text


def render(report: Report, student: str) -> str:
    """The feedback of ``student``, whose result is ``report``; Markdown, without colour."""
    body = text.render(report, color=False).rstrip("\n")
    # The fence is longer than any run of backticks in the report, so none can close it.
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return (
        f"# Feedback: {report.problem}\n\n"
        f"Student: {student} · verdict: {report.verdict} · score {report.score:.2f}\n\n"
        f"{fence}text\n{body}\n{fence}\n"
    )
