"""Batch grading without JAX: sources, shards, records, resume, interruption, merge, summary.

grade() is replaced by a stand-in (see conftest.py) wherever a run is needed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import threading
import time
import zipfile
from pathlib import Path

import pytest
from batch_helpers import EXAMPLES, ROOT, FakeGrade, fake_source, write_class
from hypothesis import given
from hypothesis import strategies as st

from judge import batch, cli
from judge.batch import (
    Record,
    Shard,
    collect,
    feedback_name,
    merge,
    normalized_hash,
    parse_shard,
    read_records,
    run_batch,
    shard_of,
)
from judge.batch import student as batch_student
from judge.errors import UsageError
from judge.grading import GradeOptions
from judge.problem import Problem
from judge.render import summary as summary_render
from judge.result import Report, Verdict

ENTRY = "nn_vmap_forward"


def by_student(entries: list[batch.Entry]) -> dict[str, batch.Entry]:
    return {e.student: e for e in entries}


# --- collecting a source -----------------------------------------------------------------------


def test_folder_of_files(tmp_path: Path) -> None:
    source = write_class(
        tmp_path / "class",
        {
            "alice.py": fake_source(),
            "bob.ipynb": (EXAMPLES / "accepted" / "notebook.ipynb").read_text(),
            "carol.py": fake_source(),
            "carol.ipynb": "{}",
            "frank.PY": fake_source(),  # a suffix in capitals: still a submission
            "roster.csv": "id\n",
            ".DS_Store": "junk",
        },
    )
    (source / "dan.py").symlink_to(tmp_path / "missing.py")  # a dangling link
    (source / "erin.py").write_bytes(b"#" * (3 * 1024 * 1024))  # over the size limit
    (source / "results").mkdir()  # the output folder inside the source: not a student
    found = collect(source, ENTRY, tmp_path / "scratch", exclude=(source / "results").resolve())
    entries = by_student(found.entries)
    assert sorted(entries) == ["alice", "bob", "carol", "dan", "erin", "frank"]
    assert found.skipped == ["roster.csv"]
    assert entries["frank"].path == source / "frank.PY" and entries["frank"].issue is None
    assert entries["alice"].path == source / "alice.py" and entries["alice"].issue is None
    assert len(entries["alice"].sha256) == 64
    assert entries["bob"].path == source / "bob.ipynb"
    assert (
        entries["carol"].issue is not None and entries["carol"].issue[0] == "ambiguous_submission"
    )
    assert "carol.ipynb" in entries["carol"].issue[1] and "carol.py" in entries["carol"].issue[1]
    assert entries["dan"].issue == ("unreadable_submission", f"{source}/dan.py: no such file")
    assert entries["erin"].issue is not None and "larger than" in entries["erin"].issue[1]


def test_folder_of_folders_picks_the_file_that_defines_the_entry_point(tmp_path: Path) -> None:
    root = tmp_path / "class"
    files = {
        "alice/helpers.py": "def helper():\n    return 1\n",
        "alice/solution.py": fake_source(),
        "alice/.ipynb_checkpoints/solution-checkpoint.py": fake_source(),
        "alice/__pycache__/x.py": fake_source(),
        "bob/only.py": "def misnamed(seed, x_batch, features):\n    return 0\n",
        "carol/a.py": fake_source(),
        "carol/sub/b.py": fake_source(),
        "dan/a.py": "x = 1\n",
        "dan/b.py": "y = 2\n",
        "erin/notes.txt": "no code here",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "frank").mkdir()
    entries = by_student(collect(root, ENTRY, tmp_path / "scratch").entries)
    assert entries["alice"].path == root / "alice" / "solution.py"
    assert entries["alice"].display == f"{root}/alice/solution.py"
    # One file that defines nothing is still graded: its report names what is missing.
    assert entries["bob"].path == root / "bob" / "only.py" and entries["bob"].issue is None
    # Several qualify: the default pick (first by name), with a note naming the others.
    carol, dan = entries["carol"], entries["dan"]
    assert carol.path == root / "carol" / "a.py" and carol.issue is None
    assert carol.note is not None and "graded a.py, not sub/b.py" in carol.note.message
    assert dan.path == root / "dan" / "a.py" and dan.note is not None
    assert "none of the submitted files (a.py, b.py)" in dan.note.message
    assert entries["erin"].issue is not None and entries["erin"].issue[0] == "no_submission"
    assert entries["frank"].issue is not None and entries["frank"].issue[0] == "no_submission"
    # --pick error: nothing graded where a pick was needed.
    strict = by_student(collect(root, ENTRY, tmp_path / "scratch2", pick="error").entries)
    carol_issue, dan_issue = strict["carol"].issue, strict["dan"].issue
    assert carol_issue is not None and carol_issue[0] == "ambiguous_submission"
    assert "a.py" in carol_issue[1] and "sub/b.py" in carol_issue[1]
    assert "2 files define" in carol_issue[1]
    assert dan_issue is not None and dan_issue[0] == "ambiguous_submission"
    assert "none of its 2" in dan_issue[1]
    assert strict["alice"].path == root / "alice" / "solution.py"


def _zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_of_folders_unwrapped_and_contained(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "class.zip",
        {
            "class/alice/sol.py": fake_source(),
            "class/bob/sol.ipynb": (EXAMPLES / "accepted" / "notebook.ipynb").read_text(),
            "class/bob/data.bin": b"\0" * 10,
            "__MACOSX/class/._alice": b"junk",
            "../escaped.py": fake_source(),
            "/abs.py": fake_source(),
        },
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    found = collect(archive, ENTRY, scratch)
    entries = by_student(found.entries)
    assert sorted(entries) == ["alice", "bob"]
    assert entries["alice"].display == f"{archive}/class/alice/sol.py"
    assert entries["alice"].path is not None and entries["alice"].path.is_file()
    assert not (tmp_path / "escaped.py").exists() and not Path("/abs.py").exists()
    assert not list(scratch.rglob("data.bin"))  # only code is unpacked


def test_zip_and_folder_give_the_same_students_and_hashes(tmp_path: Path) -> None:
    source = write_class(
        tmp_path / "flat", {"alice.py": fake_source(), "bob.py": fake_source("wrong_answer", 0.5)}
    )
    archive = _zip(tmp_path / "flat.zip", {p.name: p.read_text() for p in source.iterdir()})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    from_folder = by_student(collect(source, ENTRY, tmp_path / "unused").entries)
    from_zip = by_student(collect(archive, ENTRY, scratch).entries)
    assert {s: e.sha256 for s, e in from_folder.items()} == {
        s: e.sha256 for s, e in from_zip.items()
    }


def test_oversized_zip_member_is_reported_not_unpacked_whole(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "c.zip", {"big.py": "#" * (3 * 1024 * 1024), "ok.py": fake_source()})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    entries = by_student(collect(archive, ENTRY, scratch).entries)
    assert entries["big"].issue is not None and "larger than" in entries["big"].issue[1]
    assert (scratch / "big.py").stat().st_size == 2 * 1024 * 1024 + 1
    assert entries["ok"].issue is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nope", "no such file or folder"),
        (lambda p: (p / "one.py").write_text("x = 1") and p / "one.py", "expected a folder"),
        (lambda p: (p / "bad.zip").write_text("not a zip") and p / "bad.zip", "not a readable zip"),
    ],
)
def test_bad_sources_are_usage_errors(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        collect(make(tmp_path), ENTRY, tmp_path)


def test_normalized_hash_ignores_comments_blank_lines_and_layout() -> None:
    base = "def f(x):\n    return x + 1\n"
    noisy = "# my solution\n\ndef f( x ):   # adds one\n\n    return (x + 1)   \n\n\n"
    assert normalized_hash(base) == normalized_hash(noisy)
    assert normalized_hash(base) != normalized_hash("def f(x):\n    return x + 2\n")
    broken = "def f(x)\n    return x  # oops\n"
    assert normalized_hash(broken) == normalized_hash("def f(x)   \n\n    return x\n")
    assert normalized_hash("# only a comment\n\n") is None


# --- shards ------------------------------------------------------------------------------------


ids = st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=40, unique=True)


@given(students=ids, count=st.integers(1, 8), order=st.randoms())
def test_shards_partition_the_students_whatever_the_order(
    students: list[str], count: int, order
) -> None:
    shards = [{s for s in students if s in Shard(i, count)} for i in range(count)]
    assert set().union(*shards) == set(students)
    assert sum(len(s) for s in shards) == len(students)  # disjoint
    shuffled = list(students)
    order.shuffle(shuffled)
    assert [{s for s in shuffled if s in Shard(i, count)} for i in range(count)] == shards


def test_shard_of_is_pinned() -> None:
    # Shards graded on different machines must agree on who is in which: a change of the hash
    # (or Python's randomised str hash sneaking in) would grade some students twice, some never.
    assert [shard_of(s, 4) for s in ("alice", "bob", "carol", "dan", "erin", "frank")] == [
        3,
        2,
        2,
        1,
        3,
        3,
    ]


@pytest.mark.parametrize("text", ["4/4", "1", "a/b", "-1/4", "0/0", "1/2/3"])
def test_bad_shards(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


def test_good_shard() -> None:
    assert parse_shard(" 3/4 ") == Shard(3, 4)
    assert str(parse_shard("0/1")) == "0/1"


# --- records -----------------------------------------------------------------------------------


@given(st.lists(st.text(min_size=1, max_size=20), min_size=2, max_size=20, unique=True))
def test_feedback_names_are_safe_and_distinct(students: list[str]) -> None:
    names = [feedback_name(s) for s in students]
    assert len({n.lower() for n in names}) == len(names)  # case-insensitive disks too
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert name.endswith(".md") and len(name) < 100


def _record(
    student: str, verdict: str = "wrong_answer", when: str = "2025-01-01T00:00:00"
) -> Record:
    golden = json.loads((ROOT / "tests" / "unit" / "golden" / "wrong_answer.json").read_text())
    golden["verdict"] = verdict
    return Record(student, golden, "ab" * 32, "cd" * 32, "1.0.0", "0.1.0", "k", when, 1.25)


def test_record_and_report_round_trip() -> None:
    record = _record("=cmd|' /C calc'!A0")
    again = Record.from_json(record.to_json())
    assert again == record
    assert Report.from_dict(record.report).to_dict() == record.report  # the renderable report


def test_gradebook_csv_round_trip_and_formula_cells() -> None:
    records = [_record("bob"), _record("alice", "accepted"), _record("=SUM(A1)")]
    rows = list(csv.DictReader(io.StringIO(batch.gradebook_text(records))))
    assert [r["student"] for r in rows] == ["'=SUM(A1)", "alice", "bob"]
    assert set(batch.COLUMNS) <= set(rows[0])
    for column in ("student", "verdict", "score", "codes", "duration_s", "sha256"):
        assert column in rows[0]
    alice = rows[1]
    assert alice["verdict"] == "accepted" and float(alice["score"]) == 0.5
    assert alice["codes"].split() == [d["code"] for d in records[1].report["diagnostics"]]
    assert alice["duration_s"] == "1.25" and alice["sha256"] == "ab" * 32


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "reports.jsonl"
    good = [_record("alice").to_json(), _record("bob").to_json()]
    path.write_text(good[0] + "\n" + '{"not": "ours"}\n' + good[1][: len(good[1]) // 2])
    records, bad = read_records(path)
    assert [r.student for r in records] == ["alice"]
    assert bad == 2


def test_store_repairs_a_last_line_cut_before_its_newline(tmp_path: Path) -> None:
    (tmp_path / "reports.jsonl").write_text(_record("alice").to_json())  # no newline
    store = batch.Store(tmp_path)
    store.add(_record("bob"))
    store.close()
    lines = (tmp_path / "reports.jsonl").read_text().splitlines()
    assert [Record.from_json(line).student for line in lines] == ["alice", "bob"]  # type: ignore[union-attr]


# --- the run loop, with grade() replaced ------------------------------------------------------


def _class(tmp_path: Path, n: int = 6) -> Path:
    verdicts = ["accepted", "wrong_answer", "runtime_error", "compile_error"]
    return write_class(
        tmp_path / "class",
        {
            f"s{k:02d}.py": fake_source(verdicts[k % 4], 1.0 if k % 4 == 0 else 0.25 * (k % 4))
            for k in range(n)
        },
    )


def _lines(out: Path) -> list[Record]:
    records, bad = read_records(out / "reports.jsonl")
    assert bad == 0
    return records


def test_run_writes_every_output_and_a_rerun_reuses_everything(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    source, out = _class(tmp_path), tmp_path / "out"
    first = run_batch(source, problem, out, jobs=2)
    assert sorted(fake_grade.calls) == [f"s{k:02d}.py" for k in range(6)]
    assert first.graded and not first.reused and not first.interrupted
    assert sorted(r.student for r in _lines(out)) == [f"s{k:02d}" for k in range(6)]
    assert (out / "gradebook.csv").read_text().count("\n") == 7
    assert (out / "summary.html").read_text().startswith("<!DOCTYPE html>")
    feedback = (out / "feedback" / "s01.md").read_text()
    assert (
        feedback.startswith("# Feedback: nn_vmap_forward") and "```text\nwrong_answer" in feedback
    )
    before = (out / "reports.jsonl").read_text()

    fake_grade.calls.clear()
    again = run_batch(source, problem, out, jobs=2)
    assert fake_grade.calls == []
    assert sorted(again.reused) == [f"s{k:02d}" for k in range(6)] and again.graded == []
    assert (out / "reports.jsonl").read_text() == before  # the same records, untouched


def test_a_changed_file_or_options_is_graded_again(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    source, out = _class(tmp_path), tmp_path / "out"
    run_batch(source, problem, out, jobs=2)
    (source / "s03.py").write_text(fake_source("accepted", 1.0, "# fixed\n"))
    fake_grade.calls.clear()
    result = run_batch(source, problem, out, jobs=2)
    assert fake_grade.calls == ["s03.py"]
    assert {r.student: r.verdict for r in result.records}["s03"] == "accepted"
    assert len(_lines(out)) == 6

    fake_grade.calls.clear()
    run_batch(source, problem, out, GradeOptions(seed=1), jobs=2)
    assert len(fake_grade.calls) == 6  # other cases: nothing reusable


def test_a_torn_last_line_regrades_that_student_only(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    source, out = _class(tmp_path), tmp_path / "out"
    run_batch(source, problem, out, jobs=1)
    path = out / "reports.jsonl"
    lines = path.read_text().splitlines()
    torn = json.loads(lines[-1])["batch"]["student"]
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])  # killed mid-write
    fake_grade.calls.clear()
    result = run_batch(source, problem, out, jobs=2)
    assert fake_grade.calls == [f"{torn}.py"]
    assert result.ignored_lines == 1
    assert sorted(r.student for r in _lines(out)) == [f"s{k:02d}" for k in range(6)]


def test_a_crashing_grading_is_that_students_judge_error(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    source = _class(tmp_path)
    (source / "s02.py").write_text(fake_source(extra="# crash\n"))
    out = tmp_path / "out"
    result = run_batch(source, problem, out, jobs=2)
    verdicts = {r.student: r for r in result.records}
    assert len(verdicts) == 6
    crashed = verdicts["s02"]
    assert crashed.verdict == "judge_error" and crashed.codes == ["grading_crashed"]
    assert "RuntimeError: the stand-in grade() broke" in crashed.report["summary"]
    assert verdicts["s01"].verdict == "wrong_answer"
    # Graded once more in the same run (the fault may pass), then kept as it is.
    assert fake_grade.calls.count("s02.py") == 2 and len(fake_grade.calls) == 7
    assert list(result.retried) == ["s02"] and "stand-in grade() broke" in result.retried["s02"]
    assert any(line.startswith("graded again after a judge error: s02") for line in result.notes())
    fake_grade.calls.clear()
    run_batch(source, problem, out, jobs=2)
    assert fake_grade.calls == ["s02.py"] * 2  # a judge_error is retried, the rest reused


def test_a_report_no_line_can_hold_is_that_students_judge_error(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    """A value JSON cannot write (inf) in one student's report: that student's judge_error,
    every other student graded and saved, the batch's own exit unharmed."""
    source = _class(tmp_path)
    (source / "s03.py").write_text(fake_source(extra="# unwritable\n"))
    result = run_batch(source, problem, tmp_path / "out", jobs=2)
    verdicts = {r.student: r for r in result.records}
    assert len(verdicts) == 6 and not result.interrupted
    broken = verdicts["s03"]
    assert broken.verdict == "judge_error" and broken.codes == ["grading_crashed"]
    assert "Out of range float values" in broken.report["summary"]
    assert all(r.verdict != "judge_error" for s, r in verdicts.items() if s != "s03")
    reread, _ = read_records(tmp_path / "out" / "reports.jsonl")
    assert sorted(r.student for r in reread) == sorted(verdicts)


def test_a_passing_judge_error_is_graded_again_in_the_same_run(
    tmp_path: Path, problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed_once: set[str] = set()

    def flaky(name: str) -> None:  # the judge's fault, the first time only, for s01 and s04
        if name in ("s01.py", "s04.py") and name not in failed_once:
            failed_once.add(name)
            raise RuntimeError(f"a worker of the judge's died grading {name}")

    fake = FakeGrade(flaky)
    monkeypatch.setattr(batch_student, "grade", fake)
    result = run_batch(_class(tmp_path), problem, tmp_path / "out", jobs=2)
    assert {r.student: r.verdict for r in result.records} == {
        f"s{k:02d}": ["accepted", "wrong_answer", "runtime_error", "compile_error"][k % 4]
        for k in range(6)
    }
    assert sorted(result.retried) == ["s01", "s04"]
    assert "died grading s01.py" in result.retried["s01"]
    assert sorted(fake.calls) == sorted([f"s{k:02d}.py" for k in range(6)] + ["s01.py", "s04.py"])
    assert sorted(r.student for r in _lines(tmp_path / "out")) == [f"s{k:02d}" for k in range(6)]


def test_issues_are_recorded_per_student(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    root = tmp_path / "class"
    for name, text in {
        "ok/a.py": fake_source(),
        "two/a.py": fake_source(),
        "two/b.py": fake_source(),
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "empty").mkdir()
    result = run_batch(root, problem, tmp_path / "out")
    got = {r.student: (r.verdict, r.codes) for r in result.records}
    assert got == {
        "ok": ("accepted", []),
        "two": ("accepted", ["ambiguous_submission"]),  # graded, with the pick's note
        "empty": ("judge_error", ["no_submission"]),
    }
    assert fake_grade.calls == ["a.py", "a.py"]


def test_stopping_keeps_what_finished_and_a_rerun_finishes(
    tmp_path: Path, problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = threading.Event()
    fake = FakeGrade(lambda name: stop.set() if name == "s02.py" else None)
    monkeypatch.setattr(batch_student, "grade", fake)
    source, out = _class(tmp_path, 8), tmp_path / "out"
    result = run_batch(source, problem, out, jobs=1, stop=stop)
    assert result.interrupted and result.stopped_by == 0
    saved = sorted(r.student for r in _lines(out))
    assert saved == ["s00", "s01", "s02"]  # s02 finished; nothing began after the stop
    assert saved == sorted(result.graded)
    assert fake.calls == ["s00.py", "s01.py", "s02.py"]

    fake.hook, fake.calls = None, []
    again = run_batch(source, problem, out, jobs=2)
    assert sorted(again.reused) == saved
    assert sorted(fake.calls) == [f"{s}.py" for s in sorted(set(again.graded))]
    assert sorted(r.student for r in _lines(out)) == [f"s{k:02d}" for k in range(8)]


def test_ctrl_c_through_the_cli_saves_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def hook(name: str) -> None:
        if name == "s01.py":
            os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C would
        else:
            time.sleep(0.3)  # gradings take time: the handler runs meanwhile

    fake = FakeGrade(hook)
    monkeypatch.setattr(batch_student, "grade", fake)
    source, out = _class(tmp_path, 8), tmp_path / "out"
    argv = ["batch", str(source), "--problem", "nn_vmap_forward", "--out", str(out), "--jobs", "1"]
    # What was there before: Python's default, or SIG_IGN where pytest was started in the
    # background by a shell without job control (it ignores SIGINT for its children).
    before = signal.getsignal(signal.SIGINT)
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 130
    assert "interrupted" in err and "Traceback" not in err
    saved = sorted(r.student for r in _lines(out))
    assert saved[:2] == ["s00", "s01"] and len(saved) <= 3
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


def test_cli_batch_prints_a_summary_and_exits_0(
    tmp_path: Path, fake_grade: FakeGrade, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = _class(tmp_path), tmp_path / "out"
    code = cli.main(["batch", str(source), "--problem", "nn_vmap_forward", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0  # whatever the verdicts
    assert "wrong_answer" in printed and "graded 6, reused 0" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["batch", "{tmp}/nowhere", "--problem", "nn_vmap_forward", "--out", "{tmp}/o"], "no such"),
        (["batch", "{tmp}", "--problem", "nn_vmap_fwd", "--out", "{tmp}/o"], "did you mean"),
        (
            [
                "batch",
                "{tmp}",
                "--problem",
                "nn_vmap_forward",
                "--out",
                "{tmp}/o",
                "--shard",
                "4/4",
            ],
            "--shard",
        ),
        (
            ["batch", "{tmp}", "--problem", "nn_vmap_forward", "--out", "{tmp}/o", "--jobs", "0"],
            "--jobs",
        ),
        (["merge", "{tmp}", "--out", "{tmp}/o"], "no reports.jsonl"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("judge: error: ") and len(err.splitlines()) == 1
    assert message in err


# --- merge -------------------------------------------------------------------------------------


def test_shards_merge_into_the_unsharded_result(
    tmp_path: Path, problem: Problem, fake_grade: FakeGrade
) -> None:
    source = _class(tmp_path, 12)
    whole = run_batch(source, problem, tmp_path / "whole", jobs=2)
    parts = [
        run_batch(source, problem, tmp_path / f"shard{i}", jobs=2, shard=Shard(i, 3))
        for i in range(3)
    ]
    assert sum(len(p.graded) for p in parts) == 12
    assert all(p.graded for p in parts), "each of 3 shards of these 12 students has some"
    merged = merge([p.out for p in parts], tmp_path / "merged")
    assert [(r.student, r.verdict, r.score) for r in merged.records] == [
        (r.student, r.verdict, r.score) for r in whole.records
    ]
    assert merged.duplicates == []
    rows = list(csv.DictReader(io.StringIO((tmp_path / "merged" / "gradebook.csv").read_text())))
    feedback = tmp_path / "merged" / "feedback"
    assert len(rows) == 12 and len(list(feedback.glob("*.md"))) == 12
    assert len(list(feedback.glob("*.html"))) == 12


def test_merge_keeps_the_newest_of_a_student_graded_twice(tmp_path: Path) -> None:
    old, new = tmp_path / "a", tmp_path / "b"
    for folder, record in (
        (old, _record("alice", "wrong_answer", "2025-01-01T10:00:00")),
        (new, _record("alice", "accepted", "2025-01-02T10:00:00")),
    ):
        folder.mkdir()
        (folder / "reports.jsonl").write_text(record.to_json() + "\n")
    for order in ([old, new], [new, old]):
        result = merge(order, tmp_path / "out")
        assert [(r.student, r.verdict) for r in result.records] == [("alice", "accepted")]
        assert result.duplicates == ["alice"]


def test_merge_refuses_two_problems(tmp_path: Path) -> None:
    other = _record("bob")
    other.report["problem"] = "nn_vmap_ensemble"
    for folder, record in ((tmp_path / "a", _record("alice")), (tmp_path / "b", other)):
        folder.mkdir()
        (folder / "reports.jsonl").write_text(record.to_json() + "\n")
    with pytest.raises(UsageError, match="different problems"):
        merge([tmp_path / "a", tmp_path / "b"], tmp_path / "out")


# --- the summary -------------------------------------------------------------------------------


def test_summary_is_self_contained_escaped_and_charts_codes_and_scores() -> None:
    rows = [
        summary_render.Row(
            "<script>alert(1)</script>",
            "wrong_answer",
            0.45,
            3.0,
            ("values_mismatch",),
            "values_mismatch",
        ),
        summary_render.Row("bob", "accepted", 1.0, 9.5),
        summary_render.Row(
            "carol",
            "judge_error",
            0.0,
            0.0,
            ("ambiguous_submission",),
            "ambiguous_submission",
            "judge_error: two files",
        ),
    ]
    page = summary_render.render(rows, title="t", groups=[["bob", "carol"]])
    assert page.count("<svg") == 2
    assert "http://" not in page and "https://" not in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "values_mismatch" in page and "ambiguous_submission" in page
    assert "score in [0.4, 0.5): 1" in page and "score in [0.9, 1.0]: 1" in page
    assert "judge_error: two files" in page  # needs a look
    slowest = page[page.index("Slowest submissions") :]
    assert slowest.index("bob") < slowest.index("carol")  # 9.5 s before 0 s
    students = page[page.index("those who need help first") : page.index("Slowest submissions")]
    # judge errors first (to look at), then the lowest scores, accepted last
    assert students.index("carol") < students.index("&lt;script&gt;") < students.index("bob")
    assert summary_render.score_histogram(rows) == [1, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    assert summary_render.verdict_counts(rows)[str(Verdict.ACCEPTED)] == 1


@pytest.mark.parametrize("student", ["con", "com2", "LPT9", "nul.txt", "com9"])
def test_feedback_names_avoid_every_windows_device_name(student: str) -> None:
    stem = feedback_name(student).split(".")[0]
    assert stem.lower() not in {"con", "prn", "aux", "nul"} | {
        f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)
    }


@given(
    students=st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=120, unique=True),
    count=st.integers(1, 16),
)
def test_balanced_shards_partition_the_class_and_differ_by_at_most_one(
    students: list[str], count: int
) -> None:
    shards = [Shard(i, count).select(students) for i in range(count)]
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1
    assert set().union(*shards) == set(students) and sum(sizes) == len(students)
    # the same split whatever order the class is listed in
    assert [Shard(i, count).select(reversed(students)) for i in range(count)] == shards


def test_merge_in_a_log_writes_a_line_per_student_with_the_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder, student in ((tmp_path / "a", "alice"), (tmp_path / "b", "bob")):
        folder.mkdir()
        (folder / "reports.jsonl").write_text(_record(student).to_json() + "\n")
    argv = ["merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "out")]
    assert cli.main(argv) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("judge merge:")]
    assert [ln.split(" · ")[0] for ln in lines] == ["judge merge: 1/2", "judge merge: 2/2"]
    assert lines[-1].endswith("bob")
