"""Gradescope's ``results.json``: one test per rubric item, so partial credit shows.

Points: ``max_score`` is 100, shared among the rubric items by weight.
"""

from __future__ import annotations

import json

from ..result import Report, Verdict
from . import text

MAX_SCORE = 100.0


def render(report: Report) -> str:
    total_weight = sum(float(item["weight"]) for item in report.rubric) or 1.0
    messages = {d.code: d for d in report.diagnostics}
    tests = []
    for item in report.rubric:
        max_score = round(MAX_SCORE * float(item["weight"]) / total_weight, 2)
        reasons = [
            f"{messages[c].message}\nHint: {messages[c].hint}"
            for c in item.get("codes", [])
            if c in messages
        ]
        tests.append(
            {
                "name": str(item["title"]),
                "score": round(MAX_SCORE * float(item["score"]) / total_weight, 2),
                "max_score": max_score,
                "status": "passed" if item["passed"] else "failed",
                "output": "\n\n".join(reasons)
                if reasons
                else ("" if item["passed"] else report.summary),
                "visibility": "visible",
            }
        )
    if not tests:  # no rubric: nothing ran (a compile error) or a judge error
        tests.append(
            {
                "name": "verdict",
                "score": MAX_SCORE * report.score,
                "max_score": MAX_SCORE,
                "status": "passed" if report.verdict is Verdict.ACCEPTED else "failed",
                "output": report.summary,
                "visibility": "visible",
            }
        )
    results = {
        "score": round(MAX_SCORE * report.score, 2),
        "max_score": MAX_SCORE,
        "output": text.render(report, color=False),
        "execution_time": round(report.timing.get("total_s", 0.0), 3),
        "visibility": "visible",
        "stdout_visibility": "visible",
        "tests": tests,
    }
    return json.dumps(results, indent=2, allow_nan=False) + "\n"
