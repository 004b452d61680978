"""A notebook written as the README teaches (``import judge`` and ``judge.check(...)`` cells),
graded as a file: the judge's own cells are left out as ``judge.check`` leaves them out of a
kernel's cells, and what went wrong is said in cells, never in the converted file's terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import judge
from judge import GradeOptions, wording
from judge.diagnose import locate_in_notebook
from judge.notebook.frames import in_cell_terms, in_cells, notebook_import_hint
from judge.result import Diagnostic, Severity
from judge.submission import notebook_source, parse_submission

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "submissions/nn_vmap_forward/accepted/canonical.py").read_text()
RAISING = "import numpy as np\n\ndef helper():\n    raise ValueError('boom')\n"


def notebook(*cells: str) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "source": c} for c in cells
            ],
        }
    )


DEFINITION = "def nn_vmap_forward(seed, x_batch, features):"
AS_TAUGHT = notebook("import judge", SOLUTION, 'judge.check("nn_vmap_forward")')


def test_the_judges_cells_are_blanked_and_the_solution_keeps_its_lines() -> None:
    source, reason = notebook_source(AS_TAUGHT)
    assert source is not None, reason
    assert "judge.check" not in source and "import judge" not in source
    plain, _ = notebook_source(notebook("x = 1", SOLUTION, "y = 2"))
    assert plain is not None
    # Blanked, not removed: the solution is on the same lines as with any other cells.
    start = plain.splitlines().index("# --- notebook cell 2 ---")
    assert source.splitlines().index("# --- notebook cell 2 ---") == start
    submission = parse_submission("a.ipynb", AS_TAUGHT.encode())
    line = source.splitlines().index(DEFINITION) + 1
    assert submission.cell_of_line(line) == (2, SOLUTION.splitlines().index(DEFINITION) + 1)


def test_aliases_and_imports_inside_cells_are_blanked_line_for_line() -> None:
    source, _ = notebook_source(
        notebook("import judge as j\nimport numpy as np", "def f():\n    return 1", "j.check('f')")
    )
    assert source is not None
    assert (
        "import numpy as np" in source
        and "j.check" not in source
        and "judge" not in (source.replace("# --- notebook cell", ""))
    )
    assert source.splitlines()[1:3] == ["", "import numpy as np"]


def test_only_the_judges_lines_is_no_code() -> None:
    submission = parse_submission("a.ipynb", notebook("import judge", "judge.check('x')").encode())
    assert submission.problem is not None and submission.problem[0] == "no_code"


def test_a_notebook_without_the_judge_is_converted_as_before() -> None:
    source, _ = notebook_source(notebook("x = 1", "%matplotlib inline\ny = x"))
    assert source == "# --- notebook cell 1 ---\nx = 1\n\n# --- notebook cell 2 ---\ny = x\n"


def _load_failure(submission_name: str) -> tuple[Diagnostic, object]:
    submission = parse_submission(
        submission_name, notebook(SOLUTION, RAISING, "x = 1\nhelper()").encode()
    )
    lines = submission.source.splitlines()
    module = lines.index("helper()") + 1
    helper = lines.index("    raise ValueError('boom')") + 1
    name = submission.module_filename
    trace = [
        f'File "{name}", line {module}, in <module>',
        "    helper()",
        f'File "{name}", line {helper}, in helper',
        "    raise ValueError('boom')",
    ]
    generic = wording.hint(None, "exception_at_import")
    found = Diagnostic(
        "exception",
        Severity.ERROR,
        "a.ipynb raised ValueError while being loaded: boom",
        generic,
        {"type": "ValueError", "message": "ValueError: boom", "traceback": trace, "line": helper},
    )
    return locate_in_notebook(found, submission.cell_of_line(helper)), submission


def test_a_cell_that_raised_gets_the_notebook_wording_and_cell_frames() -> None:
    located, submission = _load_failure("a.ipynb")
    assert "__main__" in located.hint and "run top to bottom" in located.hint
    shown = in_cells(located, submission)  # type: ignore[arg-type]
    assert shown.evidence["traceback"][0] == "cell 3, line 2, in <module>"
    assert shown.evidence["traceback"][2] == "cell 2, line 4, in helper"
    assert shown.hint == notebook_import_hint(3)  # the cell that ran, not the helper's
    assert "_ipynb.py" not in json.dumps(shown.to_dict())
    assert all("_ipynb.py" not in str(t) for t in shown.evidence["traceback"])


def test_a_py_file_keeps_its_frames_and_hint() -> None:
    submission = parse_submission("a.py", b"x = 1\n")
    text = 'File "a.py", line 1, in <module>'
    found = Diagnostic("exception", Severity.ERROR, "m", "h", {"traceback": [text]})
    assert in_cells(found, submission) is found
    assert (
        in_cell_terms(
            "(a_ipynb.py, line 2)", parse_submission("a.ipynb", notebook("x = 1").encode())
        )
        == "(cell 1, line 1)"
    )


@pytest.mark.slow
def test_a_notebook_as_taught_is_accepted_without_the_checks_output(tmp_path: Path) -> None:
    path = tmp_path / "as_taught.ipynb"
    path.write_text(AS_TAUGHT)
    report = judge.grade(path, "nn_vmap_forward", GradeOptions(sandbox="none"))
    assert report.verdict == "accepted", report
    assert "judge.check" not in json.dumps(report.output)


@pytest.mark.slow
def test_a_cell_that_raised_is_reported_in_cells(tmp_path: Path) -> None:
    path = tmp_path / "raises.ipynb"
    path.write_text(notebook(SOLUTION, RAISING, "x = 1\nhelper()"))
    report = judge.grade(path, "nn_vmap_forward", GradeOptions(sandbox="none"))
    assert report.verdict == "compile_error"
    (found, *_) = report.diagnostics
    assert "run top to bottom" in found.hint and "notebook cell" in found.message
    trace = found.evidence["traceback"]
    assert trace and all("raises_ipynb.py" not in str(t) for t in trace)
    assert any(str(t).startswith("cell ") for t in trace)
