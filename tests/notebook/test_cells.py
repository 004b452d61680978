"""The rule that turns a kernel's history into the notebook ``judge.check`` grades. Fast: no
kernel and no worker here (``test_check_in_kernel.py`` runs the real thing)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

from judge.notebook import CheckResult, _cells_from
from judge.notebook.cells import gradable_cells
from judge.submission import notebook_source


def source_of(history: list[str]) -> str:
    source, reason = notebook_source(gradable_cells(history).to_json())
    assert source is not None, reason
    return source


def test_cells_keep_their_execution_counts_and_order() -> None:
    cells = gradable_cells(["x = 1", "", "def f():\n    return x", "x = 2"])
    assert cells.kept == (1, 3, 4)
    source = source_of(["x = 1", "", "def f():\n    return x", "x = 2"])
    assert "# --- notebook cell 3 ---" in source and "# --- notebook cell 2 ---" not in source
    assert source.index("x = 1") < source.index("def f") < source.index("x = 2")


def test_the_judges_own_lines_and_check_cells_are_left_out() -> None:
    history = [
        "import judge\nimport numpy as np",
        "def f(x):\n    return x",
        "r = judge.check('f')\nprint(r.score)",  # a check cell: all of it goes
        "from judge import check as c\ny = 3",
        "c('f')",
        "import judge as j\nj.check('f')",
    ]
    source = source_of(history)
    assert "import numpy as np" in source and "def f(x)" in source and "y = 3" in source
    assert "judge" not in source.replace("# --- notebook cell", "")
    assert "print(r.score)" not in source and "c('f')" not in source


def test_ipython_lines_are_blanked_so_line_numbers_stay() -> None:
    cells = gradable_cells(["%matplotlib inline\n!pip install x\ndef f():\n    return 1"])
    (cell,) = cells.notebook["cells"]
    assert cell["source"].splitlines() == ["", "", "def f():", "    return 1"]
    assert gradable_cells(["%%bash\necho hi"]).kept == ()
    assert gradable_cells(["%%time\nz = 1"]).kept == (1,)


def test_a_cell_that_does_not_compile_is_left_out_with_a_note() -> None:
    cells = gradable_cells(["def f():\n    return 1", "def f(:\n    pass"])
    assert cells.kept == (1,)
    (note,) = cells.notes
    assert note.startswith("In [2] left out: it does not compile")


def test_a_cell_that_raised_is_kept_whole() -> None:
    """It ran up to its error in the kernel; rerun from the top, it raises there again."""
    source = source_of(["def f():\n    return 1\nraise ValueError('mine')"])
    assert "raise ValueError('mine')" in source and "def f()" in source


def test_a_file_outside_ipython_is_graded_as_one_cell(tmp_path: Path) -> None:
    solution = tmp_path / "solution.py"
    solution.write_text("import judge\ndef f():\n    return 1\njudge.check('f')\n")
    notebook, notes, display = _cells_from(solution)
    source, _ = notebook_source(notebook)
    assert source is not None and "def f()" in source and "judge" not in source.split("---")[-1]
    assert display.endswith("solution.py") and notes == ()


def test_outside_ipython_without_a_file_the_error_says_what_to_do() -> None:
    from judge.notebook import check

    out = io.StringIO()
    with redirect_stdout(out):
        result = check("nn_vmap_forward")
    assert result.verdict == "error" and result.report is None
    assert out.getvalue().startswith("judge.check: error: judge.check reads the cells run in")
    assert "source=" in out.getvalue() and out.getvalue().count("\n") == 1


def test_a_result_repr_is_one_line() -> None:
    result = CheckResult({"kind": "error", "message": "m", "html": "<div>m</div>", "text": "m"})
    assert repr(result) == "<judge.check: error, score 0.00>"
    assert result._repr_mimebundle_() == {"text/html": "<div>m</div>", "text/plain": "m"}


def test_a_check_past_its_timeout_is_stopped_and_says_so() -> None:
    from judge.notebook import check

    canonical = Path(__file__).resolve().parents[2] / "submissions" / "nn_vmap_forward"
    out = io.StringIO()
    with redirect_stdout(out):
        result = check("nn_vmap_forward", source=canonical / "accepted" / "canonical.py",
                       timeout=0.2)  # fmt: skip
    assert result.verdict == "error"
    assert out.getvalue() == (
        "judge.check: error: no report within timeout=0.2 s; the grading was stopped\n"
    )


def test_import_judge_stays_cheap_and_check_loads_on_first_use() -> None:
    """``import judge`` in a notebook must not import JAX, IPython or the notebook module."""
    import subprocess
    import sys

    probe = (
        "import sys, judge; "
        "before = {m for m in ('jax', 'IPython', 'judge.notebook') if m in sys.modules}; "
        "judge.check; from judge import check; "
        "print(sorted(before), 'judge.notebook' in sys.modules, 'jax' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[] True False", done.stderr
