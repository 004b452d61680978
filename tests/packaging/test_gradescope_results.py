"""results.json by Gradescope's specification: fields, points, visibility, notes, escaping.

Built from hand-made reports (no JAX): what Gradescope shows a learner is decided here.
"""

from __future__ import annotations

import json

import made_reports as made
import pytest
from gradescope_spec import problems_with

from judge.render import gradescope
from judge.result import Report, Verdict


def report(**changes: object) -> Report:
    return made.wrong_answer(
        "submission/solution.py",
        output={"stdout": "```\n<b>hi</b>\n", "stderr": "", "truncated": False},
        environment={"backend": "cpu", "jax": "0.10.2"},
        **changes,
    )


def test_results_follow_the_specification() -> None:
    results = gradescope.results(report())
    assert problems_with(results) == []
    assert "max_score" not in results  # the assignment sets the total, not results.json
    assert results["output_format"] == "md" and results["test_output_format"] == "text"
    assert results["execution_time"] == 4  # whole seconds, rounded up
    json.loads(gradescope.render(report()))  # strict JSON


def test_the_validator_catches_what_the_old_renderer_wrote() -> None:
    """The validator is not a rubber stamp: the fields issue 16 found are refused."""
    old = {"score": 85.0, "max_score": 100.0, "output": "x", "tests": [], "visibility": "always"}
    found = problems_with(old)
    assert any(p.startswith("max_score") for p in found)
    assert any(p.startswith("visibility") for p in found)


@pytest.mark.parametrize("points", [100.0, 10.0, 7.0, 3.0])
def test_points_are_shared_by_weight_and_add_up(points: float) -> None:
    results = gradescope.results(report(), points=points)
    shares = [t["max_score"] for t in results["tests"]]
    assert sum(shares) == pytest.approx(points, abs=1e-9)
    assert shares[0] == pytest.approx(points * 0.55, abs=0.011)
    assert results["score"] == pytest.approx(points * 0.575, abs=0.005)
    earned = [t["score"] for t in results["tests"]]
    assert earned[1] == shares[1] and earned[3] == 0.0  # passed: all of it; failed: none


def test_the_rubric_table_renders_in_a_code_block() -> None:
    """Markdown keeps the text report's aligned columns only inside a fenced block; the
    learner's own backticks cannot close it."""
    output = gradescope.results(report())["output"]
    body = output.split("\n", 1)[1]
    fence = output.split("text\n", 1)[0]
    assert len(fence) >= 4 and set(fence) == {"`"}  # longer than the learner's ```
    assert output.rstrip().endswith(fence)
    assert "rubric:" in body and "outputs match" in body
    assert "```\n" in body  # the learner's text is inside, unchanged


def test_failed_items_say_why_and_the_outputs_item_how_to_reproduce() -> None:
    tests = gradescope.results(report())["tests"]
    assert "2 of 4 values differ" in tests[0]["output"] and "reproduce:" in tests[0]["output"]
    assert "no bias" in tests[3]["output"] and "Hint: Keep it." in tests[3]["output"]
    assert tests[1]["output"] == "" and tests[1]["status"] == "passed"


def test_visibility_per_item_and_the_report_kept_back() -> None:
    """An item shown later must not show through the top-level output, which learners always
    see: the report (its table and total) is left out, and each test keeps its own."""
    visibility = {"param_tree": "hidden", "params_shared": "after_due_date"}
    results = gradescope.results(report(), visibility=visibility)
    assert problems_with(results) == []
    assert [t["visibility"] for t in results["tests"]] == [
        "visible",
        "visible",
        "after_due_date",
        "hidden",
    ]
    assert "rubric:" not in results["output"] and "params at" not in results["output"]
    assert "2 of 4 rubric items" in results["output"]
    assert "after the due date" in results["output"]


def test_notes_are_shown_as_plain_words() -> None:
    note = "2 submitted files define f: graded [a](x).py, not <b>.py"
    output = gradescope.results(report(), notes=[note])["output"]
    first = output.split("\n\n", 1)[0]
    assert first.startswith("**Note:** ")
    assert "\\[a\\]\\(x\\)" in first and "\\<b\\>" in first


def test_a_compile_error_is_one_test_and_the_lock_is_kept() -> None:
    unrun = report(rubric=[], score=0.0, verdict=Verdict.COMPILE_ERROR, failing_case=None)
    results = gradescope.results(unrun, points=20, lock={"sha256": "ab", "matches": True})
    assert problems_with(results) == []
    (test,) = results["tests"]
    assert test["max_score"] == 20 and test["score"] == 0 and test["status"] == "failed"
    assert results["extra_data"]["lock"]["sha256"] == "ab"
    assert results["extra_data"]["report"]["verdict"] == "compile_error"


def test_failure_results_follow_the_specification() -> None:
    results = gradescope.failure("No file <was> submitted.", notes=["a_b"])
    assert problems_with(results) == []
    assert results["score"] == 0.0 and results["tests"] == []
    assert "\\<was\\>" in results["output"] and "a\\_b" in results["output"]
