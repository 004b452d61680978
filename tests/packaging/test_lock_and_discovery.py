"""judge lock, the problems a plain install finds, rubric visibility, and mixed versions.

All fast: no JAX worker starts here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from judge import cli, lock
from judge import problem as problem_module
from judge.batch.store import Record, common_notes, mixed_versions, summary_html
from judge.errors import ProblemError, UsageError
from judge.problem import load_problem, load_problem_file

ROOT = Path(__file__).resolve().parents[2]


# --- judge lock --------------------------------------------------------------------------------


def test_lock_pins_the_whole_closure_with_the_python_it_came_from() -> None:
    pins = lock.installed_pins()
    for name in ("jax", "jaxlib", "flax", "numpy", "hypothesis", "pyyaml", "rich"):
        assert name in pins, f"{name} is a dependency and must be pinned"
    assert "fsspec" in pins  # needed through orbax's etils[epath]: an extra is followed
    assert not {"pip", "setuptools", "jax-judge"} & set(pins)
    read = lock.parse(lock.render(pins))
    assert read.pins == pins and read.python == lock.python_minor()
    assert lock.differences(read) == []


def test_extras_and_markers_in_requirements() -> None:
    found = lock._requirements(
        ["etils[epath, epy] (>=1)", 'fsspec ; extra == "epath"', 'mock ; extra == "test"', "x"],
        frozenset({"epath"}),
    )
    assert found == [
        ("etils", frozenset({"epath", "epy"})),
        ("fsspec", frozenset()),
        ("x", frozenset()),
    ]


def test_a_lock_that_differs_says_how(tmp_path: Path) -> None:
    text = lock.render({"jax": "0.0.1", "not-a-package-here": "1.0"})
    text = text.replace(f"# python: {lock.python_minor()}", "# python: 3.99")
    path = tmp_path / "constraints.txt"
    path.write_text(text)
    found = lock.differences(lock.read(path))
    assert any(line.startswith("jax ") and "0.0.1 in the lock" in line for line in found)
    assert "not-a-package-here not installed, 1.0 in the lock" in found
    assert any(line.startswith("python ") for line in found)
    assert cli.main(["lock", "--check", str(path)]) == 1
    facts = lock.facts(lock.read(path))
    assert facts["matches"] is False and facts["file"] == "constraints.txt"


def test_a_bad_lock_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r":3: expected name==version"):
        lock.parse("# python: 3.11\njax==0.4.30\njax>=0.4\n", tmp_path / "c.txt")
    with pytest.raises(UsageError, match=r"no '# python: 3\.X' line"):
        lock.parse("jax==0.4.30\n")


def test_judge_lock_writes_a_file_that_matches(tmp_path: Path) -> None:
    path = tmp_path / "constraints.txt"
    assert cli.main(["lock", "-o", str(path)]) == 0
    assert cli.main(["lock", "--check", str(path)]) == 0
    assert f"jax=={lock.installed_pins()['jax']}" in path.read_text().splitlines()


# --- discovery ---------------------------------------------------------------------------------


def test_a_wheel_install_finds_the_bundled_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where setup.py puts the set in a wheel (judge/_bundled) wins over the folder beside
    the package (in site-packages, some other distribution's ``problems``)."""
    bundled = tmp_path / "judge" / "_bundled"
    shutil.copytree(ROOT / "problems", bundled / "problems")
    shutil.copytree(ROOT / "reference", bundled / "reference")
    monkeypatch.setattr(problem_module, "BUNDLED_DIR", bundled)
    monkeypatch.delenv("JUDGE_PROBLEMS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert problem_module.default_problems_dir() == bundled / "problems"
    loaded = load_problem("nn_vmap_forward")
    assert loaded.reference == (bundled / "reference" / "nn_vmap_forward.py").resolve()


def test_an_empty_problem_list_is_an_error_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["list", "--problems", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no problem packages in" in err and "--problems DIR" in err
    assert "JUDGE_PROBLEMS" in err


def test_processes_help_says_what_the_report_says(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["grade", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "not enforced for root" not in text
    assert "pids cgroup" in text and "limits_enforced.processes" in text


# --- rubric visibility -------------------------------------------------------------------------


def _with_rubric(tmp_path: Path, visibility: object) -> Path:
    shutil.copytree(ROOT / "problems", tmp_path / "problems")
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    path = tmp_path / "problems" / "nn_vmap_forward" / "problem.yaml"
    data = yaml.safe_load(path.read_text())
    data["rubric"][1]["visibility"] = visibility
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_visibility_is_declared_per_rubric_item(tmp_path: Path) -> None:
    loaded = load_problem_file(_with_rubric(tmp_path, "after_due_date"))
    assert [i.visibility for i in loaded.rubric][:2] == ["visible", "after_due_date"]


def test_an_unknown_visibility_is_an_error_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(ProblemError) as raised:
        load_problem_file(_with_rubric(tmp_path, "after_due"))
    errors = dict(raised.value.errors)
    assert "did you mean 'after_due_date'" in errors["rubric[1].visibility"]


# --- mixed versions in a class -----------------------------------------------------------------


def _record(student: str, jax: str) -> Record:
    report = {
        "schema": "judge.report/1",
        "problem": "nn_vmap_forward",
        "submission": f"{student}.py",
        "verdict": "accepted",
        "score": 1.0,
        "summary": "accepted",
        "environment": {"python": "3.11.7", "jax": jax, "judge": "0.1.0"},
    }
    return Record(student, report, "ab" * 32, None, "1.1.0", "0.1.0", "k", "2025-01-01", 1.0)


def test_a_class_graded_under_mixed_versions_is_warned_about() -> None:
    same = [_record("a", "0.10.2"), _record("b", "0.10.2")]
    assert mixed_versions(same) == []
    assert not any("mixed versions" in line for line in common_notes(same, 0))
    mixed = [*same, _record("c", "0.4.30")]
    assert mixed_versions(mixed) == ["jax 0.10.2 (2), 0.4.30 (1)"]
    (line,) = [ln for ln in common_notes(mixed, 0) if "mixed versions" in ln]
    assert line.startswith("warning:") and "jax 0.10.2 (2), 0.4.30 (1)" in line
    assert "mixed versions" in summary_html(mixed)
    assert "mixed versions" not in summary_html(same)
    json.dumps([r.report for r in mixed])  # the records stay plain JSON


def test_the_codes_line_says_how_many_codes_it_leaves_out() -> None:
    from judge.batch.store import CODES_SHOWN

    records = []
    for i in range(CODES_SHOWN + 3):
        record = _record(f"s{i}", "0.10.2")
        record.report["diagnostics"] = [{"code": f"code_{i:02d}", "severity": "error"}]
        records.append(record)
    (line,) = [ln for ln in common_notes(records, 0) if ln.startswith("students per code")]
    assert line.count(" 1") == CODES_SHOWN
    assert line.endswith("+3 more (all in summary.html)")
    few = [ln for ln in common_notes(records[:2], 0) if ln.startswith("students per code")]
    assert "more" not in few[0]
