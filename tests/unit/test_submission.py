"""Reading learner files: .py as is, notebooks as their code cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge.errors import SubmissionNotFound, UsageError
from judge.submission import MAX_SOURCE_BYTES, notebook_source, read_submission


def notebook(cells: list[tuple[str, object]]) -> str:
    return json.dumps({"nbformat": 4, "cells": [{"cell_type": t, "source": s} for t, s in cells]})


def test_python_file(tmp_path: Path) -> None:
    path = tmp_path / "sol.py"
    path.write_text("def f():\n    pass\n")
    sub = read_submission(path)
    assert sub.kind == "py" and sub.source.startswith("def f") and sub.problem is None
    assert sub.module_filename == "sol.py"


@pytest.mark.parametrize("name", ["sol.PY", "sol.Py", "sol.IPYNB"])
def test_a_suffix_in_capitals_is_still_a_submission(tmp_path: Path, name: str) -> None:
    """Some editors, Windows and course sites write ``.PY``: the same file as ``.py``, loaded
    under a lower-case name (its tracebacks say ``sol.py``)."""
    path = tmp_path / name
    is_notebook = name.lower().endswith(".ipynb")
    path.write_text(notebook([("code", "x = 1")]) if is_notebook else "x = 1\n")
    sub = read_submission(path)
    assert sub.kind == ("ipynb" if is_notebook else "py")
    assert sub.problem is None and "x = 1" in sub.source
    assert sub.module_filename == ("sol_ipynb.py" if is_notebook else "sol.py")


@pytest.mark.parametrize("name", ["missing.py", "folder", "notes.txt", "sol.pyc", "sol.py.txt"])
def test_unreadable_inputs(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SubmissionNotFound) as raised:
        read_submission(tmp_path / name)
    assert isinstance(raised.value, FileNotFoundError)
    assert name in str(raised.value)


@pytest.mark.parametrize(
    ("line", "python"),
    [
        ("files = !ls", "files = []"),  # IPython's list of output lines, here empty
        ("  out=!echo hi", "  out = []"),
        ("names = %who_ls", "names = None"),
        ("nn.vmap?", ""),
        ("jax.random.PRNGKey??", ""),
        ("?nn.Dense", ""),
        ("%timeit f()", ""),
        ("x = 5 % 3", "x = 5 % 3"),  # Python stays Python
        ("if x != 3:", "if x != 3:"),
        ("print('why?')", "print('why?')"),
        ("y = x  # why?", "y = x  # why?"),
    ],
)
def test_ipython_lines_become_python(line: str, python: str) -> None:
    """Help (``name?``) and assignments from the shell or a magic are IPython, not Python: a
    notebook that uses them used to be a compile_error."""
    source, problem = notebook_source(notebook([("code", line + "\nz = 1")]))
    assert problem is None and source is not None
    assert source.splitlines()[1:] == ([python] if python else []) + ["z = 1"]
    if python and not python.endswith(":"):
        compile(python.strip(), "cell", "exec")


def test_a_notebook_is_measured_by_its_code_not_its_saved_outputs(tmp_path: Path) -> None:
    """A plot saved in a notebook is megabytes: the file may be large, its code may not."""
    picture = {"output_type": "display_data", "data": {"image/png": "A" * (3 * MAX_SOURCE_BYTES)}}
    cells = [{"cell_type": "code", "source": "x = 1", "outputs": [picture]}]
    path = tmp_path / "plots.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": cells}))
    sub = read_submission(path)
    assert sub.problem is None and "x = 1" in sub.source
    cells = [{"cell_type": "code", "source": "#" * (MAX_SOURCE_BYTES + 1), "outputs": []}]
    path.write_text(json.dumps({"nbformat": 4, "cells": cells}))
    with pytest.raises(SubmissionNotFound, match="code cells are larger than"):
        read_submission(path)


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


def test_a_python_file_is_read_verbatim(tmp_path: Path) -> None:
    text = "# -*- coding: utf-8 -*-\nimport jax\n\n\ndef f(x):\n    return x  # ✓\n"
    path = tmp_path / "solution.py"
    path.write_text(text, encoding="utf-8")
    sub = read_submission(str(path))
    assert sub.source == text
    assert sub.display == str(path) and sub.path == path
    assert sub.cell_of_line(2) is None  # only notebooks have cells


def test_bytes_that_are_not_utf8_do_not_stop_reading(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(b"x = 1  # caf\xe9\n")
    sub = read_submission(path)
    assert sub.source.startswith("x = 1") and "\ufffd" in sub.source


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SubmissionNotFound, match="no such file") as raised:
        read_submission(tmp_path / "gone.ipynb")
    assert isinstance(raised.value, UsageError) and raised.value.exit_code == 2


def test_a_folder_and_a_wrong_suffix_say_why(tmp_path: Path) -> None:
    (tmp_path / "work.py").mkdir()  # a folder, even with a .py name
    with pytest.raises(SubmissionNotFound, match="is a folder"):
        read_submission(tmp_path / "work.py")
    (tmp_path / "sol.txt").write_text("def f(): pass\n")
    with pytest.raises(SubmissionNotFound, match=r"expected a \.py or \.ipynb file"):
        read_submission(tmp_path / "sol.txt")


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * MAX_SOURCE_BYTES)
    assert len(read_submission(path).source) == MAX_SOURCE_BYTES


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    with pytest.raises(SubmissionNotFound):
        read_submission(path)


def test_a_huge_file_says_it_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    with pytest.raises(SubmissionNotFound, match="larger than 2048 KiB"):
        read_submission(path)


def test_notebook_cells_keep_their_order_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "work.ipynb"
    path.write_text(
        notebook(
            [
                ("code", ["import numpy as np\n", "a = 1\n"]),
                ("markdown", ["b = 2\n"]),
                ("raw", "c = 3"),
                ("code", "d = 4"),
                ("code", ["e = 5\n", "f = 6"]),
            ]
        )
    )
    sub = read_submission(path)
    assert sub.kind == "ipynb" and sub.problem is None
    assert sub.module_filename == "work_ipynb.py"
    assert sub.source == (
        "# --- notebook cell 1 ---\nimport numpy as np\na = 1\n\n"
        "# --- notebook cell 4 ---\nd = 4\n\n"
        "# --- notebook cell 5 ---\ne = 5\nf = 6\n"
    )
    compile(sub.source, sub.module_filename, "exec")
    assert sub.defined_names() == ["a", "d", "e", "f"]
    lines = sub.source.splitlines()
    assert sub.cell_of_line(lines.index("a = 1") + 1) == (1, 2)
    assert sub.cell_of_line(lines.index("d = 4") + 1) == (4, 1)
    assert sub.cell_of_line(lines.index("f = 6") + 1) == (5, 2)


def test_python_cell_magics_keep_their_body_and_others_are_dropped() -> None:
    source, problem = notebook_source(
        notebook(
            [
                ("code", "%%time\nslow = 1\n"),
                ("code", "%%timeit\nfast = 2\n"),
                ("code", "%%capture\nquiet = 3\n"),
                ("code", "%%bash\necho not = python\n"),
                ("code", "%%writefile helper.py\nhelper = 4\n"),
                ("code", "%%html\n<b>x</b>\n"),
            ]
        )
    )
    assert problem is None and source is not None
    assert "%" not in source
    assert "slow = 1" in source and "fast = 2" in source and "quiet = 3" in source
    for dropped in ("echo", "helper", "<b>"):
        assert dropped not in source
    assert "notebook cell 4" not in source and "notebook cell 5" not in source


def test_line_magics_and_shell_lines_are_dropped_anywhere_in_a_cell() -> None:
    source, problem = notebook_source(
        notebook([("code", "x = 1\n!pip install flax\n    %time y = 2\nz = 3\n")])
    )
    assert problem is None and source is not None
    assert source.splitlines()[1:] == ["x = 1", "z = 3"]


@pytest.mark.parametrize(
    "cells",
    [
        [],
        [("markdown", "# only words")],
        [("code", "")],
        [("code", "!pip install jax\n%matplotlib inline\n   \n")],
        [("code", "%%bash\nls\n")],
    ],
)
def test_a_notebook_without_python_is_no_code(tmp_path: Path, cells: list) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(cells))
    sub = read_submission(path)
    assert sub.problem is not None and sub.problem[0] == "no_code"
    assert sub.source == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ('{"cells": [{"cell_type": "code", "source": 5}]}', "cell 1: 'source'"),
        ('{"cells": [{"cell_type": "code", "source": ["a", 1]}]}', "cell 1: 'source'"),
    ],
)
def test_a_broken_notebook_is_notebook_invalid(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(text)
    sub = read_submission(path)
    assert sub.problem is not None
    code, message = sub.problem
    assert code == "notebook_invalid" and reason in message
    assert sub.kind == "ipynb" and sub.source == ""


def test_defined_names_are_top_level_only(tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text(
        "import jax\n"
        "from flax import linen as nn\n"
        "A = B = 1\n"
        "C: int = 2\n"
        "async def agen():\n    pass\n"
        "def outer():\n    def inner():\n        pass\n    hidden = 1\n"
        "if True:\n    def conditional():\n        pass\n"
        "class Model(nn.Module):\n    def __call__(self, x):\n        return x\n"
    )
    assert read_submission(path).defined_names() == ["A", "B", "agen", "outer", "Model"]


def test_defined_names_fall_back_to_the_text_on_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text(
        "X = 1\n"
        "def nn_vmap_forward(seed, x_batch, features)\n    return x_batch\n"
        "  async def helper():\n    pass\n"
        "class Broken(:\n"
    )
    # The regex finds functions only, indented ones included; assignments are not seen.
    assert read_submission(path).defined_names() == ["nn_vmap_forward", "helper"]


def test_a_byte_order_mark_is_not_part_of_the_source(tmp_path: Path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbfX = 1\ndef f():\n    return X\n")
    sub = read_submission(path)
    compile(sub.source, sub.module_filename, "exec")
    assert sub.defined_names() == ["X", "f"]
