"""The one rule for a folder of several files (``judge.candidates``): a table of every pick
against folders of 1, 2 and 3 files of which 0, 1 or 2 define the entry point, modification
times, junk folders, the budgets, and a report's learner-facing name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from judge import candidates
from judge.candidates import Choice, choose, student_name, student_view
from judge.result import Diagnostic, Report, Severity, Verdict

ENTRY = "f"
DEFINES = "def f(x):\n    return x\n"
OTHER = "def g(x):\n    return x\n"


def make(folder: Path, files: dict[str, str], newest: str | None = None) -> Path:
    """``files`` under ``folder``, all with one modification time but ``newest``'s, later."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        stamp = 1_000_000 + (10_000 if name == newest else 0)
        os.utime(path, (stamp, stamp))
    return folder


# files, defining, pick -> (graded, note?) or the issue's code. Files are c.py, a.py, b.py in
# that order of writing (so name order is not writing order); the ones listed in ``defining``
# define f; ``newest`` is c.py where it is among the files.
CASES = [
    # one file: graded as it is, whatever it defines and whatever the pick
    *[((["a.py"], d, p), ("a.py", False)) for d in ([], ["a.py"]) for p in candidates.PICKS],
    # one of several defines f: that one, whatever the pick
    *[((["a.py", "b.py"], ["b.py"], p), ("b.py", False)) for p in candidates.PICKS],
    *[((["c.py", "a.py", "b.py"], ["c.py"], p), ("c.py", False)) for p in candidates.PICKS],
    # several define f
    ((["a.py", "b.py"], ["a.py", "b.py"], "first"), ("a.py", True)),
    ((["a.py", "b.py"], ["a.py", "b.py"], "error"), "ambiguous_submission"),
    ((["c.py", "a.py", "b.py"], ["c.py", "b.py"], "first"), ("b.py", True)),
    ((["c.py", "a.py", "b.py"], ["c.py", "b.py"], "newest"), ("c.py", True)),
    ((["c.py", "a.py", "b.py"], ["a.py", "b.py"], "newest"), ("a.py", True)),  # a tie: by name
    ((["c.py", "a.py", "b.py"], ["c.py", "b.py"], "error"), "ambiguous_submission"),
    # none of several defines f
    ((["a.py", "b.py"], [], "first"), ("a.py", True)),
    ((["a.py", "b.py"], [], "error"), "ambiguous_submission"),
    ((["c.py", "a.py", "b.py"], [], "first"), ("a.py", True)),
    ((["c.py", "a.py", "b.py"], [], "newest"), ("c.py", True)),
    ((["c.py", "a.py", "b.py"], [], "error"), "ambiguous_submission"),
    ((["a.py", "b.py"], [], "newest"), ("a.py", True)),  # equal times: the first by name
]


@pytest.mark.parametrize(("given", "expected"), CASES, ids=lambda v: str(v))
def test_the_rule(tmp_path: Path, given: tuple, expected: tuple[str, bool] | str) -> None:
    files, defining, pick = given
    folder = make(
        tmp_path, {name: DEFINES if name in defining else OTHER for name in files}, "c.py"
    )
    choice = choose(folder, ENTRY, pick)
    if isinstance(expected, str):
        assert choice.path is None and choice.issue is not None
        assert choice.issue[0] == expected
        between = defining if len(defining) > 1 else files
        for name in between:  # the message names every file it could not choose between
            assert name in choice.issue[1]
        return
    graded, noted = expected
    assert choice.issue is None and choice.path == folder / graded
    assert choice.name == graded
    assert bool(choice.note) is noted
    if noted:
        assert f"graded {graded}" in choice.note
        assert set(choice.others) | {graded} == set(defining if len(defining) > 1 else files)
        assert all(other in choice.note for other in choice.others)


def test_no_file_and_junk(tmp_path: Path) -> None:
    folder = make(
        tmp_path / "s",
        {
            "__MACOSX/._a.py": DEFINES,
            ".ipynb_checkpoints/a-checkpoint.py": DEFINES,
            "__pycache__/a.py": DEFINES,
            ".hidden/a.py": DEFINES,
            ".a.py": DEFINES,
            "notes.txt": DEFINES,
        },
    )
    assert choose(folder, ENTRY).issue == ("no_submission", "no .py or .ipynb file")
    assert choose(tmp_path / "missing", ENTRY).issue is not None
    # junk beside a real file does not make it ambiguous
    (folder / "sub").mkdir()
    (folder / "sub" / "x.py").write_text(OTHER)
    assert choose(folder, ENTRY) == Choice(folder / "sub" / "x.py", "sub/x.py")


def test_an_assignment_any_of_its_functions(tmp_path: Path) -> None:
    folder = make(tmp_path, {"a.py": OTHER, "b.py": "x = 1\n", "c.py": DEFINES})
    assert choose(folder, ("f", "g"), "error").issue is not None  # a.py and c.py define one
    assert choose(folder, ("g", "h"), "error").path == folder / "a.py"


def test_the_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candidates, "MAX_FILES_PER_FOLDER", 2)
    folder = make(tmp_path, {"a.py": DEFINES, "b.py": OTHER, "c.py": OTHER})
    issue = choose(folder, ENTRY).issue
    assert issue is not None and issue[0] == "ambiguous_submission" and "more than 2" in issue[1]
    monkeypatch.setattr(candidates, "MAX_FILES_PER_FOLDER", 100)
    monkeypatch.setattr(candidates, "MAX_CHOICE_BYTES", 10)
    issue = choose(folder, ENTRY, "first").issue  # over budget: no pick, whatever the pick
    assert issue is not None and "would read more than" in issue[1]


def test_an_unreadable_file_among_several_that_define_nothing(tmp_path: Path) -> None:
    folder = make(tmp_path, {"a.py": OTHER})
    (folder / "b.py").symlink_to(folder / "a.py")
    issue = choose(folder, ENTRY, "first").issue
    assert issue is not None and issue[0] == "unreadable_submission"
    assert issue[1].startswith("b.py: is a symbolic link")


@pytest.mark.parametrize(
    ("display", "student", "name"),
    [
        ("class/oscar/solution.py", "oscar", "solution.py"),
        ("class/oscar/sub/solution.py", "oscar", "sub/solution.py"),
        ("/home/oscar/class/oscar/sub/s.py", "oscar", "sub/s.py"),
        ("class/alice.py", "alice", "alice.py"),
        ("class.zip/class/bob/b.ipynb", "bob", "b.ipynb"),
        ("class/carol", "carol", candidates.YOUR_SUBMISSION),
        ("my/own.py", None, "my/own.py"),
    ],
)
def test_student_name(display: str, student: str | None, name: str) -> None:
    assert student_name(display, student) == name


def test_student_view_leaves_the_stored_report_as_it_was() -> None:
    report = Report(
        "p",
        "class/oscar/sub/s.py",
        Verdict.COMPILE_ERROR,
        0.0,
        "compile_error: class/oscar/sub/s.py, line 1",
        diagnostics=[
            Diagnostic("syntax_error", Severity.ERROR, "class/oscar/sub/s.py, line 1: bad", "fix")
        ],
    )
    seen = student_view(report, "oscar")
    assert seen.submission == "sub/s.py" and "class/" not in seen.summary
    assert seen.diagnostics[0].message == "sub/s.py, line 1: bad"
    assert report.submission == "class/oscar/sub/s.py"
    assert report.diagnostics[0].message.startswith("class/oscar/")
