"""The benchmark's own helpers (bench/run.py, bench/measure.py) and the baseline's verdicts.

The benchmark reports numbers nobody can check by eye, so the parts that turn runs into rows
are tested here: medians, ratios, verdict agreement, the batch folder, the tables. No test
times anything. The slow test runs the baseline itself, to hold it to the verdicts a naive
judge must give: accepting the canonical solution and rejecting an output that differs.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from rich.console import Console

from judge.check import read_expected

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions" / "nn_vmap_forward"


def _load(name: str, path: Path) -> ModuleType:
    # bench/ is a folder of scripts, not a package. Registered before it runs, because
    # dataclasses look their module up in sys.modules.
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


run = _load("bench_run", ROOT / "bench" / "run.py")


def _render(table: object) -> str:
    console = Console(record=True, width=300, color_system=None)
    console.print(table)
    return console.export_text()


# --- numbers ---


def test_median_leaves_out_runs_that_measured_nothing() -> None:
    assert run.median([3.0, 1.0, 2.0]) == 2.0
    assert run.median([1.0, None, 3.0]) == 2.0
    assert run.median([4.0, 1.0]) == 2.5
    assert run.median([]) is None
    assert run.median([None]) is None


def test_ratio_is_judge_over_baseline() -> None:
    assert run.format_ratio(1.0, 2.0) == "0.50×"
    assert run.format_ratio(5.0, 2.0) == "2.50×"
    assert run.format_ratio(None, 2.0) == "—"
    assert run.format_ratio(1.0, None) == "—"
    assert run.format_ratio(1.0, 0.0) == "—"


def test_numbers_by_unit() -> None:
    assert run.format_number(4.876, "s") == "4.88"
    assert run.format_number(333.33, "MB") == "333.3"
    assert run.format_number(None, "s") == "—"


# --- verdicts ---


def test_families_map_the_judge_onto_the_baselines_three_verdicts() -> None:
    assert run.family("accepted") == "accepted"
    assert run.family("wrong_answer") == "wrong_answer"
    for other in ("compile_error", "runtime_error", "time_limit_exceeded", "timeout", "error"):
        assert run.family(other) == "error"


def test_disagreements_are_explained() -> None:
    assert run.explain_disagreement("compile_error", "error") == ""
    assert run.explain_disagreement("time_limit_exceeded", "timeout") == ""
    assert "structure" in run.explain_disagreement("wrong_answer", "accepted")
    assert run.explain_disagreement("compile_error", "accepted")
    assert run.explain_disagreement("accepted", "error")
    assert "exception" in run.explain_disagreement("wrong_answer", "error")
    assert "died" in run.explain_disagreement("wrong_answer", "crashed (exit 3)")
    assert "time limit" in run.explain_disagreement("wrong_answer", "timeout")


def test_baseline_verdict_is_its_last_json_line() -> None:
    printed = 'shape (2, 1)\n{"not": "a verdict"}\n{"verdict": "wrong_answer", "examples": 3}\n'
    assert run.baseline_verdict(printed, 1, timed_out=False) == "wrong_answer"
    assert run.baseline_verdict("", 3, timed_out=False) == "crashed (exit 3)"
    assert run.baseline_verdict('{"verdict": "accepted"}', None, timed_out=True) == "timeout"
    assert run.last_json_line("[1, 2]\nnot json\n") is None


def test_judge_verdict_from_its_json_report() -> None:
    assert run.judge_verdict(json.dumps({"verdict": "accepted"}), 0) == "accepted"
    assert run.judge_verdict("", 2) == "exit 2"
    assert run.judge_verdict("[]", 3) == "exit 3"


def test_batch_verdicts_from_jsonl_and_csv(tmp_path: Path) -> None:
    names = ["student_001.py", "student_002.ipynb", "student_003.py"]
    (tmp_path / "reports.jsonl").write_text(
        json.dumps({"student": "student_001", "verdict": "accepted"})
        + "\n"
        + json.dumps({"submission": "/tmp/x/student_002.ipynb", "verdict": "compile_error"})
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "gradebook.csv").write_text(
        "Student,Verdict,score\nstudent_003,wrong_answer,0.5\nsomeone_else,accepted,1\n",
        encoding="utf-8",
    )
    assert run.read_batch_verdicts(tmp_path, names) == {
        "student_001.py": "accepted",
        "student_002.ipynb": "compile_error",
        "student_003.py": "wrong_answer",
    }
    assert run.read_batch_verdicts(tmp_path / "missing", names) == {}


# --- the batch folder ---


def _tree(root: Path) -> dict[str, list[Path]]:
    made: dict[str, list[Path]] = {}
    for folder, files in {
        "accepted": ["a.py", "b.py", "c.ipynb", "d.py"],
        "wrong_answer": ["w.py"],
    }.items():
        (root / folder).mkdir(parents=True)
        for name in files:
            (root / folder / name).write_text(f"# {folder}/{name}\n", encoding="utf-8")
        made[folder] = sorted(root / folder / n for n in files)
    (root / "accepted" / "notes.txt").write_text("not a submission", encoding="utf-8")
    (root / "expected.yaml").write_text("{}", encoding="utf-8")
    return made


def test_spread_evenly_mixes_any_prefix(tmp_path: Path) -> None:
    folders = _tree(tmp_path)
    order = [p.name for p in run.spread_evenly(folders)]
    # accepted at 1/8, 3/8, 5/8, 7/8 of the way; the one wrong answer at 1/2.
    assert order == ["a.py", "b.py", "w.py", "c.ipynb", "d.py"]


def test_example_files_takes_submissions_only(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = run.example_files(tmp_path)
    assert sorted(p.name for p in found) == ["a.py", "b.py", "c.ipynb", "d.py", "w.py"]


def test_the_real_examples_give_a_mixed_quick_batch() -> None:
    first = run.example_files()[:6]
    assert {p.parent.name for p in first} >= {"accepted", "wrong_answer", "compile_error"}


def test_batch_folder_cycles_with_distinct_student_names(tmp_path: Path) -> None:
    sources = run.spread_evenly(_tree(tmp_path / "examples"))
    dest = tmp_path / "batch"
    made = run.build_batch_folder(sources, 7, dest)
    names = [f.name for f in made]
    assert len(set(names)) == 7
    assert sorted(p.name for p in dest.iterdir()) == sorted(names)
    assert names[3] == "student_004.ipynb"  # the suffix travels: the judge reads notebooks
    assert [f.source for f in made] == sources + sources[:2]
    assert made[2].expected == "wrong_answer"
    for f in made:
        assert (dest / f.name).read_text(encoding="utf-8") == f.source.read_text(encoding="utf-8")


def test_batch_folder_edges(tmp_path: Path) -> None:
    assert run.build_batch_folder([], 0, tmp_path / "empty") == []
    with pytest.raises(ValueError):
        run.build_batch_folder([], 3, tmp_path / "none")


# --- the judge's cache ---


def test_cache_is_found_by_option_or_environment() -> None:
    assert run.detect_cache("  --cache-dir DIR  where to cache", "") == "option"
    assert run.detect_cache("usage: judge grade", 'os.environ.get("JUDGE_CACHE_DIR")') == "env"
    assert run.detect_cache("usage: judge grade", "no cache here") is None


def test_cache_settings_point_at_the_folder(tmp_path: Path) -> None:
    assert run.cache_settings("option", tmp_path) == (["--cache-dir", str(tmp_path)], {})
    assert run.cache_settings("env", tmp_path) == ([], {"JUDGE_CACHE_DIR": str(tmp_path)})
    assert run.cache_settings(None, tmp_path) == ([], {})


# --- tables and arguments ---


def test_table_shows_ratio_and_disagreement() -> None:
    rows = [
        run.Row("correct file", "s", 4.0, 8.0, "accepted", "accepted"),
        run.Row("structure only", "s", 5.0, 10.0, "wrong_answer", "accepted"),
        run.Row("batch: throughput", "files/min", None, 12.5, note="judge batch unavailable"),
    ]
    text = _render(run.build_table(rows, "title"))
    for header in ("row", "judge", "baseline", "judge/baseline", "verdicts"):
        assert header in text
    lines = text.splitlines()
    correct = next(line for line in lines if "correct file" in line)
    assert "4.00" in correct and "8.00" in correct and "0.50×" in correct and "agree" in correct
    structure = next(line for line in lines if "structure only" in line)
    assert "DIFFER" in structure and "accepted" in structure
    batch = next(line for line in lines if "throughput" in line)
    assert "—" in batch and "12.5" in batch and "judge batch unavailable" in batch


def test_memory_table() -> None:
    row = run.MemoryRow("correct file", 53.0, 334.0, 716.0, 334.0, 469.0)
    text = _render(run.build_memory_table([row], "memory"))
    line = next(line for line in text.splitlines() if "correct file" in line)
    assert "53.0" in line and "716.0" in line and "1.53×" in line


def test_phase_table_shows_what_the_report_does_not_count() -> None:
    timing = {"plan_s": 0.5, "startup_s": 0.5, "total_s": 4.5}
    text = _render(run.build_phase_table([("correct file", 5.25, timing), ("gone", None, {})]))
    line = next(line for line in text.splitlines() if "correct file" in line)
    assert "5.25" in line and "4.50" in line and "0.75" in line  # outside = wall - total
    assert "—" in next(line for line in text.splitlines() if "gone" in line)


def test_quick_is_a_small_run() -> None:
    args = run.parse_args(["--quick"])
    assert (args.repeat, args.batch_size, args.jobs) == (1, 6, 2)
    assert run.parse_args([]).repeat == 3


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is in the test extra")
def test_bench_is_formatted() -> None:
    # test_style checks the whole tree with `ruff check`; formatting is checked per folder.
    done = subprocess.run(
        ["ruff", "format", "--check", "bench", "tests/unit/test_bench.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the measuring wrapper (a plain Python child: no JAX) ---


def test_measure_wrapper_reports_output_and_memory(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    command = [sys.executable, "-c", "print('hello')"]
    subprocess.run([sys.executable, str(ROOT / "bench" / "measure.py"), str(out), "--", *command])
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["returncode"] == 0 and not result["timed_out"]
    assert result["stdout"] == "hello\n"
    assert result["max_rss_mb"] > 0


def test_measure_wrapper_stops_at_its_timeout(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    measure = [sys.executable, str(ROOT / "bench" / "measure.py"), str(out), "--timeout", "0.5"]
    subprocess.run([*measure, "--", *command])
    assert json.loads(out.read_text(encoding="utf-8"))["timed_out"] is True


# --- the baseline itself ---


def _baseline(relative: str) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "baseline.py"), str(SUBMISSIONS / relative)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = run.last_json_line(done.stdout)
    assert report is not None, done.stderr[-2000:]
    return done.returncode, report


@pytest.mark.slow
def test_baseline_accepts_the_canonical_solution_and_rejects_a_wrong_output() -> None:
    wrong = "wrong_answer/column_major_flatten.py"
    declared, _ = read_expected(SUBMISSIONS / "expected.yaml")
    assert "values_mismatch" in declared[wrong].codes  # its output differs: outputs alone show it

    code, report = _baseline("accepted/canonical.py")
    assert (code, report["verdict"], report["examples"]) == (0, "accepted", 50)
    code, report = _baseline(wrong)
    assert (code, report["verdict"]) == (1, "wrong_answer")
    assert report["falsifying"]


@pytest.mark.slow
def test_floor_bare_run_calls_every_planned_case_and_stops_where_a_judge_would(
    tmp_path: Path,
) -> None:
    """bench/floor.py's bare run: every case of the judge's plan called once in a fresh
    interpreter; a raising call ends it, a call past the per-call limit is stopped."""
    import dataclasses

    floor = _load("bench_floor", ROOT / "bench" / "floor.py")
    cases, problem = floor.plan_file(tmp_path)
    problem = dataclasses.replace(problem, limits=dataclasses.replace(problem.limits, call_s=2.0))
    planned = len(pickle.loads(cases.read_bytes()))
    xla = tmp_path / "xla"

    done = floor.bare_run(SUBMISSIONS / "accepted" / "canonical.py", cases, xla, problem)
    assert (done["calls"], done["error"]) == (planned, None), done
    assert done["imports_s"] > 0 and done["calls_s"] > 0 and done["wall_s"] >= done["calls_s"]

    raising = tmp_path / "raising.py"
    raising.write_text("def nn_vmap_forward(seed, x_batch, features):\n    raise ValueError\n")
    done = floor.bare_run(raising, cases, xla, problem)
    assert (done["calls"], done["error"]) == (0, "ValueError"), done

    looping = SUBMISSIONS / "time_limit_exceeded" / "infinite_loop.py"
    done = floor.bare_run(looping, cases, xla, problem)
    assert (done["calls"], done["error"]) == (0, "TimeoutError"), done
    assert 2.0 <= done["calls_s"] < 10.0
