"""GitHub Classroom's autograding result: the JSON its grading reporter reads, one test per item.

GitHub Classroom's reporter (``classroom-resources/autograding-grading-reporter``) reads, for
each test-runner step, a step output named ``result``: base64 of this JSON. A workflow step
passes it on with::

    echo "result=$(judge grade sol.py --format classroom | base64 -w0)" >> "$GITHUB_OUTPUT"

Field rules (what ``tests/cli/test_platform_formats.py`` validates):

- ``version``: the integer 1.
- ``status``: ``"pass"`` when the verdict is accepted, ``"error"`` for a ``judge_error`` (the
  grading failed, not the learner), else ``"fail"``.
- ``max_score``: the runner's points (``points``, 100 by default; an assignment's own points
  with ``--assignment``), a number > 0.
- ``tests``: a non-empty list, one per rubric item (or one named ``verdict`` when there is no
  rubric: a compile error, a judge error), each with exactly these keys:

  - ``name``: the item's title (a non-empty string); with ``--assignment``, prefixed with the
    problem's name, each problem's items sharing its points;
  - ``status``: ``"pass"`` or ``"fail"`` by whether the item was earned; ``"error"`` on every
    test of a judge error (with ``--assignment``, on every test of the problem it struck);
  - ``score``: the points earned, between 0 and the item's share of ``max_score`` (shares by
    weight, rounded to cents and summing exactly to ``max_score``; the reporter sums the
    tests' scores, so they sum to the judge's score times ``max_score``, to the cent per item:
    every share when accepted, 0 for a judge error);
  - ``message``: what cost the item its points (empty when earned);
  - ``test_code``: the ``judge grade`` command that graded it;
  - ``filename``: the submission; ``line_no``: 0 (an item has no single line);
  - ``execution_time``: the whole grading's time as ``"1.23s"`` (the items share one run).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from ..result import Report, RubricResult, Verdict
from .gradescope import DEFAULT_POINTS, _item_output, _shares


def status(verdict: Verdict) -> str:
    """The whole result's status: pass, error (the judge failed, not the learner) or fail."""
    if verdict is Verdict.ACCEPTED:
        return "pass"
    return "error" if verdict is Verdict.JUDGE_ERROR else "fail"


def _items(report: Report) -> list[RubricResult]:
    """The rubric, or one ``verdict`` item standing for the whole grading when it has none."""
    if report.rubric:
        return report.rubric
    accepted = report.verdict is Verdict.ACCEPTED
    codes = [d.code for d in report.diagnostics]
    return [RubricResult("verdict", "verdict", "verdict", 1.0, True, accepted, report.score, codes)]


def _score(report: Report, item: RubricResult, share: float, per_weight: float) -> float:
    if report.verdict is Verdict.JUDGE_ERROR:
        return 0.0
    if report.verdict is Verdict.ACCEPTED:  # the judge's score is 1.0: every share earned
        return share
    return max(0.0, min(share, round(per_weight * float(item.score), 2)))


def tests(report: Report, points: float, command: str, prefix: str = "") -> list[dict[str, Any]]:
    """One grading's tests out of ``points``: an assignment passes each problem's own share and
    its name as ``prefix``, so each of its tests reads ``"problem: item"``."""
    items = _items(report)
    per_weight = points / (sum(float(i.weight) for i in items) or 1.0)
    seconds = f"{report.timing.get('total_s', 0.0):.2f}s"
    error = report.verdict is Verdict.JUDGE_ERROR
    found = []
    for item, share in zip(items, _shares(items, points), strict=True):
        passed = bool(item.passed)
        found.append(
            {
                "name": f"{prefix}{item.title}",
                "status": "error" if error else ("pass" if passed else "fail"),
                "score": _score(report, item, share, per_weight),
                "message": "" if passed and not error else _item_output(report, item),
                "test_code": command,
                "filename": report.submission,
                "line_no": 0,
                "execution_time": seconds,
            }
        )
    return found


def results(report: Report, *, points: float = DEFAULT_POINTS) -> dict[str, Any]:
    """The ``result`` object of one grading, out of ``points``."""
    command = shlex.join(["judge", "grade", report.submission, "--problem", report.problem])
    return {
        "version": 1,
        "status": status(report.verdict),
        "max_score": points,
        "tests": tests(report, points, command),
    }


def render(report: Report) -> str:
    """``--format classroom``: the result JSON, out of 100 points (base64 it for Classroom)."""
    return json.dumps(results(report), indent=2, allow_nan=False) + "\n"
