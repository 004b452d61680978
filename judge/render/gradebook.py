"""The gradebook: one CSV row per student, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

COLUMNS = (
    "student",
    "verdict",
    "score",
    "codes",
    "duration_s",
    "sha256",
    "submission",
    "summary",
    "feedback",
    "finished_at",
    "problem",
    "problem_version",
    "judge_version",
    "sandbox",  # the isolation the student's code ran under (added in 0.2)
)


# Then one column per rubric item, ``rubric:<id>``: the points the student earned on it. An
# assignment's gradebook (``judge batch --assignment``) has instead ``points`` (the total),
# ``max_points``, one ``points:<problem>`` per problem and ``rubric:<problem>/<id>`` per item.
RUBRIC_PREFIX = "rubric:"
POINTS_PREFIX = "points:"


def render(rows: Iterable[Mapping[str, str]]) -> str:
    """The CSV text: a header of ``COLUMNS`` and the other columns the rows have (rubric items,
    an assignment's points; in the order first met), then the rows sorted by student.

    Each row maps every column to its text; a column missing from a row is left empty.
    """
    rows = list(rows)
    items = [c for row in rows for c in row if c not in COLUMNS]
    columns = [*COLUMNS, *dict.fromkeys(items)]
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, lineterminator="\n", quoting=csv.QUOTE_ALL, restval=""
    )
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r["student"]):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text. File names are learners': a line break in one must
    not start a new row, and a cell starting (after blanks) with = + - @ is a formula."""
    flat = "".join(c if c.isprintable() else " " for c in value)
    return "'" + flat if flat.lstrip()[:1] in _FORMULA_STARTS else flat
