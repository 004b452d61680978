"""``judge.check(NAME)``: grade the code a learner has run in a Jupyter or Colab kernel so far.

::

    import judge
    judge.check("my_problem")          # one problem
    judge.check("hw3")                 # every problem of an assignment, with points

The cells run before the calling one (the rule, and what is left out, is in ``cells``) become a
notebook; a process of the judge's own grades it with the engine of ``judge grade``, whose
workers run the learner's code under the same sandbox, so neither the learner's code nor the
grading touches the kernel's state. That process (``server``) is started by the first check and
kept for the kernel's life, so that later checks skip the judge's imports and JAX's start. The
report is shown inline, as HTML in a notebook (``html``) and as text in a terminal IPython or
outside IPython. An error that stops the check (an unknown name, no sandbox here) is shown as
one line, never a traceback in the learner's notebook.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cells import gradable_cells

__all__ = ["CheckResult", "check"]

DISPLAY_NAME = "this notebook"


class CheckResult:
    """What ``check`` found: ``report`` (a ``judge.Report``, or for an assignment a
    ``judge.assignment.report.AssignmentReport``; None after an error), ``verdict``, ``score``.

    In IPython the report is shown when the check runs; this object shows it again only when it
    is displayed from a later cell (``result = judge.check(...)`` then ``result``), so the usual
    ``judge.check(...)`` as a cell's last line does not show it twice.
    """

    def __init__(self, payload: dict[str, Any], shown_in: int | None = None) -> None:
        self.kind: str = payload["kind"]
        self.html: str = payload["html"]
        self.text: str = payload["text"]
        self.error: str | None = payload.get("message") if self.kind == "error" else None
        self.report: Any = None
        if self.kind == "problem":
            from ..result import Report

            self.report = Report.from_dict(payload["report"])
        elif self.kind == "assignment":
            from ..assignment.report import AssignmentReport

            self.report = AssignmentReport.from_dict(payload["report"])
        self._shown_in = shown_in

    @property
    def verdict(self) -> str:
        return "error" if self.report is None else str(self.report.verdict)

    @property
    def score(self) -> float:
        return 0.0 if self.report is None else float(self.report.score)

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return {"text/html": self.html, "text/plain": self.text}

    def _ipython_display_(self) -> None:
        if self._shown_in is not None and self._shown_in == _execution_count():
            return
        _show(self)

    def __repr__(self) -> str:
        return f"<judge.check: {self.verdict}, score {self.score:.2f}>"


def _shell() -> Any:
    """The running IPython shell, or None; IPython is never imported here when it is not
    already (a plain ``python`` has no cells to read)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _execution_count() -> int | None:
    shell = _shell()
    return getattr(shell, "execution_count", None) if shell is not None else None


def _history(shell: Any) -> list[str]:
    """The raw inputs from ``In [1]`` up to the cell running now, that one left out: IPython
    stores a cell before running it, so it is the last (``In [0]`` is always empty)."""
    raw = list(shell.history_manager.input_hist_raw)
    return [str(cell) for cell in raw[1:-1]]


def _show(result: CheckResult) -> None:
    if _shell() is None:
        print(result.text, end="" if result.text.endswith("\n") else "\n")
        return
    from IPython.display import display

    display(result._repr_mimebundle_(), raw=True)


def _error(message: str) -> dict[str, Any]:
    from .html import error_html

    return {"kind": "error", "message": message, "html": error_html(message),
            "text": f"judge.check: error: {message}\n"}  # fmt: skip


def _run(request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """Grade in the judge's own process, the kernel's check server; the kernel only waits (an
    interrupt or the timeout stops the grading, and that server)."""
    from . import server

    return server.ask(request, timeout)


def _cells_from(source: str | Path | None) -> tuple[str, Sequence[str], str]:
    """(notebook JSON, notes, display name) from the kernel's history, or from ``source``."""
    if source is not None:
        from ..submission import read_submission

        path = Path(source)
        read = read_submission(path)
        cells = gradable_cells([read.source], whole_cells=False) if read.kind == "py" else None
        notebook = cells.to_json() if cells else path.read_text(encoding="utf-8-sig")
        return notebook, (), read.display
    shell = _shell()
    if shell is None:
        from ..errors import UsageError

        raise UsageError(
            "judge.check reads the cells run in a Jupyter or IPython kernel, and none is "
            "running here: pass the file, judge.check(NAME, source='solution.py'), or run "
            "`judge grade solution.py`"
        )
    cells = gradable_cells(_history(shell))
    return cells.to_json(), cells.notes, DISPLAY_NAME


def check(
    name: str,
    *,
    source: str | Path | None = None,
    problems: str | Path | None = None,
    backend: str = "cpu",
    seed: int = 0,
    sandbox: str = "auto",
    timeout: float | None = None,
) -> CheckResult:
    """Grade the code run in this kernel so far against a problem or an assignment; show it.

    Args:
        name: a problem (``"my_problem"``) or an assignment (``"hw3"``); a problem of
            that name is taken first.
        source: a ``.py`` or ``.ipynb`` file to grade instead of the kernel's cells (outside
            IPython, where there are none).
        problems: a folder of problem packages, as ``judge grade --problems``.
        backend, seed, sandbox: as ``judge grade``'s flags. ``sandbox="none"`` still runs the
            cells in a worker process of their own, without the kernel's confinement: for a
            machine with no kernel sandbox (the error says when), and your own code only.
        timeout: seconds to wait for the whole check (default: the problem's own limits).

    Returns:
        A CheckResult, also shown: HTML in a notebook, text elsewhere. A check that cannot run
        (unknown name, no sandbox) shows a one-line error and returns a result whose
        ``report`` is None and ``verdict`` is ``"error"``.
    """
    from ..errors import JudgeError

    try:
        notebook, notes, display = _cells_from(source)
    except JudgeError as exc:
        payload = _error(str(exc))
    else:
        request = {
            "name": name,
            "notebook": notebook,
            "notes": list(notes),
            "display": display,
            "problems": str(problems) if problems is not None else None,
            "options": {"backend": backend, "seed": int(seed), "sandbox": sandbox},
        }
        payload = _run(request, timeout)
    if payload["kind"] == "error":
        payload.setdefault("html", _error(payload["message"])["html"])
        payload.setdefault("text", _error(payload["message"])["text"])
    result = CheckResult(payload, _execution_count())
    _show(result)
    return result
