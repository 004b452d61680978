"""A class graded against an assignment: what a stored ``judge.assignment/1`` record shows.

``store.Record`` holds either report; for an assignment's it asks here for its gradebook columns
(the total, then the points of each problem and of each rubric item), its summary row (each
problem as an item that passes when accepted; pitfalls from every problem, root cause first)
and its feedback (the assignment's text report). The stored line is the truth, as for a
problem's record, so a rerun reuses and ``judge merge`` combines these records unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..assignment.render import feedback_html as _page
from ..assignment.render import feedback_markdown as _markdown
from ..assignment.report import AssignmentReport, is_assignment
from ..candidates import student_name, student_view
from ..render import gradebook as gradebook_render
from ..render import summary as summary_render
from ..result import Verdict

if TYPE_CHECKING:
    from .store import Record


def _report(record: Record) -> AssignmentReport:
    return AssignmentReport.from_dict(record.report)


def codes(record: Record) -> list[str]:
    """Every problem's codes, each as ``problem:code``, in the assignment's order."""
    return [
        f"{part.problem}:{d.code}"
        for part in _report(record).parts
        for d in part.report.diagnostics
    ]


def gradebook_columns(record: Record) -> dict[str, str]:
    """``points``, ``max_points``, ``points:<problem>`` each, ``rubric:<problem>/<id>`` each
    (in points too: the rows of a class add up, whatever the rubric's weights). A judge_error
    is no grade: the total, and that problem's points and items, are left empty."""
    report = _report(record)
    total = "" if record.score is None else f"{report.points:g}"
    columns = {"points": total, "max_points": f"{report.max_points:g}"}
    for part in report.parts:
        graded = part.report.verdict is not Verdict.JUDGE_ERROR
        columns[f"{gradebook_render.POINTS_PREFIX}{part.problem}"] = (
            f"{part.points:g}" if graded else ""
        )
    for part in report.parts:  # each item's points: its share of its problem's, by weight
        if part.report.verdict is Verdict.JUDGE_ERROR:
            continue
        weights = sum(i.weight for i in part.report.rubric) or 1.0
        for item in part.report.rubric:
            key = f"{gradebook_render.RUBRIC_PREFIX}{part.problem}/{item.id}"
            columns[key] = f"{round(part.max_points * item.score / weights, 4):g}"
    return columns


def summary_row(record: Record) -> summary_render.Row:
    """The summary's row: pitfalls of every problem (plain codes, so the page words them),
    the root cause that of the first problem not accepted; each problem a rubric line."""
    report = _report(record)
    pitfalls: list[str] = []
    root_message = ""
    for part in report.parts:
        errors = [d for d in part.report.diagnostics if str(d.severity) == "error"]
        if errors and not root_message and part.report.verdict is not Verdict.ACCEPTED:
            root_message = f"{part.problem}: {errors[0].message}"[:300]
            pitfalls.insert(0, errors[0].code)
        pitfalls += [d.code for d in part.report.diagnostics if str(d.severity) != "info"]
    unique = tuple(dict.fromkeys(pitfalls))
    return summary_render.Row(
        student=record.student,
        verdict=record.verdict,
        score=record.score,
        duration_s=record.duration_s,
        codes=unique,
        root_cause=unique[0] if unique else None,
        summary=report.summary,
        feedback=record.feedback_page,
        root_message=root_message,
        rubric=tuple(
            (
                part.problem,
                f"{part.problem} accepted ({part.max_points:g} points)",
                part.report.verdict is Verdict.ACCEPTED,
            )
            for part in report.parts
        ),
    )


def problem_means(records: Sequence[Record]) -> list[tuple[str, str]]:
    """The summary's facts for an assignment's class: each problem's mean points, and the
    total's; none for a problem's class. A judge_error counts in neither (it is no grade)."""
    reports = [_report(r) for r in records if is_assignment(r.report)]
    if not reports:
        return []
    sums: dict[str, list[float]] = {}
    for report in reports:
        for part in report.parts:
            kept = sums.setdefault(part.problem, [0.0, part.max_points, 0])
            if part.report.verdict is not Verdict.JUDGE_ERROR:
                kept[0] += part.points
                kept[2] += 1
    facts = [
        (f"{name} (mean points)", f"{total / n:.2f} of {most:g}" if n else "-")
        for name, (total, most, n) in sums.items()
    ]
    graded = [r for r in reports if r.verdict is not Verdict.JUDGE_ERROR]
    mean_total = f"{sum(r.points for r in graded) / len(graded):.2f}" if graded else "-"
    facts.append(("total (mean points)", f"{mean_total} of {reports[0].max_points:g}"))
    return facts


def _student_view(record: Record) -> AssignmentReport:
    """The record's report as its student may read it: each part through
    ``candidates.student_view`` (their own name for the file, no class path)."""
    report = _report(record)
    report.submission = student_name(report.submission, record.student)
    for part in report.parts:
        part.report = student_view(part.report, record.student)
    return report


def feedback_markdown(record: Record) -> str:
    return _markdown(_student_view(record), record.student)


def feedback_html(record: Record) -> str:
    return _page(_student_view(record), record.student)
