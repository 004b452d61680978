"""Every byte from a worker or a learner's file name is hostile: nothing may crash the judge,
break a gradebook row or reach the terminal as an escape sequence."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import small_json

from judge import diagnose
from judge.errors import SubmissionNotFound
from judge.grading.replies import MAX_SECONDS, clean_reply
from judge.problem import load_problem
from judge.render import gradebook
from judge.render.text import build, visible
from judge.result import Report, Verdict
from judge.submission import read_submission

PROBLEM = load_problem("nn_vmap_forward")


@settings(max_examples=150, deadline=None)
@given(
    code=st.sampled_from(["exception", "import_error", "syntax_error", "entry_point_missing"]),
    evidence=st.dictionaries(
        st.sampled_from(["traceback", "line", "message", "type", "text", "defined", "x"]),
        small_json,
    ),
)
def test_any_load_failure_reply_reports_and_renders(code: str, evidence: dict) -> None:
    reply = clean_reply({"ok": False, "code": code, "message": "m", "evidence": evidence})
    diagnostic = diagnose.load_failure(PROBLEM, "f.py", reply)
    report = Report(
        problem="p", submission="f.py", verdict=Verdict.COMPILE_ERROR, score=0.0,
        summary="s", diagnostics=[diagnostic],
    )  # fmt: skip
    json.dumps(report.to_dict(), allow_nan=False)  # raises on NaN or on anything not JSON
    assert build(report)


def test_nan_and_deep_nesting_in_evidence_are_made_safe() -> None:
    deep: list = []
    cursor = deep
    for _ in range(100):
        cursor.append([])
        cursor = cursor[0]
    reply = clean_reply({"ok": False, "evidence": {"n": math.nan, "deep": deep, "traceback": 7}})
    text = json.dumps(reply, allow_nan=False)
    assert '"traceback": []' in text and '"n": "nan"' in text
    assert text.count("[") < 20


def test_control_characters_from_learner_text_become_visible() -> None:
    assert visible("ok\x1b[2J\x1b[32maccepted\r") == "ok\\x1b[2J\\x1b[32maccepted\\r"
    assert visible("line one\nline\ttwo") == "line one\nline\ttwo"


@pytest.mark.parametrize("name", ["x\r=1+1", "=cmd|' /C calc'!A0", "  @SUM(1)", "a\nb"])
def test_gradebook_cells_cannot_break_rows_or_run_formulas(name: str) -> None:
    text = gradebook.render([{"student": name, "verdict": "accepted"}])
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2  # header and one row: no line break survived
    assert "\r" not in text.split("\n", 1)[1]
    cell = rows[1][0]
    assert not cell.lstrip().startswith(("=", "+", "-", "@"))


def test_a_symlinked_submission_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'hunter2'\n")
    link = tmp_path / "solution.py"
    os.symlink(secret, link)
    with pytest.raises(SubmissionNotFound, match="symbolic link"):
        read_submission(link)


def test_a_batch_entry_linking_out_of_the_class_folder_is_not_read(tmp_path: Path) -> None:
    from judge.batch import collect

    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "solution.py").write_text("def nn_vmap_forward(seed, x_batch, features): ...\n")
    classroom = tmp_path / "class"
    classroom.mkdir()
    os.symlink(secret, classroom / "mallory")
    (classroom / "alice.py").write_text("def nn_vmap_forward(seed, x_batch, features): ...\n")
    found = collect(classroom, "nn_vmap_forward", tmp_path / "scratch")
    by_student = {e.student: e for e in found.entries}
    assert by_student["mallory"].issue is not None
    assert by_student["mallory"].issue[0] == "unreadable_submission"
    assert by_student["alice"].issue is None


@pytest.mark.parametrize("claimed", [1.7e308, 1e300, math.inf, -1.0, math.nan, True, "9"])
def test_a_replys_seconds_are_finite_and_bounded(claimed: object) -> None:
    """The judge adds a reply's seconds up: two of 1.7e308 would make inf, which no JSON report
    holds (the judge crashed with exit 3, and a batch with it)."""
    seconds = [clean_reply({"ok": True, "elapsed_s": claimed, "load_s": claimed})[name]
               for name in ("elapsed_s", "load_s")]  # fmt: skip
    assert all(0.0 <= s <= MAX_SECONDS for s in seconds)
    assert math.isfinite(sum(seconds * 10**6))
