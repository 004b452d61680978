"""Reading learner files: .py as is, notebooks as their code cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge.errors import SubmissionNotFound
from judge.submission import notebook_source, read_submission


def notebook(cells: list[tuple[str, object]]) -> str:
    return json.dumps({"nbformat": 4, "cells": [{"cell_type": t, "source": s} for t, s in cells]})


def test_python_file(tmp_path: Path) -> None:
    path = tmp_path / "sol.py"
    path.write_text("def f():\n    pass\n")
    sub = read_submission(path)
    assert sub.kind == "py" and sub.source.startswith("def f") and sub.problem is None
    assert sub.module_filename == "sol.py"


@pytest.mark.parametrize("name", ["missing.py", "folder", "notes.txt"])
def test_unreadable_inputs(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SubmissionNotFound) as raised:
        read_submission(tmp_path / name)
    assert isinstance(raised.value, FileNotFoundError)
    assert name in str(raised.value)


def test_notebook_code_cells_in_order_without_magics() -> None:
    source, problem = notebook_source(
        notebook(
            [
                ("markdown", "# title\nx = 1\n"),
                ("code", ["!pip install flax\n", "%matplotlib inline\n", "import jax\n"]),
                ("code", "%%bash\necho not python\n"),
                ("code", "%%time\ny = 2\n"),
                ("code", "  !ls\nz = 3"),
            ]
        )
    )
    assert problem is None
    assert source is not None
    code = [ln for ln in source.splitlines() if ln and not ln.startswith("#")]
    assert code == ["import jax", "y = 2", "z = 3"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"cells": 3}', "no 'cells' list"),
        ("[1, 2]", "no 'cells' list"),
    ],
)
def test_invalid_notebooks(text: str, reason: str) -> None:
    source, problem = notebook_source(text)
    assert source is None and problem is not None and reason in problem


def test_notebook_problems_become_codes(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text("{")
    (tmp_path / "empty.ipynb").write_text(notebook([("markdown", "nothing")]))
    assert read_submission(tmp_path / "bad.ipynb").problem[0] == "notebook_invalid"
    assert read_submission(tmp_path / "empty.ipynb").problem[0] == "no_code"


def test_cell_of_line(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook([("markdown", "m"), ("code", "a = 1"), ("code", "b = 2\nc = d")]))
    sub = read_submission(path)
    line = sub.source.splitlines().index("c = d") + 1
    assert sub.cell_of_line(line) == (3, 2)


def test_defined_names_even_with_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text("import os\nX = 1\ndef good(a):\n    pass\nclass K: pass\n")
    assert read_submission(path).defined_names() == ["X", "good", "K"]
    path.write_text("def broken(a)\n    pass\n")
    assert read_submission(path).defined_names() == ["broken"]
