"""Batch grading for real: example submissions graded in JAX workers, several at once.

One class is graded once per module (``graded``) and reused: its verdicts are checked against
``submissions/nn_vmap_forward/expected.yaml``, and later tests reuse its results the way a
rerun would, so that only what a test is about gets graded again.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from batch_helpers import EXAMPLES, ROOT

from judge import cli
from judge.batch import BatchResult, Shard, merge, read_records, run_batch
from judge.grading import GradeOptions
from judge.problem import Problem

pytestmark = pytest.mark.slow

FAST = GradeOptions(shrink=False, limits={"call_s": 8.0, "submission_s": 60.0})
FAST_FLAGS = ["--time-per-call", "8", "--time-total", "60", "--no-shrink"]

# student -> example (verdict/file); each student is a folder, as from a course platform.
CLASS = {
    "acc_canonical": "accepted/canonical.py",
    "acc_notebook": "accepted/notebook.ipynb",
    "acc_returns_list": "accepted/returns_list.py",
    "wa_no_bias": "wrong_answer/no_bias.py",
    "wa_column_major": "wrong_answer/column_major_flatten.py",
    "wa_returns_tuple": "wrong_answer/returns_tuple.py",
    "re_raises": "runtime_error/raises.py",
    "re_os_exit": "runtime_error/os_exit.py",
    "tle_loop": "time_limit_exceeded/infinite_loop.py",
    "mle_huge": "memory_limit_exceeded/huge_array.py",
    "ce_syntax": "compile_error/syntax_error.py",
    "ce_misnamed": "compile_error/misnamed_function.py",
    "ce_broken_notebook": "compile_error/broken_notebook.ipynb",
}
COPY_OF_MISNAMED = "ce_misnamed_copy"  # the same code, recommented and spaced out
ISSUES = {
    "two_files": "ambiguous_submission",
    "no_file": "no_submission",
    "dangling": "unreadable_submission",
}


def expected_verdicts() -> dict[str, str]:
    listed = yaml.safe_load((EXAMPLES / "expected.yaml").read_text())
    by_example = {name: name.split("/")[0] for name in listed}
    verdicts = {student: by_example[example] for student, example in CLASS.items()}
    verdicts[COPY_OF_MISNAMED] = verdicts["ce_misnamed"]
    return verdicts | {student: "judge_error" for student in ISSUES}


def make_class(root: Path) -> Path:
    for student, example in CLASS.items():
        folder = root / student
        folder.mkdir(parents=True)
        shutil.copy(EXAMPLES / example, folder / Path(example).name)
    # A helper beside the solution: the file that defines the entry point is the one graded.
    (root / "acc_canonical" / "helpers.py").write_text("def scale(x):\n    return 2 * x\n")
    original = (EXAMPLES / CLASS["ce_misnamed"]).read_text()
    spaced = "# my own work, honest\n\n" + original.replace("\n", "   \n\n")
    (root / COPY_OF_MISNAMED).mkdir()
    (root / COPY_OF_MISNAMED / "solution.py").write_text(spaced)
    # Two entries under one id (a folder and a file beside it): no pick chooses between them.
    (root / "two_files").mkdir()
    for name in ("a.py", "b.py"):
        shutil.copy(EXAMPLES / CLASS["acc_canonical"], root / "two_files" / name)
    shutil.copy(EXAMPLES / CLASS["acc_canonical"], root / "two_files.py")
    (root / "no_file").mkdir()
    (root / "dangling").mkdir()
    (root / "dangling" / "solution.py").symlink_to(root / "nowhere.py")
    return root


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_class(tmp_path_factory.mktemp("batch") / "class")


@pytest.fixture(scope="module")
def graded(class_dir: Path, problem: Problem) -> BatchResult:
    return run_batch(class_dir, problem, class_dir.parent / "out", FAST, jobs=2)


def outcome(records: list) -> list[tuple[str, str, float]]:
    return [(r.student, r.verdict, r.score) for r in records]


def judge_errors(records: list) -> dict[str, str]:
    """The summaries of the judge's own faults among students with a file: what a failure of
    these tests must show, since a judge_error there is the judge's bug."""
    return {
        r.student: f"{r.report.get('summary')} {r.report.get('diagnostics')}"[-3000:]
        for r in records
        if r.verdict == "judge_error" and r.student not in ISSUES
    }


def test_every_student_gets_the_verdict_it_gets_alone(graded: BatchResult) -> None:
    got = {r.student: r.verdict for r in graded.records}
    assert got == expected_verdicts(), judge_errors(graded.records)
    assert len(graded.graded) == len(got) and not graded.reused


def test_troubles_are_reported_per_student(graded: BatchResult) -> None:
    records = {r.student: r for r in graded.records}
    for student, code in ISSUES.items():
        assert records[student].codes == [code], student
    summary = records["two_files"].report["summary"]
    assert "two_files.py" in summary and "two_files/" in summary
    assert records["acc_canonical"].report["submission"].endswith("acc_canonical/canonical.py")


def test_identical_submissions_are_flagged(graded: BatchResult) -> None:
    assert graded.groups == [["ce_misnamed", COPY_OF_MISNAMED]]
    page = (graded.out / "summary.html").read_text()
    assert "ce_misnamed_copy" in page.split("Identical submissions", 1)[1]


def test_outputs_on_disk(graded: BatchResult) -> None:
    out = graded.out
    students = sorted(expected_verdicts())
    lines = (out / "reports.jsonl").read_text().splitlines()
    reports = [json.loads(line) for line in lines]
    assert all(r["schema"] == "judge.report/1" for r in reports)
    assert sorted(r["batch"]["student"] for r in reports) == students
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    assert [r["student"] for r in rows] == students
    assert {r["student"]: r["verdict"] for r in rows} == expected_verdicts(), judge_errors(
        graded.records
    )
    assert all(len(r["sha256"]) == 64 for r in rows if r["verdict"] != "judge_error")
    assert all(float(r["duration_s"]) > 0.5 for r in rows if r["verdict"] == "accepted")
    feedback = (out / "feedback" / "wa_no_bias.md").read_text()
    assert "missing_bias" in feedback and "```text\nwrong_answer" in feedback
    assert len(list((out / "feedback").glob("*.md"))) == len(students)
    page = (out / "summary.html").read_text()
    assert "<svg" in page and "http://" not in page and "https://" not in page
    assert "missing_bias" in page and "tle_loop" in page  # a pitfall; among the slowest


def test_a_zip_of_the_class_is_the_same_class(
    graded: BatchResult, class_dir: Path, problem: Problem, tmp_path: Path
) -> None:
    source = class_dir
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(Path(source).rglob("*")):
            if path.is_file() and not path.is_symlink():
                zf.write(path, "class/" + path.relative_to(source).as_posix())
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(graded.out / "reports.jsonl", out / "reports.jsonl")
    result = run_batch(archive, problem, out, FAST, jobs=2)
    # Same ids, same content hashes: every graded result is reused; only troubles re-checked.
    assert set(result.graded) == {"two_files"}
    assert sorted(result.reused) == sorted(set(expected_verdicts()) - set(ISSUES))
    assert outcome(result.records) == outcome(graded.records)


def test_a_zip_of_files_is_graded(problem: Problem, tmp_path: Path) -> None:
    archive = tmp_path / "flat.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(EXAMPLES / "compile_error" / "syntax_error.py", "ann.py")
        zf.write(EXAMPLES / "compile_error" / "empty_notebook.ipynb", "ben.ipynb")
        zf.write(EXAMPLES / "compile_error" / "broken_notebook.ipynb", "cat.ipynb")
    result = run_batch(archive, problem, tmp_path / "out", FAST, jobs=2)
    assert {r.student: (r.verdict, r.codes[0]) for r in result.records} == {
        "ann": ("compile_error", "syntax_error"),
        "ben": ("compile_error", "no_code"),
        "cat": ("compile_error", "notebook_invalid"),
    }
    assert result.records[0].report["submission"] == f"{archive}/ann.py"


def test_shards_merge_into_the_whole_class(
    graded: BatchResult, class_dir: Path, problem: Problem, tmp_path: Path
) -> None:
    shard0, shard1 = tmp_path / "shard0", tmp_path / "shard1"
    shard1.mkdir()
    # Shard 1 starts from the whole class's results for its students (a resumed shard job);
    # shard 0 grades its students from scratch.
    in_shard1 = Shard(1, 2).select(expected_verdicts())
    mine = [
        line
        for line in (graded.out / "reports.jsonl").read_text().splitlines()
        if json.loads(line)["batch"]["student"] in in_shard1
    ]
    (shard1 / "reports.jsonl").write_text("\n".join(mine) + "\n")
    first = run_batch(class_dir, problem, shard0, FAST, jobs=2, shard=Shard(0, 2))
    second = run_batch(class_dir, problem, shard1, FAST, jobs=2, shard=Shard(1, 2))
    assert {r.student for r in first.records} == set(expected_verdicts()) - in_shard1
    assert set(second.graded) <= set(ISSUES)
    assert set(second.reused) | set(second.graded) == in_shard1
    merged = merge([shard0, shard1], tmp_path / "merged")
    assert outcome(merged.records) == outcome(graded.records)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "merged" / "gradebook.csv").read_text())))
    assert [(r["student"], r["verdict"]) for r in rows] == [
        (r.student, r.verdict) for r in graded.records
    ]


def test_killed_midway_then_rerun_grades_each_student_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "class"
    source.mkdir()
    files = {
        "a_broken.ipynb": "compile_error/broken_notebook.ipynb",
        "b_syntax.py": "compile_error/syntax_error.py",
        "c_misnamed.py": "compile_error/misnamed_function.py",
        "d_import.py": "compile_error/import_error.py",
        "e_raises.py": "runtime_error/raises.py",
        "f_canonical.py": "accepted/canonical.py",
    }
    for name, example in files.items():
        shutil.copy(EXAMPLES / example, source / name)
    out = tmp_path / "out"
    argv = ["batch", str(source), "--problem", "nn_vmap_forward", "--out", str(out), "--jobs", "2"]
    process = subprocess.Popen(
        [sys.executable, "-m", "judge", *argv, *FAST_FLAGS],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    reports = out / "reports.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if reports.is_file() and reports.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.05)
    process.kill()  # SIGKILL: no clean-up, no handler
    process.wait()
    assert process.returncode == -9, "the batch ended before it could be killed"
    finished, _ = read_records(reports)
    assert len(finished) >= 2 and len(finished) < len(files)
    # Also cut the last complete line in half, as a kill in the middle of a write would.
    lines = reports.read_bytes().split(b"\n")
    complete = [line for line in lines if line.strip()][: len(finished)]
    reports.write_bytes(b"\n".join(complete[:-1]) + b"\n" + complete[-1][: len(complete[-1]) // 2])
    cut = json.loads(complete[-1])["batch"]["student"]
    kept = {r.student: r.finished_at for r in finished if r.student != cut}

    code = cli.main([*argv, *FAST_FLAGS])
    printed = capsys.readouterr().out
    assert code == 0
    records, bad = read_records(reports)
    assert bad == 0
    assert sorted(r.student for r in records) == sorted(Path(f).stem for f in files)
    for record in records:  # the finished ones were reused as they were, not graded again
        if record.student in kept:
            assert record.finished_at == kept[record.student], record.student
    assert cut not in kept and len(kept) >= 1
    assert f"reused {len(kept)}" in printed and f"graded {len(files) - len(kept)}" in printed
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    assert len(rows) == len(files) == len({r["student"] for r in rows})
