"""A class's grades in a form an LMS imports: Canvas's gradebook CSV, or a plain CSV.

A roster maps the judge's student ids (the submission file or folder names) to the LMS's own:
a CSV file with a ``file_id`` column, plus, for Canvas, the columns its gradebook export has
(``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``). Points are the score
times the assignment's points. Every student of the roster gets a row (an empty grade when
the judge has no result for them, or no grade: a judge_error is never a number); results with
no roster entry are returned apart, to be reported, never silently dropped. A roster copied
from a Canvas export may hold its ``Points Possible`` row: it is dropped (the export writes its
own). To update an existing Canvas assignment, the grade column must be named as Canvas names
it: ``Name (Canvas id)``, for example ``Homework 3 (123456)``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from .gradebook import _cell

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
FORMATS = ("canvas", "csv")


def read_roster(text: str) -> list[dict[str, str]]:
    """The roster's rows; raises ValueError naming what is missing."""
    rows = [r for r in csv.DictReader(io.StringIO(text)) if not _points_possible(r)]
    if not rows:
        raise ValueError("the roster has no rows")
    if "file_id" not in rows[0]:
        raise ValueError("the roster has no file_id column (the judge's student ids)")
    return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in rows]


def _points_possible(row: Mapping[str | None, object]) -> bool:
    """Canvas's own ``Points Possible`` row (under the header of its gradebook export), in its
    ``Student`` column or, when a ``file_id`` column was put first, in that one."""
    first = [row.get("Student"), row.get("file_id")]
    return any(isinstance(v, str) and v.strip().lower() == "points possible" for v in first)


def export(
    kind: str,
    scores: Mapping[str, float | None],
    roster: Sequence[Mapping[str, str]],
    points: float,
    assignment: str,
) -> tuple[str, list[str]]:
    """The CSV text, and the judge's students the roster does not name. A score of None (no
    grade: a judge_error) is an empty cell, as is a roster student with no result."""
    rows = [dict(r) for r in roster]
    known = {r["file_id"] for r in rows}
    unmatched = sorted(s for s in scores if s not in known)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    if kind == "canvas":
        writer.writerow([*CANVAS_COLUMNS, assignment])
        writer.writerow(["Points Possible", "", "", "", "", f"{points:g}"])
        for row in rows:
            writer.writerow(
                [_cell(row.get(c, "")) for c in CANVAS_COLUMNS]
                + [_grade(scores.get(row["file_id"]), points)]
            )
    elif kind == "csv":
        writer.writerow(["file_id", "lms_id", "points", "points_possible"])
        for row in rows:
            lms_id = row.get("lms_id") or row.get("ID") or row.get("SIS User ID") or ""
            grade = _grade(scores.get(row["file_id"]), points)
            writer.writerow([_cell(row["file_id"]), _cell(lms_id), grade, f"{points:g}"])
    else:
        raise ValueError(f"unknown format {kind!r}; expected one of {', '.join(FORMATS)}")
    return buffer.getvalue(), unmatched


def _grade(score: float | None, points: float) -> str:
    return "" if score is None else f"{round(score * points, 2):g}"
