"""``judge grade FOLDER``: the file graded is the one ``judge batch`` and Gradescope would pick
(``judge.candidates``); exit codes as for a file. Fast: grade() is a stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge import cli
from judge.result import Report, Verdict

ROOT = Path(__file__).resolve().parents[2]
DEFINES = "def nn_vmap_forward(seed, x_batch, features):\n    return x_batch\n"


@pytest.fixture
def graded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """grade() replaced: accepts every file, records the paths it was given."""
    calls: list[str] = []

    def fake(path: str, problem: object, options: object, problems_dir: object = None) -> Report:
        calls.append(str(path))
        return Report("nn_vmap_forward", str(path), Verdict.ACCEPTED, 1.0, "accepted: stand-in")

    monkeypatch.setattr(cli, "grade", fake)
    return calls


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    problems = ["--problems", str(ROOT / "problems")]
    code = cli.main(["grade", *argv, *problems, "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


def test_grades_the_file_that_defines_the_entry_point(
    tmp_path: Path, graded: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    found = folder(tmp_path, {"helpers.py": "x = 1\n", "sub/sol.py": DEFINES})
    code, out, _ = run([str(found), "--problem", "nn_vmap_forward"], capsys)
    assert code == 0 and graded == [str(found / "sub" / "sol.py")]
    assert json.loads(out)["diagnostics"] == []


def test_several_define_it_graded_by_the_pick_with_a_note(
    tmp_path: Path, graded: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    found = folder(tmp_path, {"b.py": DEFINES, "a.py": DEFINES})
    code, out, _ = run([str(found), "--problem", "nn_vmap_forward"], capsys)
    assert code == 0 and graded == [str(found / "a.py")]
    (note,) = json.loads(out)["diagnostics"]
    assert note["code"] == "ambiguous_submission" and note["severity"] == "warning"
    assert "graded a.py, not b.py" in note["message"]
    assert note["evidence"] == {"graded": "a.py", "not_graded": ["b.py"]}
    code, _, err = run([str(found), "--problem", "nn_vmap_forward", "--pick", "error"], capsys)
    assert code == 2 and "2 files define nn_vmap_forward (a.py, b.py)" in err
    assert "--pick first|newest" in err and graded == [str(found / "a.py")]


def test_a_folder_with_nothing_to_grade_is_a_usage_error(
    tmp_path: Path, graded: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    found = folder(tmp_path, {"notes.txt": DEFINES, ".ipynb_checkpoints/a.py": DEFINES})
    code, out, err = run([str(found), "--problem", "nn_vmap_forward"], capsys)
    assert code == 2 and out == "" and graded == []
    assert err.strip() == f"judge: error: {found}: is a folder with no .py or .ipynb file in it"


def test_without_a_problem_only_one_file_is_taken(
    tmp_path: Path, graded: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    found = folder(tmp_path / "one", {"sub/sol.py": DEFINES})
    code, _, _ = run([str(found)], capsys)
    assert code == 0 and graded == [str(found / "sub" / "sol.py")]
    two = folder(tmp_path / "two", {"a.py": DEFINES, "b.py": DEFINES})
    code, _, err = run([str(two)], capsys)
    assert code == 2 and "pass --problem" in err and len(graded) == 1
