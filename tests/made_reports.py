"""Hand-made reports for the renderers' tests (no JAX): one wrong answer with a rubric of four
items, and its variants. Shared so that every platform's renderer is tested on the same
report."""

from __future__ import annotations

from typing import Any

from judge.result import Diagnostic, FailingCase, Report, RubricResult, Severity, Verdict

RUBRIC = [
    {"id": "outputs_match", "title": "outputs match", "check": "outputs", "weight": 0.55,
     "required": True, "passed": False, "score": 0.275, "codes": ["values_mismatch"]},
    {"id": "built_with_nn_vmap", "title": "built with nn.vmap", "check": "transform",
     "weight": 0.15, "required": True, "passed": True, "score": 0.15, "codes": []},
    {"id": "params_shared", "title": "params shared", "check": "variable_shapes",
     "weight": 0.15, "required": False, "passed": True, "score": 0.15, "codes": []},
    {"id": "param_tree", "title": "params at params/kernel", "check": "variable_paths",
     "weight": 0.15, "required": False, "passed": False, "score": 0.0, "codes": ["missing_bias"]},
]  # fmt: skip


def rubric(**changes: Any) -> list[RubricResult]:
    """The four items, each with ``changes`` applied."""
    return [RubricResult.from_dict({**item, **changes}) for item in RUBRIC]


def wrong_answer(submission: str = "solution.py", **changes: Any) -> Report:
    """A wrong answer worth 0.575: two diagnostics, a failing case, the rubric above."""
    base = Report(
        problem="nn_vmap_forward",
        submission=submission,
        verdict=Verdict.WRONG_ANSWER,
        score=0.575,
        summary="wrong_answer on case 2 of 24 (values_mismatch)",
        failing_case=FailingCase(0, {"seed": 0}, None, None, None, "nn_vmap_forward(0, x, 2)"),
        diagnostics=[
            Diagnostic("values_mismatch", Severity.ERROR, "2 of 4 values differ", "Flatten."),
            Diagnostic("missing_bias", Severity.ERROR, "your layer has no bias", "Keep it."),
        ],
        timing={"total_s": 3.25},
        rubric=rubric(),
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def accepted(submission: str = "solution.py") -> Report:
    items = [RubricResult.from_dict({**i, "passed": True, "score": i["weight"], "codes": []})
             for i in RUBRIC]  # fmt: skip
    return wrong_answer(submission, verdict=Verdict.ACCEPTED, score=1.0, summary="accepted",
                        rubric=items, diagnostics=[], failing_case=None)  # fmt: skip


def unrun(verdict: Verdict, code: str, message: str, hint: str = "") -> Report:
    """A grading with no rubric: a judge error, a file that could not be read or loaded."""
    broke = Diagnostic(code, Severity.ERROR, message, hint)
    return wrong_answer(verdict=verdict, score=0.0, summary=str(verdict), rubric=[],
                        diagnostics=[broke], failing_case=None)  # fmt: skip
