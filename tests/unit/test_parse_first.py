"""A file Python cannot parse is reported without starting a worker, with the diagnostic a
worker would have given (the e2e corpus holds the same files with their expected codes)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from judge import Verdict, grade

GRADING = importlib.import_module("judge.grading")
PAIR = importlib.import_module("judge.grading.pair")
EXAMPLES = Path(__file__).resolve().parents[2] / "submissions" / "nn_vmap_forward"


@pytest.fixture
def no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker was started for a file that does not parse")

    monkeypatch.setattr(PAIR, "Worker", refuse)


def test_a_syntax_error_needs_no_worker(no_workers: None) -> None:
    report = grade(EXAMPLES / "compile_error" / "syntax_error.py", "nn_vmap_forward")
    assert report.verdict is Verdict.COMPILE_ERROR
    (diagnostic,) = report.diagnostics
    assert diagnostic.code == "syntax_error"
    assert diagnostic.message.startswith("Python cannot parse syntax_error.py: ")
    assert diagnostic.evidence["line"] == 3


def test_a_notebook_syntax_error_points_at_its_cell(no_workers: None) -> None:
    report = grade(EXAMPLES / "compile_error" / "notebook_syntax_error.ipynb", "nn_vmap_forward")
    assert report.verdict is Verdict.COMPILE_ERROR
    assert "notebook cell 2, line 1" in report.diagnostics[0].message


def test_a_null_byte_is_a_syntax_error(no_workers: None, tmp_path: Path) -> None:
    path = tmp_path / "nul.py"
    path.write_text("def nn_vmap_forward(seed, x_batch, features):\n    return 1\x00\n")
    report = grade(path, "nn_vmap_forward")
    assert report.verdict is Verdict.COMPILE_ERROR
    assert report.diagnostics[0].code == "syntax_error"


def test_future_imports_of_the_judge_do_not_leak_into_the_parse(tmp_path: Path) -> None:
    """judge/grade.py has ``from __future__ import annotations``; a learner's file must be
    parsed as Python parses it alone (``dont_inherit``), so this one must parse and run."""
    path = tmp_path / "ok.py"
    # valid alone; a SyntaxError under ``from __future__ import annotations``
    path.write_text(
        "def nn_vmap_forward(seed, x_batch, features):\n    def f(x: (yield)):\n        pass\n"
    )
    assert GRADING.parse_failure(GRADING.read_submission(path)) is None
