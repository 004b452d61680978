"""An assignment's report for people, for programs and for Gradescope.

Text: a header with the total, then each problem's section (the ordinary text report, under a
rule naming the problem and its points), then a table of points per problem. JSON: the
``judge.assignment/1`` object. Gradescope: one test per rubric item per problem (its name
prefixed with the problem's), each item's points its share of its problem's points, and the
score out of the assignment's points. The sections reuse ``render.text`` and
``render.gradescope`` unchanged, so a problem reads the same alone or in an assignment; so do
GitHub Classroom's and PrairieLearn's results (``render.classroom``, ``render.prairielearn``).
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from ..render import classroom, gradescope, prairielearn, text
from ..result import Verdict
from .report import AssignmentReport

_STYLE = {Verdict.ACCEPTED: "bold green", Verdict.JUDGE_ERROR: "bold white on red"}


def _head(report: AssignmentReport) -> list[Text]:
    head = Text()
    head.append(str(report.verdict), style=_STYLE.get(report.verdict, "bold red"))
    head.append(
        f"  {report.assignment} · {text.visible(report.submission)} · "
        f"{report.points:g} / {report.max_points:g} points"
    )
    title = f"  {report.title}: " if report.title != report.assignment else "  "
    return [head, Text(f"{title}{report.accepted} of {len(report.parts)} problems accepted")]


def _table(report: AssignmentReport) -> list[Text]:
    """Points per problem, aligned, and the total."""
    width = max([len("total"), *(len(p.problem) for p in report.parts)])
    lines = [Text(""), Text("  points per problem:", style="bold")]
    for part in report.parts:
        mark, colour = ("✓", "green") if part.report.verdict is Verdict.ACCEPTED else ("✗", "red")
        line = Text(f"    {mark} ", style=colour)
        line.append(
            f"{part.problem:<{width}}  {part.points:>6g} / {part.max_points:<6g}  "
            f"{part.report.verdict}"
        )
        lines.append(line)
    total = f"      {'total':<{width}}  {report.points:>6g} / {report.max_points:g}"
    lines.append(Text(total, style="bold"))
    return lines


def build(report: AssignmentReport) -> list[Text]:
    """The report as lines of styled text: header, each problem's section, the table."""
    lines = _head(report)
    for part in report.parts:
        rule = f"── {part.problem} · {part.points:g} / {part.max_points:g} points "
        lines += [Text(""), Text(rule.ljust(72, "─"), style="bold")]
        lines += text.build(part.report)
    return lines + _table(report)


def render_text(report: AssignmentReport, color: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, soft_wrap=True,
        highlight=False, emoji=False,
    )  # fmt: skip
    for line in build(report):
        console.print(line)
    return buffer.getvalue()


def render_json(report: AssignmentReport) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"


# --- a class's feedback ---------------------------------------------------------------------


def feedback_markdown(report: AssignmentReport, student: str) -> str:
    """A student's feedback (``judge batch``): the text report in a fenced block."""
    body = render_text(report).rstrip("\n")
    flat = " ".join(text.visible(student).split())
    shown = re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", flat)
    return (
        f"# Feedback: {report.assignment}\n\n"
        f"Student: {shown} · verdict: {report.verdict} · "
        f"{report.points:g} of {report.max_points:g} points\n\n"
        f"{gradescope.code_block(body)}\n"
    )


def feedback_html(report: AssignmentReport, student: str) -> str:
    """The same feedback as one self-contained HTML page, every piece of learner text escaped."""
    from ..render.feedback import _PAGE

    console = Console(
        file=io.StringIO(), record=True, width=100, force_terminal=True, color_system="standard",
        highlight=False, emoji=False, soft_wrap=True,
    )  # fmt: skip
    for line in build(report):
        console.print(line)
    body = console.export_html(inline_styles=True, code_format="<pre>{code}</pre>")
    return _PAGE.format(
        title=html.escape(f"Feedback: {report.assignment}"),
        student=html.escape(text.visible(student)),
        verdict=html.escape(str(report.verdict)),
        score=report.score,
        body=body,
    )


# --- Gradescope ------------------------------------------------------------------------------


def gradescope_results(
    report: AssignmentReport,
    *,
    visibility: Mapping[str, Mapping[str, str]] | None = None,
    notes: Sequence[str] = (),
    lock: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Gradescope's ``results.json`` for an assignment: the points are the assignment's.

    Args:
        report: the assignment's report.
        visibility: problem -> rubric item id -> Gradescope visibility (default ``visible``).
        notes: lines for the learner above the report.
        lock: the lock's facts, kept in ``extra_data``.
    """
    tests: list[dict[str, Any]] = []
    for part in report.parts:
        shown = (visibility or {}).get(part.problem, {})
        for test in gradescope._tests(part.report, part.max_points, shown):
            tests.append({**test, "name": f"{part.problem}: {test['name']}"})
    later = [t for t in tests if t["visibility"] != "visible"]
    parts = [f"**Note:** {gradescope.escape(note)}" for note in notes]
    if later:
        parts.append(
            f"{len(later)} of {len(tests)} rubric items are shown later, so the full report and "
            "the total are too. Each item shown below says what it found."
        )
    else:  # a note said above (a pick among several files) is not read again below
        said = set(notes)
        unnoted = dataclasses.replace(report, parts=[
            dataclasses.replace(part, report=dataclasses.replace(
                part.report, diagnostics=[d for d in part.report.diagnostics
                                          if d.message not in said]))
            for part in report.parts
        ])  # fmt: skip
        parts.append(gradescope.code_block(render_text(unnoted)))
    extra: dict[str, Any] = {"report": report.to_dict()}
    if lock is not None:
        extra["lock"] = dict(lock)
    return {
        "score": round(report.points, 2),
        "execution_time": math.ceil(report.timing.get("total_s", 0.0)),
        "output": "\n\n".join(parts),
        "output_format": "md",
        "test_output_format": "text",
        "test_name_format": "text",
        "tests": tests,
        "extra_data": extra,
    }


# --- GitHub Classroom and PrairieLearn ----------------------------------------------------------


def classroom_results(report: AssignmentReport) -> dict[str, Any]:
    """GitHub Classroom's ``result`` for an assignment: each problem's items out of its points,
    ``max_score`` the assignment's points (the field rules are ``render.classroom``'s)."""
    command = shlex.join(["judge", "grade", report.submission, "--assignment", report.assignment])
    tests = [
        test
        for part in report.parts
        for test in classroom.tests(part.report, part.max_points, command, f"{part.problem}: ")
    ]
    return {
        "version": 1,
        "status": classroom.status(report.verdict),
        "max_score": report.max_points,
        "tests": tests,
    }


def prairielearn_results(report: AssignmentReport) -> dict[str, Any]:
    """PrairieLearn's ``results.json`` for an assignment: gradable only when every problem's
    grading is (a judge error in one makes the total not the learner's); score the points over
    the assignment's points."""
    graded = all(prairielearn.gradable(part.report) for part in report.parts)
    tests = [
        test
        for part in report.parts
        for test in prairielearn.tests(part.report, graded, part.max_points, f"{part.problem}: ")
    ]
    return {
        "gradable": graded,
        "score": min(1.0, max(0.0, float(report.score))) if graded else 0.0,
        "message": report.summary,
        "output": render_text(report),
        "tests": tests,
    }


FORMATS = ("text", "json", "gradescope", "classroom", "prairielearn")
