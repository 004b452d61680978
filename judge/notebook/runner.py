"""The judge's side of a notebook check: ``grade_request`` turns the kernel's request into a
report, rendered; ``answer`` makes a judge error a one-line result.

``judge.check`` sends its requests to the check server (``server``), a process of the judge's
own kept for the kernel's life, which calls ``answer``; ``python -m judge.notebook.runner
REQUEST RESULT`` still grades one request in a process of its own. Either way nothing of the
grading touches the kernel's state: the judge makes itself a subreaper, starts worker threads
and caches plans, and none of that should live in a learner's kernel (or be undone by the
learner's code there). The learner's cells still run one level further down, in the ordinary
workers of ``judge grade``, under the same sandbox. REQUEST is JSON written by the kernel;
RESULT gets JSON back: the report's rendering (HTML and text) and its JSON form, or a one-line
error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..errors import JudgeError, ProblemNotFound, SandboxUnavailable
from ..grading import GradeOptions, grade_submission
from ..problem import load_problem
from ..submission import Submission, notebook_source
from . import html as html_render

NOTEBOOK_NAME = "notebook.ipynb"


def _submission(request: dict[str, Any]) -> Submission:
    """The cells as a notebook submission, shown as ``request['display']``."""
    path = Path.cwd() / NOTEBOOK_NAME  # never read: the source is already here
    display = str(request["display"])
    source, reason = notebook_source(str(request["notebook"]))
    if source is None:
        return Submission(path, display, "ipynb", "", ("notebook_invalid", reason or "invalid"))
    if not source.strip():
        why = "no cell with Python in it has run in this kernel before the check"
        return Submission(path, display, "ipynb", "", ("no_code", why))
    return Submission(path, display, "ipynb", source)


def _assignment(name: str, problems: Path | None, missing: ProblemNotFound) -> Any:
    """The assignment of that name; when there is none, ``missing`` (no such problem either),
    its message saying both."""
    from ..assignment import load_assignment

    try:
        return load_assignment(name, problems_dir=problems)
    except ProblemNotFound as exc:
        raise ProblemNotFound(f"{missing}; nor an assignment: {exc}") from None


def grade_request(request: dict[str, Any]) -> dict[str, Any]:
    """Grade the request's cells against its problem, or each problem of its assignment."""
    name = str(request["name"])
    problems = Path(request["problems"]) if request.get("problems") else None
    options = GradeOptions(**request.get("options", {}))
    submission = _submission(request)
    notes = list(request.get("notes", []))
    try:
        problem = load_problem(name, problems)
    except ProblemNotFound as exc:
        assignment = _assignment(name, problems, exc)
        from ..assignment import grade_assignment

        graded = grade_assignment(submission, assignment, options)
        return {
            "kind": "assignment",
            "report": graded.to_dict(),
            "html": html_render.assignment_html(graded, notes),
            "text": html_render.assignment_text(graded, notes),
        }
    report = grade_submission(submission, problem, options)
    return {
        "kind": "problem",
        "report": report.to_dict(),
        "html": html_render.report_html(report, notes),
        "text": html_render.report_text(report, notes),
    }


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The result of one request: the graded report, or a judge error as one line (the form
    both this one-shot runner and the check server, ``server``, send back)."""
    try:
        return grade_request(request)
    except JudgeError as exc:
        message = str(exc)
        if isinstance(exc, SandboxUnavailable):  # the flag's name is the command line's
            message += '; in a notebook: judge.check(NAME, sandbox="none")'
        return {"kind": "error", "message": message, "exit_code": exc.exit_code}


def main(argv: list[str]) -> int:
    """Read the request, grade, write the result; a judge error becomes a one-line result."""
    request_path, result_path = Path(argv[0]), Path(argv[1])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    try:
        result = answer(request)
    except KeyboardInterrupt:
        from ..sandbox import kill_all_workers

        kill_all_workers()
        return 130
    result_path.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
