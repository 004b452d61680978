"""The floor under issue 19's speed targets: what the learner's own code costs with no judge.

A grading cannot be faster than running the learner's function on the planned cases, in a
fresh interpreter that has imported JAX and Flax, with the same warm compilation cache the
learner's worker reads. This script measures exactly that, a *bare run*: ``python -I`` imports
numpy, JAX and Flax (what the zygote imports), starts the backend with the worker's settings
(read-only compilation cache, the problem's matmul precision, one MLIR context, as
``judge/runtime/lowering.py`` makes it), loads the file and calls its entry point once on each
case of the judge's own plan, in plan order, stopping at the first exception. No isolation, no
reference, no comparison, no shrinking, no report. Then it times ``judge grade`` on the same file
and cache, alternating run by run, and prints both against the target.

A bare run is a lower bound, not a design: it skips everything that makes a verdict
trustworthy. Where it is above a target, no judge that runs the learner's code in a process of
its own, started for that grading, meets the target on this machine.

``--batch`` does the same for a class (the bench's mixed folder): the bare run's calls alone
(its imports left out, as a zygote shares them), summed over the class and divided by
``--jobs``, against the judge's batch wall time, its cache as ``judge check`` leaves it
(``--with-baseline`` also runs the baseline over the class, for the 10x target). An
infinite loop counts for the problem's per-call limit, the least a judge waits before it can
say ``time_limit_exceeded``.

Usage: ``python bench/floor.py [--repeat 5] [--batch [--with-baseline]] [--jobs 2] [--json F]``
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import (  # noqa: E402  (bench/ is not a package)
    BASELINE,
    PROBLEM,
    ROOT,
    SINGLE_FILES,
    SUBMISSIONS,
    build_batch_folder,
    example_files,
    judge_command,
    median,
)

# Issue 19's targets, warm cache, per fresh ``judge grade`` process.
TARGETS = {"correct file": 1.0, "wrong file": 1.5}
BATCH_TARGET_RATIO = 10.0

# The bare run. Standard library until the clock starts; prints one JSON line.
BARE = r"""
import json, os, pickle, resource, sys, time
started = time.perf_counter()
cases_file, learner, xla_dir, entry, precision, call_s, memory_mb = sys.argv[1:8]
# The memory limit, set by the child itself first thing (a preexec_fn would run Python in the
# forked parent's image, which JAX warns against when it is loaded there).
resource.setrlimit(resource.RLIMIT_AS, (int(memory_mb) * 2**20,) * 2)
import signal
def _stop(*_):
    raise TimeoutError("per-call limit")
signal.signal(signal.SIGALRM, _stop)
import numpy as np
import jax
import flax.linen
imported = time.perf_counter()
if xla_dir:
    jax.config.update("jax_compilation_cache_dir", xla_dir)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1e12)
    jax.config.update("jax_persistent_cache_enable_xla_caches", "none")
if precision and precision != "default":
    jax.config.update("jax_default_matmul_precision", precision)
from judge.runtime.lowering import share_ir_contexts
share_ir_contexts()
jax.devices()
ready = time.perf_counter()
cases = pickle.load(open(cases_file, "rb"))
calls = 0
error = None
try:
    namespace = {"__name__": "submission"}
    exec(compile(open(learner).read(), learner, "exec"), namespace)
    function = namespace[entry]
    loaded = time.perf_counter()
    for args in cases:
        signal.setitimer(signal.ITIMER_REAL, float(call_s))
        np.asarray(function(*args))
        signal.setitimer(signal.ITIMER_REAL, 0)
        calls += 1
except BaseException as exc:
    error = type(exc).__name__
    loaded = locals().get("loaded", time.perf_counter())
done = time.perf_counter()
print(json.dumps({"imports_s": imported - started, "backend_s": ready - imported,
                  "load_s": loaded - ready, "calls_s": done - loaded, "calls": calls,
                  "error": error}))
"""


def plan_file(workdir: Path) -> tuple[Path, Any]:
    """The judge's own plan for the problem (seed 0), pickled as call arguments."""
    from judge.cases.plan import plan_cases
    from judge.problem import load_problem_file

    problem = load_problem_file(ROOT / "problems" / PROBLEM / "problem.yaml")
    path = workdir / "cases.pkl"
    path.write_bytes(pickle.dumps([case.args(problem) for case in plan_cases(problem, 0)]))
    return path, problem


def python_source(file: Path, workdir: Path) -> Path:
    """The file as Python: a notebook's code cells, converted the way the judge converts them."""
    if file.suffix != ".ipynb":
        return file
    from judge.submission import read_submission

    out = workdir / f"{file.stem}_ipynb.py"
    out.write_text(read_submission(file).source, encoding="utf-8")
    return out


def bare_run(file: Path, cases: Path, xla: Path, problem: Any) -> dict[str, Any]:
    """One bare run in a fresh interpreter: its wall time and its phases. A call is stopped at
    the problem's per-call limit (SIGALRM), the whole run at its per-submission limit."""

    command = [
        sys.executable,
        "-I",
        "-c",
        BARE,
        str(cases),
        str(file),
        str(xla),
        problem.entry_point,
        problem.precision,
        str(problem.limits.call_s),
        str(problem.limits.memory_mb),
    ]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=problem.limits.submission_s,
            cwd=tempfile.gettempdir(),
        )
    except subprocess.TimeoutExpired:
        return {
            "wall_s": time.perf_counter() - started,
            "calls_s": problem.limits.submission_s,
            "error": "stopped",
        }
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:  # died (memory, a signal) before it could say: its wall time, imports included
        return {"wall_s": wall, "calls_s": wall, "error": f"exit {done.returncode}"}
    phases = json.loads(lines[-1])
    return {"wall_s": wall, **phases}


def judge_run(file: Path, cache: Path, extra: Sequence[str] = ()) -> float:
    """Wall seconds of one ``judge grade`` (or ``judge batch``) with the cache at ``cache``."""
    env = {**os.environ, "JUDGE_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    subprocess.run(
        [*judge_command(), *extra]
        if extra
        else [*judge_command(), "grade", str(file), "--problem", PROBLEM, "--format", "json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


def single_files(repeat: int, workdir: Path) -> list[dict[str, Any]]:
    """Each bench file: ``judge grade`` and the bare run, alternating, warm cache."""
    cases, problem = plan_file(workdir)
    cache = workdir / "cache"
    judge_run(SUBMISSIONS / SINGLE_FILES[0][1], cache)  # warms the cache, untimed
    rows = []
    for label, name in SINGLE_FILES[:2]:
        file = SUBMISSIONS / name
        judge_run(file, cache)  # what this file alone adds to the cache (a wrong answer's cases)
        judged, bare = [], []
        for _ in range(repeat):
            judged.append(judge_run(file, cache))
            bare.append(bare_run(file, cases, cache / "xla", problem))
        rows.append(
            {
                "row": label,
                "file": name,
                "judge_s": median(judged),
                "bare_s": median(b["wall_s"] for b in bare),
                "bare_phases": {
                    k: median(b.get(k) for b in bare)
                    for k in ("imports_s", "backend_s", "load_s", "calls_s")
                },
                "target_s": TARGETS[label],
            }
        )
    return rows


def batch(
    jobs: int, size: int, baseline_s: float | None, workdir: Path, with_baseline: bool = False
) -> dict[str, Any]:
    """The class: the judge's warm batch against the sum of the bare runs' calls over ``jobs``."""
    cases, problem = plan_file(workdir)
    folder = workdir / "class"
    files = build_batch_folder(example_files(), size, folder)
    cache = workdir / "batch-cache"
    judge_run(SUBMISSIONS / SINGLE_FILES[0][1], cache)
    subprocess.run(
        [*judge_command(), "check", PROBLEM],
        env={**os.environ, "JUDGE_CACHE_DIR": str(cache)},
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    out = workdir / "batch-out"
    wall = judge_run(
        folder,
        cache,
        ["batch", str(folder), "--problem", PROBLEM, "--out", str(out), "--jobs", str(jobs)],
    )
    calls = {
        f.name: bare_run(python_source(folder / f.name, workdir), cases, cache / "xla", problem)[
            "calls_s"
        ]
        for f in files
    }
    floor = sum(calls.values()) / jobs
    if baseline_s is None and with_baseline:
        baseline_s = baseline_batch(folder, files, jobs, problem.limits.submission_s)
    return {
        "files": len(files),
        "jobs": jobs,
        "judge_s": wall,
        "bare_calls_sum_s": sum(calls.values()),
        "floor_s": floor,
        "per_file_calls_s": calls,
        "baseline_s": baseline_s,
        "target_s": baseline_s / BATCH_TARGET_RATIO if baseline_s else None,
    }


def baseline_batch(folder: Path, files: Sequence[Any], jobs: int, timeout: float) -> float:
    """The baseline's wall time over the class, ``jobs`` files at a time (as ``run.py``)."""

    def one(name: str) -> None:
        try:
            subprocess.run([sys.executable, str(BASELINE), str(folder / name)], cwd=ROOT,
                           capture_output=True, timeout=timeout, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            pass

    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, [f.name for f in files]))
    return time.perf_counter() - started


def _s(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "-"


def show_files(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="issue 19's targets against a bare run of the learner's code (warm cache)")
    for column in (
        "row",
        "judge grade",
        "bare run",
        "imports",
        "backend",
        "calls",
        "target",
        "target - bare run",
    ):
        table.add_column(column, justify="left" if column == "row" else "right")
    for row in rows:
        phases = row["bare_phases"]
        table.add_row(
            row["row"],
            _s(row["judge_s"]),
            _s(row["bare_s"]),
            _s(phases["imports_s"]),
            _s(phases["backend_s"]),
            _s(phases["calls_s"]),
            _s(row["target_s"]),
            f"{row['target_s'] - row['bare_s']:+.2f} s",
        )
    console.print(table)


def show_class(class_row: dict[str, Any], console: Console) -> None:
    console.print(
        f"batch of {class_row['files']}, --jobs {class_row['jobs']}: judge "
        f"{_s(class_row['judge_s'])}; the bare runs' calls alone sum to "
        f"{_s(class_row['bare_calls_sum_s'])}, {_s(class_row['floor_s'])} over "
        f"{class_row['jobs']} cores; 10x the baseline needs {_s(class_row['target_s'])}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", action="store_true", help="also the class's floor")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=40)
    parser.add_argument(
        "--baseline-batch-s",
        type=float,
        default=None,
        help="the baseline's batch wall time (bench/run.py's), for the target",
    )
    parser.add_argument(
        "--with-baseline",
        action="store_true",
        help="run the baseline over the class too, for the 10x target (about 5 min)",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="judge-floor-") as temp:
        workdir = Path(temp)
        rows = single_files(args.repeat, workdir)
        show_files(rows, console)  # before the class, which takes minutes
        class_row = None
        if args.batch:
            class_row = batch(
                args.jobs, args.batch_size, args.baseline_batch_s, workdir, args.with_baseline
            )
            show_class(class_row, console)
    if args.json:
        args.json.write_text(json.dumps({"files": rows, "batch": class_row}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
