"""``--format classroom`` and ``--format prairielearn``, checked against validators written from
each format's field rules (the renderers' docstrings), and PrairieLearn's entry script run in a
simulated ``/grade`` tree.

Hand-made reports need no JAX; the tests marked slow grade real submissions.
"""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import made_reports as made
import pytest

from judge import cli
from judge.assignment import render as assignment_render
from judge.assignment.report import AssignmentReport, PartReport
from judge.render import FORMATS, classroom, prairielearn
from judge.result import Report, Verdict

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "judge" / "bundle_scripts" / "prairielearn_grade.sh"
SUBMISSIONS = ROOT / "submissions" / "nn_vmap_forward"
CANONICAL = SUBMISSIONS / "accepted" / "canonical.py"
NO_BIAS = SUBMISSIONS / "wrong_answer" / "no_bias.py"


def report(**changes: Any) -> Report:
    return made.wrong_answer(**changes)


def accepted() -> Report:
    return made.accepted()


def judge_error() -> Report:
    return made.unrun(Verdict.JUDGE_ERROR, "reference_failed", "the reference raised")


def unreadable() -> Report:
    return made.unrun(Verdict.COMPILE_ERROR, "unreadable_submission", "cannot read solution.py")


def compile_error() -> Report:
    return made.unrun(Verdict.COMPILE_ERROR, "syntax_error", "line 3: invalid syntax", "Fix it.")


REPORTS = {
    "wrong_answer": report,
    "accepted": accepted,
    "judge_error": judge_error,
    "unreadable": unreadable,
    "compile_error": compile_error,
}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# -- GitHub Classroom ---------------------------------------------------------------------------

CLASSROOM_TEST_KEYS = {
    "name", "status", "score", "message", "test_code", "filename", "line_no", "execution_time",
}  # fmt: skip


def classroom_problems(
    result: Any, verdict: str | None = None, assignment: bool = False
) -> list[str]:
    """What breaks the rules of ``judge/render/classroom.py``'s docstring; [] when none."""
    if not isinstance(result, dict):
        return ["not an object"]
    found = []
    if set(result) != {"version", "status", "max_score", "tests"}:
        found.append(f"top-level keys {sorted(result)}")
    if result.get("version") != 1 or isinstance(result.get("version"), bool):
        found.append("version is not 1")
    if result.get("status") not in ("pass", "fail", "error"):
        found.append(f"status {result.get('status')!r}")
    if verdict is not None:
        wanted = {"accepted": "pass", "judge_error": "error"}.get(verdict, "fail")
        if result.get("status") != wanted:
            found.append(f"status {result.get('status')!r} for {verdict}, not {wanted!r}")
    max_score = result.get("max_score")
    if not _number(max_score) or max_score <= 0:
        return [*found, f"max_score {max_score!r}"]
    tests = result.get("tests")
    if not isinstance(tests, list) or not tests:
        return [*found, "tests is not a non-empty list"]
    for k, test in enumerate(tests):
        status = "mixed" if assignment and result["status"] == "error" else result["status"]
        found += [f"tests[{k}]: {p}" for p in _classroom_test(test, status)]
    errors = [t for t in tests if isinstance(t, dict) and t.get("status") == "error"]
    if assignment and result["status"] == "error" and not errors:
        found.append("an error with no test in error")
    return found


def _classroom_test(test: Any, status: str) -> list[str]:
    if not isinstance(test, dict) or set(test) != CLASSROOM_TEST_KEYS:
        return [f"keys {sorted(test) if isinstance(test, dict) else test!r}"]
    found = []
    if not isinstance(test["name"], str) or not test["name"]:
        found.append("name is not a non-empty string")
    # An assignment in error: the problem the judge failed on is in error, the others as graded.
    allowed = {"error": ("error",), "mixed": ("pass", "fail", "error")}.get(
        status, ("pass", "fail")
    )
    if test["status"] not in allowed:
        found.append(f"status {test['status']!r}")
    if not _number(test["score"]) or test["score"] < 0:
        found.append(f"score {test['score']!r}")
    for key in ("message", "test_code", "filename", "execution_time"):
        if not isinstance(test[key], str):
            found.append(f"{key} is not a string")
    if test["status"] == "pass" and test["message"]:
        found.append("a passed test has a message")
    if test["status"] == "fail" and not test["message"]:
        found.append("a failed test says nothing")
    if test["line_no"] != 0 or isinstance(test["line_no"], bool):
        found.append(f"line_no {test['line_no']!r}")
    if not str(test["execution_time"]).endswith("s"):
        found.append(f"execution_time {test['execution_time']!r}")
    return found


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_classroom_follows_its_rules(name: str) -> None:
    graded = REPORTS[name]()
    result = json.loads(classroom.render(graded))
    assert classroom_problems(result, str(graded.verdict)) == []
    assert result["max_score"] == 100.0
    total = sum(t["score"] for t in result["tests"])
    assert total == pytest.approx(100 * graded.score, abs=0.01 * len(result["tests"]))
    if graded.rubric:
        assert [t["name"] for t in result["tests"]] == [i.title for i in graded.rubric]


def test_classroom_scores_items_by_weight() -> None:
    result = classroom.results(report(), points=20)
    assert classroom_problems(result, "wrong_answer") == []
    scores = {t["name"]: (t["status"], t["score"]) for t in result["tests"]}
    assert scores == {
        "outputs match": ("fail", 5.5),
        "built with nn.vmap": ("pass", 3.0),
        "params shared": ("pass", 3.0),
        "params at params/kernel": ("fail", 0.0),
    }
    failed = result["tests"][0]
    assert "2 of 4 values differ" in failed["message"]
    assert "reproduce: nn_vmap_forward(0, x, 2)" in failed["message"]
    assert failed["test_code"] == "judge grade solution.py --problem nn_vmap_forward"
    assert failed["filename"] == "solution.py" and failed["execution_time"] == "3.25s"


def test_classroom_judge_error_is_an_error_worth_nothing() -> None:
    result = classroom.results(judge_error())
    assert result["status"] == "error"
    assert [(t["name"], t["status"], t["score"]) for t in result["tests"]] == [
        ("verdict", "error", 0.0)
    ]
    assert "the reference raised" in result["tests"][0]["message"]


def test_the_validators_catch_broken_results() -> None:
    good = classroom.results(report())
    assert classroom_problems({**good, "status": "passed"})
    assert classroom_problems({**good, "tests": []})
    assert classroom_problems({**good, "tests": [{**good["tests"][0], "score": -1}]})
    assert classroom_problems(good, "accepted")
    pl = prairielearn.results(report())
    assert prairielearn_problems({**pl, "score": 57.5})
    assert prairielearn_problems({**pl, "gradable": "yes"})
    assert prairielearn_problems({**pl, "tests": [{**pl["tests"][0], "points": 1000}]})


# -- PrairieLearn -------------------------------------------------------------------------------


def prairielearn_problems(
    result: Any, gradable: bool | None = None, total: float = 100.0
) -> list[str]:
    """What breaks the rules of ``judge/render/prairielearn.py``'s docstring; [] when none."""
    if not isinstance(result, dict):
        return ["not an object"]
    found = []
    if set(result) != {"gradable", "score", "message", "output", "tests"}:
        found.append(f"top-level keys {sorted(result)}")
    if not isinstance(result.get("gradable"), bool):
        found.append("gradable is not a bool")
    elif gradable is not None and result["gradable"] is not gradable:
        found.append(f"gradable is {result['gradable']}, not {gradable}")
    score = result.get("score")
    if not isinstance(score, float) or not 0.0 <= score <= 1.0:
        found.append(f"score {score!r} is not a float in [0, 1]")
    elif result.get("gradable") is False and score != 0.0:
        found.append("an ungradable result has a score")
    for key in ("message", "output"):
        if not isinstance(result.get(key), str):
            found.append(f"{key} is not a string")
    tests = result.get("tests")
    if not isinstance(tests, list):
        return [*found, "tests is not a list"]
    for k, test in enumerate(tests):
        found += [f"tests[{k}]: {p}" for p in _prairielearn_test(test, result.get("gradable"))]
    if tests and not math.isclose(sum(t.get("max_points", 0) for t in tests), total):
        found.append(f"the tests' max_points do not sum to {total:g}")
    return found


def _prairielearn_test(test: Any, gradable: object) -> list[str]:
    keys = {"name", "points", "max_points", "message", "output"}
    if not isinstance(test, dict) or set(test) != keys:
        return [f"keys {sorted(test) if isinstance(test, dict) else test!r}"]
    found = [f"{k} is not a string" for k in ("name", "message", "output")
             if not isinstance(test[k], str)]  # fmt: skip
    if not _number(test["max_points"]) or test["max_points"] < 0:
        found.append(f"max_points {test['max_points']!r}")
    elif not _number(test["points"]) or not 0 <= test["points"] <= test["max_points"]:
        found.append(f"points {test['points']!r} not in [0, max_points]")
    elif gradable is False and test["points"] != 0:
        found.append("an ungradable result earns points")
    return found


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_prairielearn_follows_its_rules(name: str) -> None:
    graded = REPORTS[name]()
    result = json.loads(prairielearn.render(graded))
    expect_gradable = name not in ("judge_error", "unreadable")
    assert prairielearn_problems(result, expect_gradable) == []
    assert result["message"] == graded.summary
    assert result["output"]  # the text report, or what went wrong
    if expect_gradable:
        assert result["score"] == graded.score
        points = sum(t["points"] for t in result["tests"])
        assert points == pytest.approx(100 * graded.score, abs=0.01 * len(result["tests"]))


def test_prairielearn_tests_say_what_cost_points() -> None:
    tests = {t["name"]: t for t in prairielearn.results(report())["tests"]}
    assert tests["built with nn.vmap"]["message"] == "passed"
    assert tests["built with nn.vmap"]["output"] == ""
    assert tests["params at params/kernel"]["message"] == "your layer has no bias"
    assert "Hint: Keep it." in tests["params at params/kernel"]["output"]
    assert "\x1b" not in prairielearn.results(report())["output"]  # no colour codes


def test_both_formats_are_choices_of_the_command_line() -> None:
    assert {"classroom", "prairielearn"} <= set(FORMATS)


# -- the PrairieLearn entry script, in a simulated /grade tree ----------------------------------


def grade_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    (root / "serverFilesCourse").mkdir()
    for name, body in files.items():
        (root / "student" / name).write_text(body)
    return root


def fake_judge(tmp_path: Path, body: str) -> Path:
    """A stand-in ``judge`` that logs its arguments, then runs ``body``."""
    path = tmp_path / "judge"
    path.write_text(f'#!/usr/bin/env bash\necho "$@" >>"{tmp_path}/args"\n{body}\n')
    path.chmod(0o755)
    return path


def run_script(root: Path, judge: Path | str, **env: str) -> dict[str, Any]:
    environment = {**os.environ, "ROOT": str(root), "JUDGE": str(judge), **env}
    done = subprocess.run(["bash", str(SCRIPT)], env=environment, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results: dict[str, Any] = json.loads((root / "results" / "results.json").read_text())
    assert not (root / "results" / "results.json.part").exists()
    return results


def test_script_writes_the_judges_results(tmp_path: Path) -> None:
    root = grade_tree(tmp_path, {"b.py": "x = 1\n", "a.py": "x = 2\n", ".hidden.py": ""})
    good = json.dumps(prairielearn.results(report()))
    judge = fake_judge(tmp_path, f"echo '{good}'\nexit 1")
    results = run_script(root, judge, JUDGE_PROBLEM="nn_vmap_forward", JUDGE_SANDBOX="none")
    assert prairielearn_problems(results, True) == [] and results["score"] == 0.575
    args = (tmp_path / "args").read_text().split()
    assert args[:2] == ["grade", str(root / "student")]  # the judge picks, by its one rule
    assert args[args.index("--pick") + 1] == "first"
    assert "--problem" in args and "nn_vmap_forward" in args
    assert args[args.index("--sandbox") + 1] == "none"
    assert "--problems" not in args  # serverFilesCourse has no problems/ folder here


def test_script_grades_an_assignment_when_told(tmp_path: Path) -> None:
    root = grade_tree(tmp_path, {"sol.py": ""})
    good = json.dumps(assignment_render.prairielearn_results(assignment_of(accepted(), report())))
    results = run_script(root, fake_judge(tmp_path, f"echo '{good}'\nexit 1"),
                         JUDGE_ASSIGNMENT="hw_vmap")  # fmt: skip
    assert prairielearn_problems(results, True, total=40.0) == []
    args = (tmp_path / "args").read_text().split()
    assert args[args.index("--assignment") + 1] == "hw_vmap" and "--problem" not in args


def test_script_passes_a_judge_error_on(tmp_path: Path) -> None:
    root = grade_tree(tmp_path, {"sol.py": ""})
    (root / "serverFilesCourse" / "problems").mkdir()
    broke = json.dumps(prairielearn.results(judge_error()))
    results = run_script(root, fake_judge(tmp_path, f"echo '{broke}'\nexit 3"))
    assert prairielearn_problems(results, False) == []
    args = (tmp_path / "args").read_text().split()
    assert args[args.index("--problems") + 1] == str(root / "serverFilesCourse" / "problems")


@pytest.mark.parametrize(
    ("files", "body", "words"),
    [
        ({}, "exit 0", "No .py or .ipynb file"),
        ({"sol.py": ""}, "echo 'judge: error: no such problem' >&2\nexit 2", "exit status 2"),
        ({"sol.py": ""}, "echo '{\"gradable\": tr'\nkill -9 $$", "exit status 137"),
        ({"sol.py": ""}, "exit 0", "exit status 0"),  # nothing written
    ],
)
def test_script_always_writes_results(
    tmp_path: Path, files: dict[str, str], body: str, words: str
) -> None:
    root = grade_tree(tmp_path, files)
    results = run_script(root, fake_judge(tmp_path, body))
    assert prairielearn_problems(results, False) == []
    assert words in results["message"]


def test_script_when_the_judge_is_missing(tmp_path: Path) -> None:
    root = grade_tree(tmp_path, {"sol.py": ""})
    results = run_script(root, tmp_path / "no-such-judge")
    assert prairielearn_problems(results, False) == []
    assert "exit status 127" in results["message"]


# -- real gradings ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("path", "verdict"), [(CANONICAL, "accepted"), (NO_BIAS, "wrong_answer")])
def test_real_gradings_in_both_formats(
    path: Path, verdict: str, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["grade", str(path), "--problem", "nn_vmap_forward", "--sandbox", "none"]
    code = cli.main([*common, "--format", "classroom"])
    out = capsys.readouterr().out
    assert code == (0 if verdict == "accepted" else 1)
    result = json.loads(out)
    assert classroom_problems(result, verdict) == []
    assert cli.main([*common, "--format", "prairielearn"]) == code
    pl = json.loads(capsys.readouterr().out)
    assert prairielearn_problems(pl, True) == []
    assert (pl["score"] == 1.0) is (verdict == "accepted")
    assert len(pl["tests"]) == len(result["tests"]) > 1


@pytest.mark.slow
def test_script_with_the_real_judge(tmp_path: Path) -> None:
    root = grade_tree(tmp_path, {"solution.py": NO_BIAS.read_text()})
    judge = Path(sys.executable).parent / "judge"  # the venv running the tests
    results = run_script(
        root,
        judge,
        JUDGE_PROBLEM="nn_vmap_forward",
        JUDGE_PROBLEMS=str(ROOT / "problems"),
        JUDGE_SANDBOX="none",
    )
    assert prairielearn_problems(results, True) == []
    assert 0.0 < results["score"] < 1.0


def _as_the_reporter_reads(env: dict[str, str], runners: str) -> tuple[float, float, str]:
    """GitHub Classroom's grading reporter, its reading written out (``src/main.js``,
    ``notify-classroom.js``): each runner's ``<RUNNER>_RESULTS`` variable is base64 JSON; the
    points are the tests' scores added up, against the runners' ``max_score``; the run fails
    when any ``status`` is ``fail`` or ``error``."""
    total = maximum = 0.0
    outcome = "passed"
    for runner in runners.split(","):
        results = json.loads(base64.b64decode(env[f"{runner.strip().upper()}_RESULTS"]))
        if results.get("max_score"):
            maximum += results["max_score"]
            total += sum(test["score"] for test in results["tests"])
        if results["status"] in ("fail", "error"):
            outcome = "failed"
    return total, maximum, outcome


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_the_reporter_reads_the_judges_points(name: str) -> None:
    graded = REPORTS[name]()
    encoded = base64.b64encode(classroom.render(graded).encode()).decode()
    total, maximum, outcome = _as_the_reporter_reads({"JUDGE_RESULTS": encoded}, "judge")
    assert maximum == 100.0
    assert total == pytest.approx(100 * graded.score, abs=0.05)
    assert (outcome == "passed") == (graded.verdict is Verdict.ACCEPTED)


# -- an assignment: each problem's items out of its own points -----------------------------------


def assignment_of(*parts: Report) -> AssignmentReport:
    points = (10.0, 30.0, 5.0)
    return AssignmentReport(
        assignment="hw_vmap",
        title="Homework",
        submission="solution.py",
        parts=[PartReport(f"problem_{k}", "f", points[k], part) for k, part in enumerate(parts)],
        timing={"total_s": 4.0},
    )


@pytest.mark.parametrize(
    "parts",
    [(accepted(), accepted()), (accepted(), report()), (report(), judge_error(), accepted())],
    ids=["all accepted", "one wrong", "one judge_error"],
)
def test_an_assignment_in_both_formats_counts_each_problems_points(parts: tuple[Report]) -> None:
    graded = assignment_of(*parts)
    verdict = str(graded.verdict)
    result = assignment_render.classroom_results(graded)
    assert classroom_problems(result, verdict, assignment=True) == []
    assert result["max_score"] == graded.max_points
    names = [t["name"] for t in result["tests"]]
    assert all(n.split(": ", 1)[0] in {p.problem for p in graded.parts} for n in names)
    encoded = base64.b64encode(json.dumps(result).encode()).decode()
    total, maximum, outcome = _as_the_reporter_reads({"HW_RESULTS": encoded}, "hw")
    if verdict != "judge_error":
        assert total == pytest.approx(graded.points, abs=0.01 * len(names))
    assert maximum == graded.max_points
    assert (outcome == "passed") == (verdict == "accepted")
    pl = assignment_render.prairielearn_results(graded)
    gradable = verdict != "judge_error"
    assert prairielearn_problems(pl, gradable, total=graded.max_points) == []
    if gradable:
        assert pl["score"] == pytest.approx(graded.score)
        earned = sum(t["points"] for t in pl["tests"])
        assert earned == pytest.approx(graded.points, abs=0.01 * len(names))


def test_an_assignment_takes_both_formats_on_the_command_line() -> None:
    assert {"classroom", "prairielearn"} <= set(assignment_render.FORMATS)


@pytest.mark.slow
def test_a_real_assignment_grading_in_both_formats(capsys: pytest.CaptureFixture[str]) -> None:
    common = ["grade", str(CANONICAL), "--assignment", "hw_vmap", "--sandbox", "none"]
    code = cli.main([*common, "--format", "classroom"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1  # the file lacks the other problem's function
    assert classroom_problems(result, "compile_error", assignment=True) == []
    problems = {t["name"].split(": ", 1)[0] for t in result["tests"]}
    assert problems == {"nn_vmap_forward", "nn_vmap_ensemble"}
    assert cli.main([*common, "--format", "prairielearn"]) == 1
    pl = json.loads(capsys.readouterr().out)
    assert prairielearn_problems(pl, True, total=result["max_score"]) == []
    assert 0.0 < pl["score"] < 1.0
