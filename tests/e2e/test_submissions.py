"""``judge check``, as tests: one test per check of every problem in the repository.

Each problem package must be valid, its reference accepted and its fingerprints not, and every
example in ``submissions/<problem>/<verdict>/`` must get that verdict, the diagnostic codes
``submissions/<problem>/expected.yaml`` declares for it, the first being the root cause, and a
score within the range it declares (every example here declares one: a weight change that
breaks what a rubric means to teach fails the suite). The
checks are the ones ``judge check`` runs (``judge.check``), so the two cannot disagree. Every
wrong answer's reproducer must give, in a fresh Python, the output its report shows; and a
file graded twice must get the same report.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from judge import GradeOptions, Report, Verdict, grade, load_problem
from judge.check import check_example, check_fingerprint, check_reference, examples
from judge.problem import problem_names

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS_DIR = ROOT / "problems"
PROBLEMS = problem_names(PROBLEMS_DIR)
OPTIONS = GradeOptions(limits={"call_s": 8.0})  # keeps the endless loop short

EXAMPLES = [(name, example) for name in PROBLEMS for example in examples(name, PROBLEMS_DIR)[0]]
FINGERPRINTS = [
    (name, index)
    for name in PROBLEMS
    for index in range(len(load_problem(name, PROBLEMS_DIR).fingerprints))
]


def test_there_are_problems_and_examples() -> None:
    assert len(PROBLEMS) >= 2
    for name in PROBLEMS:
        found = examples(name, PROBLEMS_DIR)[0]
        assert any(e.verdict == "accepted" for e in found), f"{name} has no accepted example"
        assert any(e.verdict == "wrong_answer" for e in found), f"{name} has no wrong example"


@pytest.mark.parametrize("name", PROBLEMS)
def test_expected_yaml_matches_the_examples(name: str) -> None:
    found, problems = examples(name, PROBLEMS_DIR)
    assert not problems
    for example in found:
        if example.verdict != "accepted":
            assert example.codes, f"{example.name}: declare at least its root-cause code"
        assert example.score is not None, f"{example.name}: declare its score (or a range)"


# What each rubric means to teach, as orderings of declared scores (no grading needed): the
# first example's whole range lies at least MARGIN below the second's. A plain nn.Dense and
# an ensemble miss the concept, so they earn well below a right nn.vmap that forgot to flatten.
MARGIN = 0.25
TEACHING = [
    ("nn_vmap_forward", "wrong_answer/plain_dense.py", "wrong_answer/not_flattened.py"),
    ("nn_vmap_forward", "wrong_answer/ensemble_same_key.py", "wrong_answer/not_flattened.py"),
    ("nn_vmap_forward", "wrong_answer/jax_vmap_per_example.py", "wrong_answer/not_flattened.py"),
    ("nn_vmap_forward", "wrong_answer/ensemble_same_key.py", "wrong_answer/no_bias.py"),
    ("nn_vmap_ensemble", "wrong_answer/plain_dense.py", "wrong_answer/not_flattened.py"),
    ("nn_vmap_ensemble", "wrong_answer/shared_layer.py", "wrong_answer/not_flattened.py"),
    ("nn_vmap_ensemble", "wrong_answer/shared_layer.py", "wrong_answer/same_key_for_all.py"),
]


@pytest.mark.parametrize(("name", "lower", "higher"), TEACHING)
def test_declared_scores_keep_the_teaching_intent(name: str, lower: str, higher: str) -> None:
    declared = {e.name: e.score for e in examples(name, PROBLEMS_DIR)[0]}
    low, high = declared[lower], declared[higher]
    assert low is not None and high is not None
    assert low[1] + MARGIN <= high[0], f"{lower} {low} is not well below {higher} {high}"


@pytest.mark.slow
@pytest.mark.parametrize("name", PROBLEMS)
def test_reference_is_accepted(name: str) -> None:
    result = check_reference(load_problem(name, PROBLEMS_DIR), OPTIONS)
    assert result.passed, result.message


@pytest.mark.slow
@pytest.mark.parametrize(("name", "index"), FINGERPRINTS, ids=[f"{n}-{i}" for n, i in FINGERPRINTS])
def test_fingerprint_is_not_accepted(name: str, index: int) -> None:
    result = check_fingerprint(load_problem(name, PROBLEMS_DIR), index, OPTIONS)
    assert result.passed, result.message


@functools.cache
def graded(name: str, path: Path) -> Report:
    """Each example graded once per run; the tests below read the same report."""
    return grade(path, load_problem(name, PROBLEMS_DIR), OPTIONS)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[f"{n}/{e.name}" for n, e in EXAMPLES])
def test_example_gets_its_verdict_and_codes(name: str, example) -> None:
    report = graded(name, example.path)
    result = check_example(load_problem(name, PROBLEMS_DIR), example, OPTIONS, report)
    assert result.passed, result.message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "example"),
    [(n, e) for n, e in EXAMPLES if e.verdict == "wrong_answer"][:6],
    ids=lambda v: getattr(v, "name", v),
)
def test_a_wrong_answer_report_is_complete(name: str, example) -> None:
    """Strict JSON; advice on every diagnostic; a case to paste when an output was wrong."""
    report = graded(name, example.path)
    data = report.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    for diagnostic in data["diagnostics"]:
        assert diagnostic["message"] and diagnostic["hint"], diagnostic
    assert 0.0 <= report.score < 1.0 and report.verdict is Verdict.WRONG_ANSWER
    entry_point = load_problem(name, PROBLEMS_DIR).entry_point
    if report.cases["passed"] < report.cases["run"]:
        assert report.failing_case is not None, report.summary
        assert f"{entry_point}(" in report.failing_case.reproducer


# --- the reproducer, and the same report twice ----------------------------------------------
# Every wrong-answer report's ``reproduce:`` line, run in a fresh Python after the learner's file,
# gives the ``got`` the report shows (the failure is confirmed in a fresh worker before it is
# reported, and one that needs earlier calls comes with them); grading the same file twice gives
# the same report, stateful and random code included.

WRONG = [(name, e) for name, e in EXAMPLES if e.verdict == "wrong_answer"]
# Run in a fresh interpreter: the learner's file, then the reproducer's statements in order;
# the last one's value is printed as the report prints a ``got``.
RUN = """
import json, sys
import numpy as np
from judge.cases import json_values
from judge.runtime.observer import type_name
from judge.runtime.recording import safe_repr
path, line = sys.argv[1], sys.argv[2]
namespace = {"__name__": "learner"}
exec(compile(open(path).read(), path, "exec"), namespace)
*setup, last = line.split("; ")
for statement in setup:
    exec(statement, namespace)
value = eval(last, namespace)
if isinstance(value, (tuple, dict, str, type(None))):
    print(json.dumps({"type": type_name(value), "repr": safe_repr(value)}))
else:
    array = np.asarray(value)
    print(json.dumps({"type": type_name(value), "dtype": str(array.dtype),
                      "shape": list(array.shape), "values": json_values(array.reshape(-1))}))
"""
# The deterministic-report check runs on every example (the promise is "any example");
# notebooks and files Python cannot parse are decided before any learner code runs, so they
# are left to the verdict test alone.
TWICE = [(name, e) for name, e in EXAMPLES if e.verdict not in ("compile_error",)]


def fresh_python(path: Path, reproducer: str) -> dict:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(path), reproducer],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=path.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize(("name", "example"), WRONG, ids=[f"{n}/{e.name}" for n, e in WRONG])
def test_the_reproducer_gives_the_got_the_report_shows(name: str, example) -> None:
    report = graded(name, example.path)
    failing = report.failing_case
    if failing is None:  # only the structure is wrong: every output matched
        assert report.cases["passed"] == report.cases["run"]
        return
    assert failing.fresh_process is True, "confirmed in a fresh worker"
    got = fresh_python(example.path, failing.reproducer)
    shown = dict(failing.got or {})
    shown.pop("truncated", None)
    assert got == shown, failing.reproducer


@pytest.mark.slow
@pytest.mark.parametrize(("name", "example"), TWICE, ids=[f"{n}/{e.name}" for n, e in TWICE])
def test_grading_twice_gives_the_same_report(name: str, example) -> None:
    first = graded(name, example.path).to_dict()
    second = grade(example.path, load_problem(name, PROBLEMS_DIR), OPTIONS).to_dict()
    for key in ("verdict", "score", "cases", "failing_case", "rubric", "summary"):
        assert first[key] == second[key], key
    assert [(d["code"], d["message"]) for d in first["diagnostics"]] == [
        (d["code"], d["message"]) for d in second["diagnostics"]
    ]


@pytest.mark.slow
def test_the_corpus_has_each_class_for_both_problems() -> None:
    """State kept between calls, mid-range coverage, the output's dtype and bisected seeds
    have wrong-answer examples in both problems; structure spellings have accepted ones."""
    for name in {n for n, _ in EXAMPLES}:
        stems = {e.path.stem for n, e in EXAMPLES if n == name}
        assert {"cache_by_seed", "call_counter", "seed_in_16_bits", "bfloat16_output"} <= stems
        assert "cache_ignores_features" in stems
        assert {"init_with_output", "in_axes_tuple"} <= stems
        assert any(s.startswith("half_precision_mid") for s in stems)


@pytest.mark.slow
def test_params_made_under_jax_vmap_are_not_called_shared() -> None:
    """They carry the batch axis they come out with: only the missing nn.vmap is reported."""
    name = "nn_vmap_ensemble"
    (example,) = [e for n, e in EXAMPLES if n == name and e.path.stem == "jax_vmap_init"]
    report = graded(name, example.path)
    assert [d.code for d in report.diagnostics] == ["no_nn_vmap"]
    shapes = next(r for r in report.rubric if r.check == "variable_shapes")
    assert shapes.codes == [], "its own check finds the batch axis it expects"
    assert shapes.blocked_by == ["built_with_nn_vmap"], "earned only once nn.vmap is used"
