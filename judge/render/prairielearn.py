"""PrairieLearn's external-grader ``results.json``: a score in [0, 1] and one test per item.

PrairieLearn's external grader runs a course image with the learner's files in
``/grade/student`` and reads ``/grade/results/results.json``; ``bundle_scripts/
prairielearn_grade.sh`` is an entry script that always writes it.

Field rules (what ``tests/cli/test_platform_formats.py`` validates):

- ``gradable``: a bool; ``false`` when the grading failed and not the learner (a
  ``judge_error``) or the submission could not be read (``unreadable_submission``), so
  PrairieLearn neither counts the attempt nor records a score; else ``true``.
- ``score``: the judge's score, a float in [0, 1] (0.0 when not gradable).
- ``message``: the one-line summary; ``output``: the plain text report (no colour).
- ``tests``: a list, one per rubric item (or one named ``verdict`` when there is no rubric),
  each with exactly ``name`` (the item's title), ``points`` (earned, between 0 and
  ``max_points``), ``max_points`` (the item's share of 100 points by weight, the shares summing
  exactly to 100; with ``--assignment``, each problem's share of its own points, the names
  prefixed with the problem's), ``message`` (``"passed"`` or what first cost it points) and
  ``output`` (everything that cost it points; empty when earned). Every ``points`` is 0 when
  not gradable.
"""

from __future__ import annotations

import json
from typing import Any

from ..result import Report, Verdict
from . import text
from .classroom import _items, _score
from .gradescope import DEFAULT_POINTS, _item_output, _shares

UNGRADABLE_CODES = frozenset({"unreadable_submission"})


def gradable(report: Report) -> bool:
    """Whether the learner's attempt was graded: not a judge error, nor an unreadable file."""
    if report.verdict is Verdict.JUDGE_ERROR:
        return False
    return not any(d.code in UNGRADABLE_CODES for d in report.diagnostics)


def tests(
    report: Report, graded: bool, points: float = DEFAULT_POINTS, prefix: str = ""
) -> list[dict[str, Any]]:
    """One grading's tests out of ``points``; an assignment passes each problem's points and
    its name as ``prefix``."""
    items = _items(report)
    per_weight = points / (sum(float(i.weight) for i in items) or 1.0)
    found = []
    for item, share in zip(items, _shares(items, points), strict=True):
        passed = bool(item.passed) and graded
        output = "" if passed else _item_output(report, item)
        found.append(
            {
                "name": f"{prefix}{item.title}",
                "points": _score(report, item, share, per_weight) if graded else 0.0,
                "max_points": share,
                "message": "passed" if passed else (output.splitlines() or ["failed"])[0],
                "output": output,
            }
        )
    return found


def results(report: Report) -> dict[str, Any]:
    """The ``results.json`` object of one grading."""
    graded = gradable(report)
    return {
        "gradable": graded,
        "score": min(1.0, max(0.0, float(report.score))) if graded else 0.0,
        "message": report.summary,
        "output": text.render(report, color=False),
        "tests": tests(report, graded),
    }


def failure(message: str) -> dict[str, Any]:
    """``results.json`` when nothing could be graded: not gradable, and the reason in words."""
    return {"gradable": False, "score": 0.0, "message": message, "output": message, "tests": []}


def render(report: Report) -> str:
    """``--format prairielearn``."""
    return json.dumps(results(report), indent=2, allow_nan=False) + "\n"
