"""A notebook's report in its own terms: the lines of a learner's traceback name the notebook's
cell (``cell 3, line 2, in <module>``), never the file the notebook was converted to
(``alice_ipynb.py``), which the learner never wrote and cannot open.

Pure: it reads a Diagnostic and the Submission and runs nothing. Every text it reads is a
worker's reply, bounded there (``grading.replies``); each is scanned once.
"""

from __future__ import annotations

import dataclasses
import re

from .. import wording
from ..result import Diagnostic
from ..submission import Submission

# What a frame of the converted file looks like in a traceback line, in a worker's message
# (``File "a_ipynb.py", line 29, in f``) and in a SyntaxError's (``(a_ipynb.py, line 29)``).
_FRAME = r'(?:File )?"?{name}"?, line (\d+)'


def notebook_import_hint(cell: int) -> str:
    """The hint for a notebook whose cell ``cell`` raised while the notebook was loaded."""
    return (
        f"Cell {cell} raised while the notebook ran: a notebook is run top to bottom when "
        'graded, every code cell, as "Restart and run all" would. Remove or guard the cells '
        'that test or experiment (put them under `if __name__ == "__main__":`, which still runs '
        "them in Jupyter), so that only your definitions run."
    )


def notebook_hint(diagnostic: Diagnostic, cell: int) -> str:
    """The diagnostic's hint, for a notebook's cell ``cell``: a ``.py`` file's generic hint for
    code that raised at import (move it under a ``__main__`` block) is worded for cells."""
    if diagnostic.code == "exception" and diagnostic.hint == wording.hint(
        None, "exception_at_import"
    ):
        return notebook_import_hint(cell)
    return diagnostic.hint


def _pattern(submission: Submission) -> re.Pattern[str]:
    return re.compile(_FRAME.format(name=re.escape(submission.module_filename)))


def in_cell_terms(text: str, submission: Submission) -> str:
    """``text`` with each ``File "<converted file>", line N`` written ``cell C, line M``; a
    line that falls in no cell (none does, each follows its cell's marker) names the file."""

    def cell_line(match: re.Match[str]) -> str:
        where = submission.cell_of_line(int(match.group(1)))
        return f"cell {where[0]}, line {where[1]}" if where else "the notebook"

    return _pattern(submission).sub(cell_line, text)


def _module_cell(trace: list[object], submission: Submission) -> int | None:
    """The cell whose top-level code was running: the first frame of the traceback."""
    for entry in trace:
        match = _pattern(submission).match(str(entry))
        if match:
            where = submission.cell_of_line(int(match.group(1)))
            return where[0] if where else None
    return None


def in_cells(diagnostic: Diagnostic, submission: Submission) -> Diagnostic:
    """The diagnostic with its traceback and messages naming cells, for a notebook; the
    diagnostic itself for a ``.py`` file. For a cell that raised while the notebook was
    loaded, the hint names the cell that ran (a helper it called may be in another cell)."""
    if submission.kind != "ipynb":
        return diagnostic
    evidence = dict(diagnostic.evidence)
    trace = evidence.get("traceback")
    if isinstance(trace, list):
        evidence["traceback"] = [in_cell_terms(str(t), submission) for t in trace]
    if isinstance(evidence.get("message"), str):
        evidence["message"] = in_cell_terms(evidence["message"], submission)
    hint = diagnostic.hint
    located = evidence.get("cell")
    if (
        isinstance(trace, list)
        and isinstance(located, int)
        and hint == notebook_import_hint(located)
    ):
        cell = _module_cell(trace, submission)
        hint = notebook_import_hint(cell) if cell is not None else hint
    message = in_cell_terms(diagnostic.message, submission)
    return dataclasses.replace(diagnostic, message=message, evidence=evidence, hint=hint)
