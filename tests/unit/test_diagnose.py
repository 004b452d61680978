"""Diagnostics say what the learner did, where, and how to fix it; problems may reword hints."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from judge import decide, diagnose
from judge.cases import Case
from judge.problem import load_problem
from judge.result import Diagnostic, Mismatch, Severity


@pytest.fixture(scope="module")
def problem():
    return load_problem("nn_vmap_forward")


@pytest.fixture
def case() -> Case:
    x = np.array([[0.5], [-1.0]], dtype=np.float32)
    return Case({"seed": 1234, "batch": 2, "in_dim": 1, "features": 2, "x_batch": x})


def test_mismatch_names_the_case_and_uses_the_problem_hint(problem, case) -> None:
    found = Mismatch(
        "not_flattened",
        "output has shape (2, 2); expected (4,)",
        {"values_match_when_flattened": True},
    )
    diagnostic = diagnose.mismatch(problem, case, 2, found)
    assert diagnostic.code == "not_flattened"
    assert diagnostic.severity is Severity.ERROR
    assert "case 3 (seed 1234, batch=2, in_dim=1, features=2)" in diagnostic.message
    assert diagnostic.message.endswith("once flattened, your values are right")
    assert diagnostic.hint == problem.hints["not_flattened"]
    assert diagnostic.evidence["case"] == "seed 1234, batch=2, in_dim=1, features=2"


def test_generic_hint_when_the_problem_has_none(problem, case) -> None:
    bare = dataclasses.replace(problem, hints={})
    diagnostic = diagnose.mismatch(bare, case, 0, Mismatch("non_finite_output", "NaN", {}))
    assert "division by zero" in diagnostic.hint


@pytest.mark.parametrize(
    ("reply", "code", "words"),
    [
        (
            {"code": "syntax_error", "message": "expected ':' (line 3)"},
            "syntax_error",
            "Python cannot parse sol.py: expected ':' (line 3)",
        ),
        (
            {"code": "import_error", "message": "No module named 'torch'"},
            "import_error",
            "importing sol.py failed: No module named 'torch'",
        ),
        (
            {"code": "entry_point_missing", "evidence": {"did_you_mean": "nn_vmap_fwd"}},
            "entry_point_missing",
            "defines nn_vmap_fwd: did you mean nn_vmap_forward? Rename nn_vmap_fwd to "
            "nn_vmap_forward.",
        ),
        (
            {"code": "entry_point_not_callable", "evidence": {"type": "int"}},
            "entry_point_not_callable",
            "nn_vmap_forward is an int, not a function",
        ),
        (
            {"code": "exception", "evidence": {"type": "SystemExit"}},
            "exception",
            "called exit() or raised SystemExit while being loaded",
        ),
        (
            {
                "code": "exception",
                "evidence": {"type": "ZeroDivisionError", "message": "division by zero"},
            },
            "exception",
            "raised ZeroDivisionError while being loaded: division by zero",
        ),
    ],
)
def test_load_failures(problem, reply, code, words) -> None:
    diagnostic = diagnose.load_failure(problem, "sol.py", reply)
    assert diagnostic.code == code
    assert words in diagnostic.message
    assert diagnostic.hint


def test_signature_warning_is_a_warning(problem) -> None:
    diagnostic = diagnose.signature_warning(
        problem,
        {
            "signature": "nn_vmap_forward(s, x, f)",
            "expected": "nn_vmap_forward(seed, x_batch, features)",
        },
    )
    assert diagnostic.severity is Severity.WARNING
    assert "still works" in diagnostic.message


def test_process_died_names_the_signal(problem, case) -> None:
    assert "SIGSEGV" in diagnose.process_died(problem, case, 0, -11, "on").message
    assert "exit status 3" in diagnose.process_died(problem, case, 0, 3, "on").message


def test_exception_keeps_the_learner_traceback(problem, case) -> None:
    reply = {
        "type": "ValueError",
        "message": "ValueError: boom\nmore",
        "line": 5,
        "traceback": ['File "sol.py", line 5, in nn_vmap_forward'],
    }
    diagnostic = diagnose.exception(problem, case, 0, reply)
    assert "raised ValueError: boom on case 1" in diagnostic.message
    assert diagnostic.evidence["traceback"] == reply["traceback"]
    assert diagnostic.evidence["line"] == 5


def test_timeouts_say_which_limit(problem, case) -> None:
    assert "within 2 s on case 1" in diagnose.timeout(problem, case, 0, 2.0, "call").message
    assert "whole submission" in diagnose.timeout(problem, case, 0, 60.0, "submission").message
    assert "loading your file" in diagnose.timeout(problem, None, None, 2.0, "call").message


FLAX_TEXT = (
    "ValueError: at vmap out_axes[1][0][0]['params']['kernel'], got axis spec None but output "
    "was batched on axis 0\n--------------------\nFor simplicity, JAX has removed its internal "
    "frames from the traceback of the following exception."
)


def test_a_known_error_keeps_the_whole_original_and_its_first_line(problem, case) -> None:
    reply = {"type": "ValueError", "message": FLAX_TEXT, "traceback": []}
    found = diagnose.translate(problem, diagnose.exception(problem, case, 0, reply))
    assert found.code == "split_rngs"
    assert found.message.startswith("Flax refused the layer")
    assert found.evidence["message"] == FLAX_TEXT, "the full text stays in the JSON"
    assert found.evidence["raised"] == FLAX_TEXT.splitlines()[0], "its first line, whole"


def test_an_unknown_error_is_quoted_by_its_first_line_cut_between_words(problem, case) -> None:
    text = "RuntimeError: " + " ".join(f"word{k}" for k in range(200))
    diagnostic = diagnose.exception(problem, case, 0, {"type": "RuntimeError", "message": text})
    quoted = diagnostic.message.split(" raised ", 1)[1].split(" on case 1")[0]
    assert quoted.endswith(" ...") and len(quoted) <= 200
    assert quoted.removesuffix(" ...").split(" ") == text.split(" ")[: quoted.count(" ")]
    assert diagnostic.evidence["message"] == text


def test_the_did_you_mean_names_the_expected_function_never_the_learners(problem) -> None:
    reply = {"code": "entry_point_missing", "evidence": {"did_you_mean": "nn_vmap_foward"}}
    message = diagnose.load_failure(problem, "sol.py", reply).message
    assert "did you mean nn_vmap_forward?" in message
    assert "did you mean nn_vmap_foward" not in message
    bare = diagnose.load_failure(problem, "sol.py", {"code": "entry_point_missing"}).message
    assert "did you mean" not in bare and "no function named nn_vmap_forward" in bare


def test_a_shrunk_case_is_named_as_the_smallest_failing_one(problem, case) -> None:
    found = diagnose.mismatch(problem, case, None, Mismatch("values_mismatch", "off", {}))
    assert "on the smallest failing case (seed 1234, batch=2" in found.message


def test_earlier_calls_that_differ_only_in_an_array_say_so(problem, case) -> None:
    other = case.replace({"x_batch": case.values["x_batch"] * 2})
    found = diagnose.state_between_calls(problem, case, [other, case], "passed", True)
    assert "features=2, another x_batch; seed 1234" in found.message
    assert found.message.count("the same call") == 1


def test_consequences_record_their_cause(problem) -> None:
    cause = Diagnostic("ignores_seed", Severity.ERROR, "seed ignored")
    symptom = Diagnostic("values_mismatch", Severity.ERROR, "values differ")
    _, marked = decide.rank([symptom, cause])
    assert marked.evidence["consequence_of"] == "ignores_seed"
    assert marked.severity is Severity.INFO
