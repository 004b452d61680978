"""Renderers against golden files: what a learner reads is reviewed like code.

To update after an intended change: ``JUDGE_UPDATE_GOLDEN=1 pytest tests/unit/test_render.py``
and review the diff of ``tests/unit/golden/``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.render import json as json_render
from judge.render import text as text_render
from judge.result import Diagnostic, FailingCase, Report, RubricResult, Severity, Verdict

GOLDEN = Path(__file__).parent / "golden"


def wrong_answer_report() -> Report:
    return Report(
        problem="nn_vmap_forward",
        submission="my_solution.py",
        verdict=Verdict.WRONG_ANSWER,
        score=0.5,
        summary="wrong_answer on case 2 of 24 (values_mismatch); smallest failing case: seed 0, "
        "batch=2, in_dim=1, features=2",
        cases={"run": 24, "passed": 12, "seed": 0, "planned": 24, "informative": 24},
        failing_case=FailingCase(
            index=1,
            inputs={
                "seed": 0,
                "batch": 2,
                "in_dim": 1,
                "features": 2,
                "x_batch": {"dtype": "float32", "shape": [2, 1], "values": [[0.0], [1.0]]},
            },
            expected={"dtype": "float32", "shape": [4], "values": [0.0, 0.0, 0.0826, -1.6494]},
            got={
                "type": "jax.Array",
                "dtype": "float32",
                "shape": [4],
                "values": [0.0, 0.0826, 0.0, -1.6494],
            },
            mismatch={
                "code": "values_mismatch",
                "message": "2 of 4 values differ beyond the tolerance",
                "evidence": {
                    "mismatched": 2,
                    "total": 4,
                    "max_abs_error": 0.0826,
                    "worst_index": [1],
                    "first_index": [1],
                    "expected_at_first": 0.0,
                    "got_at_first": 0.0826,
                    "atol": 1e-6,
                    "rtol": 1e-5,
                },
            },
            reproducer="import numpy as np; nn_vmap_forward(0, np.array([[0.0], [1.0]], "
            "dtype=np.float32), 2)",
            shrink_steps=5,
        ),
        diagnostics=[
            Diagnostic(
                "values_mismatch",
                Severity.ERROR,
                "2 of 4 values differ beyond the tolerance on (seed 0, batch=2)",
                "Flatten row by row.",
            ),
            Diagnostic("signature_mismatch", Severity.WARNING, "parameters are named (s, x, f)"),
        ],
        output={
            "stdout": "step\nstep\nstep\n[bold]not markup[/bold]\n",
            "stderr": "",
            "truncated": False,
        },
        environment={"backend": "cpu"},
        timing={"total_s": 3.25},
    )


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("JUDGE_UPDATE_GOLDEN"):
        path.write_text(actual)
    assert path.exists(), f"no golden file {path}; run with JUDGE_UPDATE_GOLDEN=1"
    assert actual == path.read_text()


def test_text_report_golden() -> None:
    check_golden("wrong_answer.txt", text_render.render(wrong_answer_report(), color=False))


def test_json_report_golden() -> None:
    check_golden("wrong_answer.json", json_render.render(wrong_answer_report()))


def test_learner_text_is_never_markup() -> None:
    rendered = text_render.render(wrong_answer_report(), color=True)
    assert "[bold]not markup[/bold]" in rendered


def test_no_colour_unless_asked() -> None:
    assert "\x1b[" not in text_render.render(wrong_answer_report(), color=False)
    assert "\x1b[" in text_render.render(wrong_answer_report(), color=True)


def test_repeated_output_lines_are_collapsed() -> None:
    rendered = text_render.render(wrong_answer_report())
    assert rendered.count("| step") == 1
    assert "(x3)" in rendered


def test_json_is_strict_and_has_the_schema_keys() -> None:
    data = json.loads(json_render.render(wrong_answer_report()))
    assert list(data) == [
        "schema",
        "problem",
        "submission",
        "verdict",
        "score",
        "summary",
        "cases",
        "failing_case",
        "diagnostics",
        "output",
        "environment",
        "timing",
        "rubric",
    ]
    assert data["schema"] == "judge.report/1"
    assert data["diagnostics"][1]["severity"] == "warning"


def test_non_finite_numbers_cannot_reach_the_json() -> None:
    report = wrong_answer_report()
    report.timing["total_s"] = float("nan")
    with pytest.raises(ValueError):
        json_render.render(report)  # a bug to fix at the source, never invalid JSON out


@pytest.mark.parametrize("verdict", list(Verdict))
def test_every_verdict_renders_and_has_an_exit_code(verdict: Verdict) -> None:
    report = wrong_answer_report()
    report.verdict = verdict
    assert text_render.render(report).startswith(str(verdict))
    assert report.exit_code == {Verdict.ACCEPTED: 0, Verdict.JUDGE_ERROR: 3}.get(verdict, 1)


# --- wording: each thing said once, about a case the learner sees ---------------------------


def _with(*diagnostics: Diagnostic, **changes: object) -> Report:
    report = wrong_answer_report()
    report.diagnostics = list(diagnostics)
    for name, value in changes.items():
        setattr(report, name, value)
    return report


def test_a_hint_is_shown_once_and_consequences_leave_theirs_to_the_cause() -> None:
    hint = "The shape is right but the numbers are not."
    report = _with(
        Diagnostic("ignores_seed", Severity.ERROR, "seed ignored", "Use the seed."),
        Diagnostic(
            "values_mismatch",
            Severity.INFO,
            "values differ (a consequence of ignores_seed)",
            hint,
            {"consequence_of": "ignores_seed"},
        ),
        Diagnostic(
            "wrong_param_values",
            Severity.INFO,
            "params differ (a consequence of ignores_seed)",
            hint,
        ),
        Diagnostic("not_flattened", Severity.ERROR, "not flat", "Use the seed."),
    )
    rendered = text_render.render(report)
    assert rendered.count("Use the seed.") == 1
    assert hint not in rendered
    assert rendered.count("ignores_seed") == 2, "the cause, and once above its consequences"
    assert "what follows from ignores_seed:" in rendered
    assert "· values_mismatch: values differ\n" in rendered
    assert "· wrong_param_values: params differ\n" in rendered, "older reports too"


def test_the_summary_is_not_repeated_by_the_diagnostic_that_says_it() -> None:
    said = "sol.py has no function named f (the name the exercise expects)"
    diagnostic = Diagnostic("entry_point_missing", Severity.ERROR, said, "Define it.")
    report = _with(diagnostic, summary=f"compile_error: {said}", failing_case=None)
    report.verdict = Verdict.COMPILE_ERROR
    assert text_render.render(report).count(said) == 1


def test_a_case_other_than_the_shown_one_is_printed_beside_its_diagnostic() -> None:
    other = Diagnostic(
        "param_tree_mismatch",
        Severity.ERROR,
        "your params/kernel has shape (6, 6); the reference's is (3, 6).",
        "Check the sizes.",
        {"case": "seed 7, batch=6, in_dim=3, features=6"},
    )
    same = Diagnostic(
        "wrong_in_axes",
        Severity.ERROR,
        "in_axes=1",
        "Use 0.",
        {"case": "seed 0, batch=2, in_dim=1, features=2"},
    )
    rendered = text_render.render(_with(same, other))
    assert "seen on another case than the one above: seed 7, batch=6, in_dim=3, features=6" in (
        rendered
    )
    assert rendered.count("seen on") == 1, "the shown case is not named again"


def test_a_library_error_is_one_line_cut_between_words_and_the_reference_explained() -> None:
    raised = "ValueError: " + " ".join(["axis spec None but output was batched"] * 10)
    diagnostic = Diagnostic(
        "split_rngs",
        Severity.ERROR,
        "Flax refused the layer; the reference's shares its key.",
        "Share the key.",
        {"raised": raised + "\n----\nFor simplicity, JAX has removed its internal frames"},
    )
    report = _with(diagnostic)
    assert report.failing_case is not None
    got = {"exception": "ValueError", "message": raised}
    report.failing_case = dataclasses.replace(report.failing_case, got=got)
    rendered = text_render.render(report)
    (line,) = [ln for ln in rendered.splitlines() if "the original error:" in ln]
    quoted = line.split("the original error: ")[1]
    assert quoted.endswith(" ...") and len(line) < 200
    assert raised.startswith(quoted.removesuffix(" ...")), "whole words, from the start"
    assert raised[len(quoted) - 4] == " ", "cut where a word ends"
    assert "For simplicity" not in rendered
    assert "got      raised ValueError (see below)" in rendered
    assert rendered.count('"The reference" is') == 1
    assert '"The reference"' not in text_render.render(wrong_answer_report()), "only when named"


def test_a_failure_never_shrunk_is_not_called_the_smallest() -> None:
    report = _with(Diagnostic("timeout", Severity.ERROR, "no answer within 2 s", "Loop?"))
    assert report.failing_case is not None
    report.failing_case = dataclasses.replace(
        report.failing_case, mismatch=None, got=None, shrink_steps=0
    )
    rendered = text_render.render(report)
    assert "\n  failing case:\n" in rendered
    assert "\n  smallest failing case" not in rendered


def test_why_an_item_earned_nothing_is_said_once_for_the_items_sharing_it() -> None:
    blocked = "not earned: it counts only once 'built' is earned"
    items = [
        {"title": "built", "passed": False, "score": 0.0, "weight": 0.2, "required": True},
        *[
            {
                "title": t,
                "passed": False,
                "score": 0.0,
                "weight": 0.4,
                "required": True,
                "note": blocked,
            }
            for t in ("shared", "tree")
        ],
        {
            "title": "other",
            "passed": False,
            "score": 0.0,
            "weight": 0.2,
            "required": False,
            "note": "not earned: something else",
        },
    ]
    results = [RubricResult.from_dict(item) for item in items]
    lines = [line.plain for line in text_render._rubric_lines(results)]
    assert sum(blocked in line for line in lines) == 1
    assert (
        lines[lines.index(next(x for x in lines if blocked in x)) - 1].strip().startswith("✗ tree")
    ), "said after the last item of the run"
    assert "the 2 items above: " + blocked in "\n".join(lines)
    assert lines[-1].strip() == "not earned: something else", "a lone note has no count"


@given(lines=st.integers(0, 200), truncated=st.booleans())
def test_a_cut_output_says_what_it_left_out(lines: int, truncated: bool) -> None:
    from judge.render.text import MAX_OUTPUT_LINES, cut_note

    note = cut_note(lines, truncated)
    if lines > MAX_OUTPUT_LINES:
        assert f"+{lines - MAX_OUTPUT_LINES} more lines" in note
    elif truncated:
        assert "output limit" in note
    else:
        assert note == ""
