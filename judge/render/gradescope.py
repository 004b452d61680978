"""Gradescope's ``results.json``: one test per rubric item, so partial credit shows.

Fields as Gradescope's autograder specification names them: ``score`` (the points earned, out
of the assignment's autograder points, ``points``: 100 unless the bundle says otherwise; there
is no top-level ``max_score`` in the specification, the total is set on the assignment),
``execution_time`` (whole seconds), ``output`` with ``output_format: "md"`` (the text report in a
fenced code block, so its aligned rubric table keeps its columns; Gradescope's default
``simple_format`` collapses them), ``tests`` (``name``, ``score``, ``max_score``, ``status``,
``output`` in plain ``text``, ``visibility`` from the item's ``visibility:`` in problem.yaml) and
``extra_data`` (the judge's report and the lock it ran under; stored, never shown to learners).

When an item is not ``visible``, the top-level ``output`` (which learners always see) leaves the
report out, since it would show that item's result and the total; each test still carries its
own findings, shown when Gradescope shows that test.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..result import Report, RubricResult, Verdict
from . import text

DEFAULT_POINTS = 100.0
_LATER = {
    "after_due_date": "after the due date",
    "after_published": "once grades are published",
    "hidden": "to instructors only",
}


def _shares(rubric: list[RubricResult], points: float) -> list[float]:
    """Each item's points, by weight, rounded to cents and summing exactly to ``points``."""
    total = sum(float(item.weight) for item in rubric) or 1.0
    shares = [round(points * float(item.weight) / total, 2) for item in rubric]
    if shares:
        largest = max(range(len(shares)), key=lambda k: shares[k])
        shares[largest] = round(shares[largest] + points - sum(shares), 2)
    return shares


def _item_output(report: Report, item: RubricResult) -> str:
    """What cost an item its points: its diagnostics, and the failing case for the outputs."""
    messages = {d.code: d for d in report.diagnostics}
    reasons = [
        f"{text.visible(messages[c].message)}\nHint: {messages[c].hint}"
        for c in item.codes
        if c in messages
    ]
    if item.check == "outputs" and not item.passed and report.failing_case:
        reasons.append(f"reproduce: {report.failing_case.reproducer}")
    if item.note:  # not earned for want of an item it requires; or partial credit
        reasons.insert(0, str(item.note))
    if reasons:
        return "\n\n".join(reasons)
    return "" if item.passed else report.summary


def _tests(report: Report, points: float, visibility: Mapping[str, str]) -> list[dict[str, Any]]:
    tests = []
    earned_per_weight = points / (sum(float(i.weight) for i in report.rubric) or 1.0)
    for item, share in zip(report.rubric, _shares(report.rubric, points), strict=True):
        tests.append(
            {
                "name": str(item.title),
                "score": share
                if item.passed
                else min(share, round(earned_per_weight * float(item.score), 2)),
                "max_score": share,
                "status": "passed" if item.passed else "failed",
                "output": _item_output(report, item),
                "visibility": visibility.get(str(item.id), "visible"),
            }
        )
    if not tests:  # no rubric: nothing ran (a compile error) or a judge error
        tests.append(
            {
                "name": "verdict",
                "score": round(points * report.score, 2),
                "max_score": points,
                "status": "passed" if report.verdict is Verdict.ACCEPTED else "failed",
                "output": report.summary,
                "visibility": "visible",
            }
        )
    return tests


def code_block(body: str) -> str:
    """``body`` as a Markdown fenced block that nothing inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body.rstrip()}\n{fence}"


def escape(words: str) -> str:
    """Plain words (a file name, an error) as Markdown that shows them as they are."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", words)


def _notes(notes: Sequence[str]) -> list[str]:
    return [f"**Note:** {escape(note)}" for note in notes]


def _output(report: Report, notes: Sequence[str], tests: list[dict[str, Any]]) -> str:
    parts = _notes(notes)
    later = [t for t in tests if t["visibility"] != "visible"]
    if later:
        when = sorted({_LATER[t["visibility"]] for t in later})
        parts.append(
            f"{len(later)} of {len(tests)} rubric items are shown {' or '.join(when)}, so the "
            "full report and the total are too. Each item shown below says what it found."
        )
    else:
        # A note said above (a pick among several files) is not read twice in the report.
        said = set(notes)
        shown = dataclasses.replace(
            report, diagnostics=[d for d in report.diagnostics if d.message not in said]
        )
        parts.append(code_block(text.render(shown, color=False)))
    return "\n\n".join(parts)


def results(
    report: Report,
    *,
    points: float = DEFAULT_POINTS,
    visibility: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    lock: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``results.json`` object of one grading.

    Args:
        report: the grading's report.
        points: the assignment's autograder points, shared among the rubric items by weight.
        visibility: rubric item id -> Gradescope visibility (default ``visible``).
        notes: lines for the learner above the report (several files qualified, ...).
        lock: the lock's facts (``judge.lock.facts``), kept in ``extra_data``.
    """
    tests = _tests(report, points, visibility or {})
    extra: dict[str, Any] = {"report": report.to_dict()}
    if lock is not None:
        extra["lock"] = dict(lock)
    return {
        "score": round(points * report.score, 2),
        "execution_time": math.ceil(report.timing.get("total_s", 0.0)),
        "output": _output(report, notes, tests),
        "output_format": "md",
        "test_output_format": "text",
        "test_name_format": "text",
        "tests": tests,
        "extra_data": extra,
    }


def failure(
    message: str, *, notes: Sequence[str] = (), extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``results.json`` when nothing could be graded: no score, and the reason in words."""
    return {
        "score": 0.0,
        "execution_time": 0,
        "output": "\n\n".join([*_notes(notes), escape(message)]),
        "output_format": "md",
        "tests": [],
        "extra_data": dict(extra or {}),
    }


def dumps(results_json: Mapping[str, Any]) -> str:
    return json.dumps(results_json, indent=2, allow_nan=False) + "\n"


def render(report: Report) -> str:
    """``--format gradescope`` with the defaults: 100 points, every item visible."""
    return dumps(results(report))
