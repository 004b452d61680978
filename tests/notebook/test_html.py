"""The inline report: every part a learner needs, learner text escaped, nothing that would
restyle a notebook page. Fast: built from a report made here."""

from __future__ import annotations

from judge.notebook import html
from judge.result import Diagnostic, FailingCase, Report, RubricResult, Severity, Verdict


def wrong_report() -> Report:
    return Report(
        problem="nn_vmap_forward",
        submission="this notebook",
        verdict=Verdict.WRONG_ANSWER,
        score=0.5,
        summary="wrong_answer on case 2 of 24",
        cases={"run": 24, "passed": 12, "seed": 0},
        failing_case=FailingCase(
            index=2,
            inputs={
                "seed": 0,
                "x_batch": {"shape": [2, 1], "dtype": "float32", "values": [0.0, 1.0]},
            },
            expected={"shape": [4], "dtype": "float32", "values": [0.0, 0.0, 0.08, -1.6]},
            got={"shape": [4], "dtype": "float32", "values": [0.0, 0.08, 0.0, -1.6]},
            mismatch={"code": "wrong_output_shape", "message": "2 of 4 values differ"},
            reproducer="nn_vmap_forward(0, np.array([[0.0], [1.0]]), 2)",
            shrink_steps=1,
        ),
        diagnostics=[
            Diagnostic(
                "wrong_flatten_order",
                Severity.ERROR,
                "column by column <b>",
                "Use out.reshape(-1).",
            ),
            Diagnostic("values_mismatch", Severity.INFO, "a consequence"),
        ],
        output={"stdout": "debug \x1b[2J<script>alert(1)</script>\n", "stderr": ""},
        environment={"backend": "cpu", "sandbox": "bwrap"},
        rubric=[
            RubricResult.from_dict(item)
            for item in (
                {
                    "id": "outputs_match",
                    "title": "outputs match",
                    "passed": False,
                    "score": 0.3,
                    "weight": 0.55,
                    "required": True,
                },
                {
                    "id": "params_shared",
                    "title": "params shared",
                    "passed": True,
                    "score": 0.15,
                    "weight": 0.15,
                    "required": False,
                },
            )
        ],
    )


def test_the_report_has_verdict_score_failing_case_findings_hints_and_rubric() -> None:
    page = html.report_html(wrong_report(), ["In [7] left out"])
    assert 'data-verdict="wrong_answer"' in page and '<span data-part="score">0.50</span>' in page
    assert 'data-part="failing-case"' in page and "shrunk in 1 step<" in page
    assert "nn_vmap_forward(0, np.array([[0.0], [1.0]]), 2)" in page
    assert 'data-code="wrong_flatten_order"' in page and 'data-part="hint"' in page
    assert 'data-item="outputs_match"' in page and "required" in page
    assert "note: In [7] left out" in page


def test_learner_text_cannot_inject_markup_or_escapes() -> None:
    page = html.report_html(wrong_report())
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "\x1b" not in page and "\\x1b[2J" in page
    assert "column by column &lt;b&gt;" in page


def test_colours_suit_light_and_dark_themes() -> None:
    """Text takes the theme's colour; badges are white on a fill; panels are translucent."""
    page = html.report_html(wrong_report())
    assert "<style" not in page and "<script" not in page.replace("&lt;script", "")
    assert "color:inherit" in page and "color:#fff" in page and "rgba(127,127,127" in page
    assert "background:#fff" not in page and "color:#000" not in page


def test_text_fallback_matches_the_report() -> None:
    text = html.report_text(wrong_report(), ["In [7] left out"])
    assert text.startswith("note: In [7] left out\nwrong_answer")
    assert "wrong_flatten_order" in text


def test_an_error_is_one_line_in_the_frame() -> None:
    page = html.error_html("no problem named 'x'")
    assert "judge.check: error:" in page and "no problem named &#x27;x&#x27;" in page
