"""The code a learner has run in a kernel, as a notebook the judge grades: no code is run here.

The rule (docs/notebooks.md): the cells run so far, in the order they ran, a
cell run twice counted twice, as the kernel ran them; each keeps its execution count as its
cell number, so a report's "notebook cell 4" is ``In [4]``. Left out, each with a note:

- the cell running now, which calls ``judge.check``: the code it checks is the cells before it;
- every cell that calls ``judge.check`` (a top-level statement of it does): it checks, it is
  not the solution, and what it binds (``result = judge.check(...)``) exists only in the kernel;
  so keep the check in a cell of its own;
- IPython-only lines (``%magic``, ``!shell``, ``x = !ls``, ``name?``) and cells under a cell
  magic other than the timing and capture ones, as ``judge grade`` leaves them out of an
  ``.ipynb``;
- top-level ``import judge`` / ``from judge import ...`` lines: the learner's worker has no
  kernel to check in;
- a cell that does not compile: Python ran none of it, so the kernel holds nothing of it.

A cell that *raised* is kept whole: the kernel holds what it defined before the error, and the
grading reruns the cells from the top in a fresh worker, as "Restart and run all" would, so the
same error stops the grading there and the report names that cell (``compile_error``). Left-out
lines are blanked rather than removed, so line numbers within a cell stay the kernel's.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..constants import MAX_SOURCE_BYTES
from ..ipython_lines import PYTHON_CELL_MAGICS, python_line

JUDGE_MODULE = "judge"


@dataclass(frozen=True)
class Cells:
    """The history turned into a gradable notebook, and what was left out and why."""

    notebook: dict
    kept: tuple[int, ...]
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        """The notebook as ``.ipynb`` text: what ``judge.submission.notebook_source`` reads."""
        return json.dumps(self.notebook)


def _ipython_free(text: str) -> str | None:
    """The cell with IPython-only lines blanked; None for a cell under a non-Python cell magic
    (``%%bash``, ``%%writefile``), which holds no Python at all."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%") and not first.startswith(PYTHON_CELL_MAGICS):
        return None
    return "\n".join(python_line(ln) or "" for ln in lines)  # blanked: line numbers stay


def _judge_names(trees: Sequence[ast.Module]) -> tuple[set[str], set[str]]:
    """The names the judge is bound to across the cells: modules (``import judge as j``) and
    its check function (``from judge import check as c``)."""
    modules: set[str] = {JUDGE_MODULE}
    checks: set[str] = set()
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == JUDGE_MODULE:
                        modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module == JUDGE_MODULE:
                checks.update(a.asname or a.name for a in node.names if a.name == "check")
    return modules, checks


def _is_judges(node: ast.stmt, modules: set[str], checks: set[str]) -> bool:
    """Whether a top-level statement is the judge's own: importing it, or calling its check."""
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == JUDGE_MODULE for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == JUDGE_MODULE and node.level == 0
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Name) and func.id in checks:
                return True
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "check"
                and isinstance(func.value, ast.Name)
                and func.value.id in modules
            ):
                return True
    return False


def _blank(text: str, nodes: Sequence[ast.stmt]) -> str:
    """The text with the lines of ``nodes`` made empty (numbering kept)."""
    lines = text.splitlines()
    for node in nodes:
        for k in range(node.lineno - 1, node.end_lineno or node.lineno):
            lines[k] = ""
    return "\n".join(lines)


def gradable_cells(history: Sequence[str], whole_cells: bool = True) -> Cells:
    """The notebook to grade from a kernel's inputs, ``history[k]`` being ``In [k + 1]``.

    ``history`` holds the cells run before the one calling the check (the caller leaves that
    one out), raw, as typed. Returns every cell at its execution count (left-out ones
    empty), so that the notebook's cell numbers are the kernel's. ``whole_cells=False`` (a
    file graded as one cell) blanks only the statements that check, not their cell.

    Parsing is linear in the cells' size, and bounded: the cells past MAX_SOURCE_BYTES in all
    are kept unparsed, so the notebook is refused as too large when it is read (its code is
    over the limit whatever they hold), not parsed at length first.
    """
    parsed: list[tuple[int, str, ast.Module | None]] = []
    notes: list[str] = []
    unparsed = MAX_SOURCE_BYTES  # characters still to parse (see below)
    for number, raw in enumerate(history, start=1):
        text = _ipython_free(raw)
        if text is None or not text.strip():
            parsed.append((number, "", None))
            continue
        unparsed -= len(text)
        if unparsed < 0:
            parsed.append((number, text, None))  # over the limit: refused when read
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            reason = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
            notes.append(f"In [{number}] left out: it does not compile ({reason}), so it never ran")
            parsed.append((number, "", None))
            continue
        parsed.append((number, text, tree))
    modules, checks = _judge_names([cell for _, _, cell in parsed if cell is not None])
    sources, kept = [], []
    for number, text, cell in parsed:
        if cell is not None:
            judges = [n for n in cell.body if _is_judges(n, modules, checks)]
            imports_only = all(isinstance(n, ast.Import | ast.ImportFrom) for n in judges)
            text = _blank(text, judges) if imports_only or not whole_cells else ""
        if text.strip():
            kept.append(number)
        sources.append(text)
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "source": s} for s in sources],
    }
    return Cells(notebook, tuple(kept), tuple(notes))


def without_judges(cells: Sequence[str]) -> list[str]:
    """A notebook file's code cells with the judge's own statements blanked, as the kernel's
    rule leaves them out (module docstring): a cell that calls ``judge.check`` becomes all
    blank lines, ``import judge`` / ``from judge import check`` lines blank ones. Every cell
    keeps its number of lines, so line numbers (and the cell of a line) stay the notebook's.

    A cell that does not parse is kept as it is: the worker reports its syntax error. Linear in
    the cells' size, which the caller has bounded (``notebook_source``).
    """
    if not any(JUDGE_MODULE in text for text in cells):
        return list(cells)  # most notebooks: nothing of the judge's, nothing parsed
    trees: list[ast.Module | None] = []
    for text in cells:
        try:
            trees.append(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            trees.append(None)
    modules, checks = _judge_names([tree for tree in trees if tree is not None])
    kept = []
    for text, tree in zip(cells, trees, strict=True):
        judges = [n for n in tree.body if _is_judges(n, modules, checks)] if tree else []
        if any(not isinstance(n, ast.Import | ast.ImportFrom) for n in judges):
            text = "\n".join("" for _ in text.splitlines())  # a check cell: all of it
        elif judges:
            text = _blank(text, judges)
        kept.append(text)
    return kept
