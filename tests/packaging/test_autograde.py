"""judge autograde, what the Gradescope bundle's run_autograder runs: which file it grades, the
warning when that is not clear, and a results.json whatever happens. Fast: nothing here
reaches a JAX worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradescope_spec import problems_with

from judge import cli
from judge.autograder import choose

ROOT = Path(__file__).resolve().parents[2]
DEFINES = "def nn_vmap_forward(seed, x_batch, features):\n    return x_batch\n"


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_file_that_defines_the_entry_point(tmp_path: Path) -> None:
    found = folder(tmp_path, {"a.py": "x = 1\n", "sub/b.py": DEFINES, "notes.txt": DEFINES})
    assert choose(found, "nn_vmap_forward") == (found / "sub" / "b.py", [])


def test_several_qualify_graded_the_first_with_a_warning(tmp_path: Path) -> None:
    found = folder(tmp_path, {"b.py": DEFINES, "a.py": DEFINES, "c.py": "y = 2\n"})
    chosen, notes = choose(found, "nn_vmap_forward")
    assert chosen == found / "a.py"
    (note,) = notes
    assert "2 submitted files define nn_vmap_forward" in note and "graded a.py, not b.py" in note


def test_none_qualifies(tmp_path: Path) -> None:
    one = folder(tmp_path / "one", {"only.py": "x = 1\n"})
    assert choose(one, "nn_vmap_forward") == (one / "only.py", [])
    two = folder(tmp_path / "two", {"b.ipynb": "{}", "a.py": "x = 1\n"})
    chosen, (note,) = choose(two, "nn_vmap_forward")
    assert chosen == two / "a.py" and "none of the submitted files" in note


def test_junk_is_never_the_submission(tmp_path: Path) -> None:
    found = folder(
        tmp_path,
        {"__MACOSX/._a.py": DEFINES, ".ipynb_checkpoints/a.py": DEFINES, ".hidden.py": DEFINES},
    )
    assert choose(found, "nn_vmap_forward") == (None, [])
    assert choose(tmp_path / "missing", "nn_vmap_forward") == (None, [])


def autograde(tmp_path: Path, *extra: str) -> dict:
    (tmp_path / "submission").mkdir(exist_ok=True)
    argv = ["autograde", "--root", str(tmp_path), "--problem", "nn_vmap_forward"]
    assert cli.main([*argv, "--problems", str(ROOT / "problems"), *extra]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert problems_with(results) == []
    return results


def test_nothing_submitted(tmp_path: Path) -> None:
    results = autograde(tmp_path)
    assert results["score"] == 0 and "No .py or .ipynb file" in results["output"]


def test_a_judge_that_cannot_grade_still_writes_results(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("jax>=1\n")
    results = autograde(tmp_path, "--lock", str(tmp_path / "bad.txt"))
    assert results["score"] == 0 and "could not grade this" in results["output"]
    assert "tell your instructor" in results["output"]


@pytest.mark.slow
def test_a_graded_submission_records_the_lock(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    assert cli.main(["lock", "-o", str(constraints)]) == 0
    folder(
        tmp_path / "submission", {"a.py": (ROOT / "reference" / "nn_vmap_forward.py").read_text()}
    )
    results = autograde(tmp_path, "--lock", str(constraints), "--points", "10")
    assert results["score"] == 10 and sum(t["max_score"] for t in results["tests"]) == 10
    lock = results["extra_data"]["lock"]
    assert lock["matches"] is True and lock["pins"]["jax"]
    assert results["extra_data"]["report"]["environment"]["lock"]["sha256"] == lock["sha256"]
