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
)


def render(rows: Iterable[Mapping[str, str]]) -> str:
    """The CSV text: a header of ``COLUMNS``, then the rows sorted by student.

    Each row maps every column to its text; a column missing from a row is left empty.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r["student"]):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet; file names are learners'.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
