"""Grading speed: the judge against a naive in-process Hypothesis judge, measured side by side.

One run measures both on the same machine, one after the other, so the ratios hold even where
the absolute seconds do not travel: wall time and peak memory for a correct, a wrong and a
non-loading file (median of ``--repeat`` runs, each a fresh process), the judge with a cold and
a warm on-disk cache when it has one, and a mixed batch (files per minute, ``--jobs`` at a
time). The baseline (``bench/baseline.py``) is what an instructor would write by hand; why it
is the yardstick, and what each row means, is in ``bench/README.md``.

Usage: ``python bench/run.py [--repeat 3] [--batch-size 40] [--jobs 2] [--quick] [--json F]``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROBLEM = "nn_vmap_forward"
SUBMISSIONS = ROOT / "submissions" / PROBLEM
MEASURE = BENCH / "measure.py"
BASELINE = BENCH / "baseline.py"

# One file per kind, chosen to be typical: the statement's recipe, a wrong answer the judge
# explains with a fingerprint, and a syntax error.
SINGLE_FILES = (
    ("correct file", "accepted/canonical.py"),
    ("wrong file", "wrong_answer/column_major_flatten.py"),
    ("non-loading file", "compile_error/syntax_error.py"),
)
# The verdict folders a batch draws from; the order breaks ties in ``spread_evenly``.
VERDICT_FOLDERS = (
    "accepted",
    "wrong_answer",
    "compile_error",
    "runtime_error",
    "time_limit_exceeded",
    "memory_limit_exceeded",
)
SUFFIXES = (".py", ".ipynb")
# The baseline answers accepted / wrong_answer / error; the judge's other verdicts are errors.
FAMILIES = {"accepted": "accepted", "wrong_answer": "wrong_answer"}


# --- pure helpers ------------------------------------------------------------------------------


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that were measured; None when there are none.

    A run that produced no number (a crash, an unavailable command) is left out rather than
    counted as zero, which would flatter whichever side failed.
    """
    measured = [v for v in values if v is not None]
    return statistics.median(measured) if measured else None


def format_ratio(judge: float | None, baseline: float | None) -> str:
    """``judge / baseline`` as ``0.55×``; a dash when either side is missing or zero."""
    if judge is None or baseline is None or baseline == 0:
        return "—"
    return f"{judge / baseline:.2f}×"


def format_number(value: float | None, unit: str) -> str:
    """Seconds with two decimals, MB and files/minute with one; a dash when missing."""
    if value is None:
        return "—"
    return f"{value:.2f}" if unit == "s" else f"{value:.1f}"


def family(verdict: str) -> str:
    """The baseline's coarser verdict for a judge verdict (or a baseline outcome)."""
    return FAMILIES.get(verdict, "error")


def explain_disagreement(judge: str, baseline: str) -> str:
    """Why the two disagree, in the words a reader of the table needs; empty when they agree."""
    ours, theirs = family(judge), family(baseline)
    if ours == theirs:
        return ""
    if baseline == "timeout":
        return "baseline did not finish within its time limit (it shrinks without a budget)"
    if baseline.startswith("crashed"):
        return "baseline's own process died without a verdict"
    if ours == "wrong_answer" and theirs == "accepted":
        return "baseline sees outputs only: it accepts a wrong structure with the right numbers"
    if theirs == "accepted":
        return "baseline accepts a file the judge rejects (e.g. one that prints a verdict)"
    if ours == "accepted":
        return "baseline cannot grade a file the judge accepts (e.g. a notebook)"
    if ours == "wrong_answer":
        return "baseline stops at an exception (a tuple it cannot compare, several failures)"
    return "baseline calls a rejected file a wrong answer"


def spread_evenly(folders: dict[str, list[Path]]) -> list[Path]:
    """Every file once, ordered so that any prefix mixes the folders in proportion.

    File ``i`` of a folder of ``n`` sits at ``(i + 0.5) / n`` of the way through; sorting by
    that position spreads each kind of file through the list, as in a class where each kind
    turns up throughout, and keeps a small batch (``--quick``) a mix rather than one folder.
    """
    keyed = []
    for rank, (name, files) in enumerate(folders.items()):
        for i, path in enumerate(files):
            keyed.append(((i + 0.5) / len(files), rank, i, name, path))
    return [entry[-1] for entry in sorted(keyed, key=lambda e: e[:3])]


def example_files(root: Path = SUBMISSIONS) -> list[Path]:
    """The problem's example submissions, spread evenly through the verdict folders."""
    folders = {
        name: sorted(p for p in (root / name).iterdir() if p.suffix in SUFFIXES)
        for name in VERDICT_FOLDERS
        if (root / name).is_dir()
    }
    return spread_evenly({k: v for k, v in folders.items() if v})


@dataclass(frozen=True)
class BatchFile:
    """One file of the batch folder: its student name, where it came from, and its verdict."""

    name: str
    source: Path
    expected: str


def build_batch_folder(sources: Sequence[Path], size: int, dest: Path) -> list[BatchFile]:
    """Copy ``size`` files into ``dest``, cycling through ``sources``, one student name each.

    Names are distinct (``student_007.py``) so that a batch grader keeps every file apart even
    when the same example is used twice; the expected verdict is the source's folder name.
    """
    if not sources and size > 0:
        raise ValueError("no example submissions to build a batch from")
    dest.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(size)))
    made = []
    for number in range(size):
        source = sources[number % len(sources)]
        name = f"student_{number + 1:0{width}d}{source.suffix}"
        shutil.copyfile(source, dest / name)
        made.append(BatchFile(name, source, source.parent.name))
    return made


def detect_cache(help_text: str, judge_source: str) -> str | None:
    """How the judge takes an on-disk cache: ``"option"``, ``"env"``, or None when it has none.

    ``--cache-dir`` in ``judge grade --help`` wins; otherwise a ``JUDGE_CACHE_DIR`` named in
    the help or in the judge's own source means the environment variable.
    """
    if "--cache-dir" in help_text:
        return "option"
    if "JUDGE_CACHE_DIR" in help_text or "JUDGE_CACHE_DIR" in judge_source:
        return "env"
    return None


def cache_settings(how: str | None, directory: Path | None) -> tuple[list[str], dict[str, str]]:
    """Extra arguments and environment that point the judge's cache at ``directory``."""
    if how is None or directory is None:
        return [], {}
    if how == "option":
        return ["--cache-dir", str(directory)], {}
    return [], {"JUDGE_CACHE_DIR": str(directory)}


def last_json_line(stdout: str) -> dict[str, Any] | None:
    """The last stdout line that is a JSON object: the baseline's report, after any prints."""
    for line in reversed(stdout.splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def baseline_verdict(stdout: str, returncode: int | None, timed_out: bool) -> str:
    """What the baseline said, or what happened to it: ``timeout``, ``crashed (exit N)``."""
    if timed_out:
        return "timeout"
    report = last_json_line(stdout)
    if report is None or "verdict" not in report:
        return f"crashed (exit {returncode})"
    return str(report["verdict"])


def judge_verdict(stdout: str, returncode: int | None) -> str:
    """The verdict of a ``--format json`` report, or ``exit N`` when there is none."""
    try:
        return str(json.loads(stdout)["verdict"])
    except (ValueError, KeyError, TypeError):
        return f"exit {returncode}"


def read_batch_verdicts(out_dir: Path, names: Iterable[str]) -> dict[str, str]:
    """The verdict ``judge batch`` gave each file, from whatever it wrote in ``out_dir``.

    Reads JSON reports (one per file, or a list), JSON lines and CSV gradebooks, matching a
    record to a file by the file's name or stem in any of its text fields. What cannot be
    matched is left out: the caller counts only what it finds.
    """
    wanted = set(names)
    by_stem = {Path(n).stem: n for n in wanted}
    found: dict[str, str] = {}

    def take(record: Any) -> None:
        if not isinstance(record, dict) or "verdict" not in record:
            return
        for value in record.values():
            if not isinstance(value, str):
                continue
            base = Path(value).name
            name = base if base in wanted else by_stem.get(base) or by_stem.get(Path(base).stem)
            if name is not None:
                found.setdefault(name, str(record["verdict"]))
                return

    for path in sorted(out_dir.rglob("*")) if out_dir.is_dir() else []:
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if path.suffix == ".json":
            try:
                data = json.loads(text)
            except ValueError:
                continue
            for record in data if isinstance(data, list) else [data]:
                take(record)
                if isinstance(record, dict):
                    for nested in record.values():  # {"results": [...]} and the like
                        if isinstance(nested, list):
                            for item in nested:
                                take(item)
        elif path.suffix == ".jsonl":
            for line in text.splitlines():
                take(last_json_line(line))
        elif path.suffix == ".csv":
            for row in csv.DictReader(text.splitlines()):
                take({k.strip().lower(): v for k, v in row.items() if k})
    return found


@dataclass
class Row:
    """One line of a table: a measured quantity on each side, and what each side decided."""

    name: str
    unit: str  # "s", "MB", "files/min"
    judge: float | None
    baseline: float | None
    judge_verdict: str = ""
    baseline_verdict: str = ""
    note: str = ""

    @property
    def agreement(self) -> str:
        """``agree``, ``DIFFER: why``, or empty when the row decides no verdict."""
        if not self.judge_verdict or not self.baseline_verdict:
            return ""
        why = explain_disagreement(self.judge_verdict, self.baseline_verdict)
        return f"DIFFER: {why}" if why else "agree"


def build_table(rows: Sequence[Row], title: str) -> Table:
    """The side-by-side table: each row's numbers, their ratio, and the verdicts."""
    table = Table(title=title, title_justify="left")
    table.add_column("row")
    table.add_column("unit")
    table.add_column("judge", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("judge/baseline", justify="right")
    table.add_column("verdicts (judge / baseline)")
    table.add_column("agreement / note", overflow="fold")
    for row in rows:
        verdicts = f"{row.judge_verdict} / {row.baseline_verdict}" if row.judge_verdict else ""
        note = "; ".join(part for part in (row.agreement, row.note) if part)
        table.add_row(
            row.name,
            row.unit,
            format_number(row.judge, row.unit),
            format_number(row.baseline, row.unit),
            format_ratio(row.judge, row.baseline),
            verdicts,
            note,
        )
    return table


@dataclass
class MemoryRow:
    """Peak resident memory of one kind of run, in MB (medians over the repeats)."""

    name: str
    judge_process: float | None
    judge_largest_worker: float | None
    judge_together: float | None
    judge_max: float | None
    baseline: float | None


def build_memory_table(rows: Sequence[MemoryRow], title: str) -> Table:
    """Peak RSS: the judge's own process, its largest worker, all at once, and the baseline."""
    table = Table(title=title, title_justify="left")
    for column in (
        "row",
        "judge process",
        "largest worker",
        "judge, all processes together",
        "judge, ru_maxrss",
        "baseline",
        "together/baseline",
    ):
        table.add_column(column, justify="left" if column == "row" else "right")
    for row in rows:
        table.add_row(
            row.name,
            *(
                format_number(v, "MB")
                for v in (
                    row.judge_process,
                    row.judge_largest_worker,
                    row.judge_together,
                    row.judge_max,
                    row.baseline,
                )
            ),
            format_ratio(row.judge_together, row.baseline),
        )
    return table


PHASES = ("plan_s", "startup_s", "load_s", "reference_s", "learner_s", "shrink_s", "total_s")


def build_phase_table(rows: Sequence[tuple[str, float | None, dict[str, Any]]]) -> Table:
    """Where the judge's seconds go, from its own report, next to the wall time.

    The reference's and the learner's seconds overlap (their workers run side by side), so the
    phases do not add up; ``outside`` is the wall time the report does not count (the judge's
    imports, the workers' shutdown).
    """
    table = Table(
        title="the judge's phases, s (its report's timing; medians)", title_justify="left"
    )
    table.add_column("row")
    table.add_column("wall", justify="right")
    for phase in PHASES:
        table.add_column(phase.removesuffix("_s"), justify="right")
    table.add_column("outside", justify="right")
    for name, wall, timing in rows:
        total = timing.get("total_s")
        outside = None if wall is None or total is None else wall - total
        cells = (format_number(timing.get(p), "s") for p in PHASES)
        table.add_row(name, format_number(wall, "s"), *cells, format_number(outside, "s"))
    return table


# --- measuring ---------------------------------------------------------------------------------


def judge_command() -> list[str]:
    """The installed ``judge`` command, or ``python -m judge`` where it is not on PATH."""
    found = shutil.which("judge")
    return [found] if found else [sys.executable, "-m", "judge"]


def measured(
    command: list[str], workdir: Path, env: dict[str, str] | None = None, timeout: float = 0
) -> dict[str, Any]:
    """Run ``command`` inside a fresh ``bench/measure.py`` wrapper; return its measurements."""
    out = workdir / f"measure-{time.monotonic_ns()}.json"
    wrapper = [sys.executable, str(MEASURE), str(out)]
    if timeout:
        wrapper += ["--timeout", str(timeout)]
    subprocess.run(
        [*wrapper, "--", *command],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=True,
    )
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return result


def _summary(
    runs: list[dict[str, Any]], verdict: Callable[[dict[str, Any]], str]
) -> dict[str, Any]:
    verdicts = [verdict(r) for r in runs]
    return {
        "wall_s": median(r["wall_s"] for r in runs),
        "runs_s": [r["wall_s"] for r in runs],
        "verdict": max(set(verdicts), key=verdicts.count),
        "verdicts": verdicts,
        "max_rss_mb": median(r["max_rss_mb"] for r in runs),
        "process_peak_mb": median(r["process_peak_mb"] for r in runs),
        "largest_child_peak_mb": median(r["largest_child_peak_mb"] for r in runs),
        "together_peak_mb": median(r["together_peak_mb"] for r in runs),
    }


def _judge_verdict_of(run: dict[str, Any]) -> str:
    return judge_verdict(run["stdout"], run["returncode"])


def judge_breakdown(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The judge's own ``timing`` (medians per phase) and its environment, from its reports.

    Set against the wall time, it shows what the report does not count: the judge's imports
    and the workers' shutdown.
    """
    reports = []
    for run in runs:
        try:
            reports.append(json.loads(run["stdout"]))
        except ValueError:
            continue
    timings = [r.get("timing") or {} for r in reports]
    keys = sorted({k for t in timings for k in t})
    environment = reports[0].get("environment", {}) if reports else {}
    return {
        "timing": {k: median(t.get(k) for t in timings) for k in keys},
        "sandbox": environment.get("sandbox"),
        "device": environment.get("device"),
    }


def _baseline_verdict_of(run: dict[str, Any]) -> str:
    return baseline_verdict(run["stdout"], run["returncode"], run["timed_out"])


def machine_info() -> dict[str, Any]:
    """Where the numbers come from: CPU, cores, load, and the versions that matter."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("jax", "jaxlib", "flax", "hypothesis", "numpy", "jax-judge"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        **versions,
    }


def judge_source_text() -> str:
    """The judge package's own source, to look for a cache setting it reads."""
    spec = importlib.util.find_spec("judge")
    if spec is None or not spec.submodule_search_locations:
        return ""
    folder = Path(next(iter(spec.submodule_search_locations)))
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.py")))


class Bench:
    """One benchmark run: its settings, a scratch folder, and everything measured so far."""

    def __init__(self, args: argparse.Namespace, workdir: Path, console: Console) -> None:
        self.args = args
        self.workdir = workdir
        self.console = console
        self.judge = judge_command()
        self._checked_cache: Path | None = None
        limits = yaml.safe_load((ROOT / "problems" / PROBLEM / "problem.yaml").read_text())
        self.baseline_timeout = args.baseline_timeout or float(limits["limits"]["submission_s"])
        help_run = subprocess.run(
            [*self.judge, "grade", "--help"], cwd=ROOT, capture_output=True, text=True
        )
        self.cache = detect_cache(help_run.stdout, judge_source_text())
        self.results: dict[str, Any] = {}
        self.batch_memory: MemoryRow | None = None  # the baseline's batch is not wrapped

    def log(self, message: str) -> None:
        self.console.log(message)

    def fresh_dir(self, prefix: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.workdir))

    def grade_judge(
        self,
        file: str,
        cache_dir: Path | None,
        sandbox: str | None = None,
        options: Sequence[str] = (),
        environment: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        extra, env = cache_settings(self.cache, cache_dir)
        env = {**(env or {}), **(environment or {})}
        extra = [*extra, *options]
        if sandbox is not None:
            extra = [*extra, "--sandbox", sandbox]
        command = [*self.judge, "grade", file, "--problem", PROBLEM, "--format", "json", *extra]
        return measured(command, self.workdir, env)

    def sandboxes(self) -> Table:
        """The correct file, warm cache, under each sandbox that runs here: what isolation
        costs, as a ratio to ``--sandbox none`` (alternating runs, medians)."""
        file = str((SUBMISSIONS / SINGLE_FILES[0][1]).relative_to(ROOT))
        cache_dir = self.fresh_dir("sandbox-")
        names = [n for n in ("none", "landlock", "bwrap") if self._sandbox_runs(n)]
        runs: dict[str, list[float]] = {n: [] for n in names}
        for name in names:
            self.grade_judge(file, cache_dir, name)  # warms the cache (and the page cache)
        for _ in range(self.args.repeat):
            for name in names:
                runs[name].append(self.grade_judge(file, cache_dir, name)["wall_s"])
        table = Table(title="correct file, warm cache: per-file wall time by sandbox")
        for column in ("sandbox", "median s", "vs none"):
            table.add_column(column, justify="right" if column != "sandbox" else "left")
        base = median(runs.get("none", []))
        self.results["sandboxes"] = {
            n: {"runs_s": runs[n], "median_s": median(runs[n])} for n in names
        }
        for name in names:
            value = median(runs[name])
            table.add_row(name, format_number(value, "s"), format_ratio(value, base))
        return table

    def backends(self) -> Table | None:
        """The correct and the wrong file, warm cache, on the CPU and on a GPU when one is
        present (its JAX plugin installed and a device found): medians of ``--repeat``."""
        probe = [
            sys.executable,
            "-c",
            "from judge.sandbox import probe_backends; print(','.join(probe_backends()))",
        ]
        found = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True).stdout
        names = ["cpu"] + (["gpu"] if "gpu" in found.strip().split(",") else [])
        if len(names) == 1:
            self.results["backends"] = "no GPU here: the CPU rows above are the only ones"
            return None
        table = Table(title="warm cache: per-file wall time by backend")
        for column in ("file", *names, "gpu vs cpu"):
            table.add_column(column, justify="left" if column == "file" else "right")
        self.results["backends"] = {}
        for label, relative in SINGLE_FILES[:2]:
            file = str((SUBMISSIONS / relative).relative_to(ROOT))
            medians = {}
            for name in names:
                cache_dir = self.fresh_dir(f"{name}-")
                self._grade_on(file, cache_dir, name)  # fills the cache
                runs = [self._grade_on(file, cache_dir, name) for _ in range(self.args.repeat)]
                medians[name] = median(r["wall_s"] for r in runs)
            self.results["backends"][label] = medians
            ratio = format_ratio(medians["gpu"], medians["cpu"])
            table.add_row(label, *(format_number(medians[n], "s") for n in names), ratio)
        return table

    def _grade_on(self, file: str, cache_dir: Path, backend: str) -> dict[str, Any]:
        extra, env = cache_settings(self.cache, cache_dir)
        command = [*self.judge, "grade", file, "--problem", PROBLEM, "--format", "json",
                   "--backend", backend, *extra]  # fmt: skip
        return measured(command, self.workdir, env)

    def _sandbox_runs(self, name: str) -> bool:
        done = subprocess.run(
            [*self.judge, "grade", "--help"], cwd=ROOT, capture_output=True, text=True
        )
        if name not in done.stdout:
            return False
        probe = [
            sys.executable,
            "-c",
            f"from judge.sandbox import get_sandbox; "
            f"import sys; sys.exit(get_sandbox({name!r}).problem() is not None)",
        ]
        return subprocess.run(probe, cwd=ROOT, capture_output=True).returncode == 0

    def grade_baseline(self, file: str) -> dict[str, Any]:
        command = [sys.executable, str(BASELINE), file]
        return measured(command, self.workdir, timeout=self.baseline_timeout)

    def single_files(self) -> tuple[list[Row], list[MemoryRow]]:
        """Each file graded ``--repeat`` times on each side, alternating, each a fresh process."""
        rows, memory = [], []
        cold = " (cold cache)" if self.cache else ""
        for label, relative in SINGLE_FILES:
            file = str((SUBMISSIONS / relative).relative_to(ROOT))
            judge_runs, baseline_runs = [], []
            for number in range(self.args.repeat):
                # Alternating spreads any drift in the machine's speed over both sides.
                cache_dir = self.fresh_dir("cold-") if self.cache else None
                judge_runs.append(self.grade_judge(file, cache_dir))
                baseline_runs.append(self.grade_baseline(file))
                self.log(
                    f"{label} run {number + 1}/{self.args.repeat}: "
                    f"judge {judge_runs[-1]['wall_s']:.2f} s, "
                    f"baseline {baseline_runs[-1]['wall_s']:.2f} s"
                )
            judge = {**_summary(judge_runs, _judge_verdict_of), **judge_breakdown(judge_runs)}
            baseline = _summary(baseline_runs, _baseline_verdict_of)
            self.results[label] = {"file": file, "judge": judge, "baseline": baseline}
            rows.append(
                Row(
                    f"{label}{cold}: {Path(relative).name}",
                    "s",
                    judge["wall_s"],
                    baseline["wall_s"],
                    judge["verdict"],
                    baseline["verdict"],
                )
            )
            memory.append(
                MemoryRow(
                    label,
                    judge["process_peak_mb"],
                    judge["largest_child_peak_mb"],
                    judge["together_peak_mb"],
                    judge["max_rss_mb"],
                    baseline["max_rss_mb"],
                )
            )
        return rows, memory

    def warm_cache(self) -> list[Row]:
        """The judge again on the correct and the wrong file, with a cache filled by one run."""
        if self.cache is None:
            self.results["cache"] = "the judge has no on-disk cache (no --cache-dir option in "
            self.results["cache"] += "`judge grade --help`, no JUDGE_CACHE_DIR in its source)"
            return []
        rows = []
        self.results["cache"] = {"how": self.cache}
        for label, relative in SINGLE_FILES[:2]:
            file = str((SUBMISSIONS / relative).relative_to(ROOT))
            cache_dir = self.fresh_dir("warm-")
            self.grade_judge(file, cache_dir)  # fills the cache; not timed
            runs = [self.grade_judge(file, cache_dir) for _ in range(self.args.repeat)]
            self.log(f"{label}, warm cache: {[r['wall_s'] for r in runs]}")
            judge = {**_summary(runs, _judge_verdict_of), **judge_breakdown(runs)}
            baseline = self.results[label]["baseline"]
            self.results["cache"][label] = {"warm": judge, "cold": self.results[label]["judge"]}
            rows.append(
                Row(
                    f"{label} (warm cache): {Path(relative).name}",
                    "s",
                    judge["wall_s"],
                    baseline["wall_s"],
                    judge["verdict"],
                    baseline["verdict"],
                    "baseline has no cache: its number is the row above's",
                )
            )
        return rows

    def phase_rows(self) -> list[tuple[str, float | None, dict[str, Any]]]:
        """Each single-file judge measurement with its report's phases, cold then warm."""
        rows = []
        for label, _ in SINGLE_FILES:
            judge = self.results[label]["judge"]
            rows.append((label, judge["wall_s"], judge["timing"]))
        cache = self.results.get("cache")
        if isinstance(cache, dict):
            for label, _ in SINGLE_FILES[:2]:
                warm = cache[label]["warm"]
                rows.append((f"{label}, warm cache", warm["wall_s"], warm["timing"]))
        return rows

    def correct_file(self) -> str:
        return str(ROOT / "submissions" / PROBLEM / SINGLE_FILES[0][1])

    def judge_batch_run(
        self,
        folder: Path,
        cache_dir: Path,
        options: Sequence[str] = (),
        environment: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One measured ``judge batch`` of ``folder`` with the cache ``cache_dir``."""
        out = self.fresh_dir("batch-out-")
        extra, env = cache_settings(self.cache, cache_dir)
        env = {**(env or {}), **(environment or {})}
        command = [*self.judge, "batch", str(folder), "--problem", PROBLEM, "--out", str(out)]
        command += ["--jobs", str(self.args.jobs), *extra, *options]
        return measured(command, self.workdir, env, timeout=120.0 * 60)

    def zygote(self) -> tuple[Table | None, str]:
        """Issue 19's rows (``bench/zygote.py``): the zygote on and off, and shard balance."""
        spec = importlib.util.spec_from_file_location("bench_zygote", ROOT / "bench" / "zygote.py")
        assert spec is not None and spec.loader is not None
        rows = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(rows)
        if not self.cache or not self._sandbox_runs(rows.SANDBOX):
            return None, ""
        files = [(label, str(SUBMISSIONS / relative)) for label, relative in SINGLE_FILES[:2]]
        found = rows.single_files(self, files)
        shards = ""
        folder = self.workdir / "batch"
        if self.args.batch_size and folder.is_dir():
            found[f"batch of {self.args.batch_size}, warm"] = rows.batch(
                self, folder, self.args.batch_size
            )
            names = sorted(p.stem for p in folder.glob("*.py"))
            balance = rows.shard_balance(names)
            self.results["shard_balance"] = balance
            shards = (f"shards of the batch ({rows.SHARDS}): balanced {balance['balanced']}, "
                      f"by hash alone {balance['hash_mod_n']}")  # fmt: skip
        self.results["zygote"] = found
        return rows.table(found), shards

    def judge_batch_available(self) -> tuple[bool, str]:
        done = subprocess.run(
            [*self.judge, "batch", "--help"], cwd=ROOT, capture_output=True, text=True
        )
        return done.returncode == 0, done.stdout + done.stderr

    def batch(self) -> tuple[list[Row], list[str]]:
        """The same mixed folder graded by ``judge batch`` and by the baseline, ``--jobs`` wide."""
        size, jobs = self.args.batch_size, self.args.jobs
        folder = self.workdir / "batch"
        files = build_batch_folder(example_files(), size, folder)
        result: dict[str, Any] = {
            "files": [{**asdict(f), "source": str(f.source.relative_to(ROOT))} for f in files],
        }
        self.results["batch"] = result
        judge_s, judge_verdicts, note = self._judge_batch(folder, files, result)
        # Warm: the cache an instructor has after grading anything once (plans, the
        # reference's outputs, JAX's compilations); the median of --repeat batches.
        warm = [
            self._judge_batch(folder, files, result, warm=True) for _ in range(self.args.repeat)
        ]
        warm_s = median(w[0] for w in warm) if self.cache else None
        # Checked: the cache an instructor has after ``judge check`` (the CI recipes in docs/ run
        # it first): the fingerprints' outputs and the examples' smallest cases too.
        checked_s = None
        if self.cache:
            checked = [
                self._judge_batch(folder, files, result, warm=True, checked=True)
                for _ in range(self.args.repeat)
            ]
            checked_s = median(c[0] for c in checked)
        baseline_s, baseline_verdicts = self._baseline_batch(folder, files, result)

        differences, agree = [], 0
        for f, record in zip(files, result["files"], strict=True):
            mine, theirs = judge_verdicts.get(f.name), baseline_verdicts[f.name]
            record.update({"judge": mine, "baseline": theirs})
            why = "" if mine is None else explain_disagreement(mine, theirs)
            if why:
                where = f"{f.source.parent.name}/{f.source.name}"
                differences.append(f"{f.name} ({where}): judge {mine}, baseline {theirs}: {why}")
            agree += mine is not None and not why
        notes = [note] if note else []
        if judge_verdicts:
            notes.insert(0, f"{agree} of {len(judge_verdicts)} verdicts agree")
        timeouts = sum(v == "timeout" for v in baseline_verdicts.values())
        if timeouts:
            notes.append(f"{timeouts} baseline run(s) stopped at {self.baseline_timeout:g} s")
        per_minute = [None if s is None else size / s * 60 for s in (judge_s, baseline_s)]
        warm_per_minute = None if warm_s is None else size / warm_s * 60
        checked_per_minute = None if checked_s is None else size / checked_s * 60
        result.update(
            {
                "judge_files_per_min": per_minute[0],
                "judge_warm_files_per_min": warm_per_minute,
                "judge_checked_files_per_min": checked_per_minute,
                "baseline_files_per_min": per_minute[1],
                "differences": differences,
            }
        )
        name = f"batch of {size} mixed files, {jobs} at a time"
        rows = [
            Row(f"{name} (cold cache): wall", "s", judge_s, baseline_s, note="; ".join(notes)),
            Row(
                f"{name} (cold cache): throughput",
                "files/min",
                *per_minute,
                note="higher is faster",
            ),
        ]
        if warm_s is not None:
            rows += [
                Row(
                    f"{name} (warm cache): wall", "s", warm_s, baseline_s, note="baseline: no cache"
                ),
                Row(
                    f"{name} (warm cache): throughput",
                    "files/min",
                    warm_per_minute,
                    per_minute[1],
                    note="higher is faster",
                ),
            ]
        if checked_s is not None:
            rows += [
                Row(
                    f"{name} (cache warmed by judge check): wall",
                    "s",
                    checked_s,
                    baseline_s,
                    note="baseline: no cache",
                ),
                Row(
                    f"{name} (cache warmed by judge check): throughput",
                    "files/min",
                    checked_per_minute,
                    per_minute[1],
                    note="higher is faster",
                ),
            ]
        return rows, differences

    def checked_cache(self) -> Path:
        """A cache filled by one untimed ``judge check`` of the problem (made once per run)."""
        if self._checked_cache is None:
            directory = self.fresh_dir("batch-checked-cache-")
            extra, env = cache_settings(self.cache, directory)
            self.log("judge check (untimed): fills the cache a checked problem set leaves")
            measured([*self.judge, "check", PROBLEM, *extra], self.workdir, env, timeout=1800)
            self._checked_cache = directory
        return self._checked_cache

    def _judge_batch(
        self,
        folder: Path,
        files: list[BatchFile],
        result: dict[str, Any],
        warm: bool = False,
        checked: bool = False,
    ) -> tuple[float | None, dict[str, str], str]:
        """``judge batch`` on the folder: its wall time, its verdicts, and a note if it failed.

        Cold: an empty cache, filled as the batch goes. Warm: a cache filled beforehand by one
        untimed grading of the correct file, as any earlier grading would leave it."""
        available, help_text = self.judge_batch_available()
        if not available:
            result["judge"] = {"unavailable": help_text.strip()[-500:]}
            return None, {}, "judge batch unavailable"
        out = self.fresh_dir("batch-out-")
        extra: list[str] = []
        env: dict[str, str] = {}
        if self.cache:
            how = "option" if "--cache-dir" in help_text else self.cache
            if checked:  # a copy, so that each run starts from the same cache
                directory = self.fresh_dir("batch-checked-copy-")
                shutil.copytree(self.checked_cache(), directory, dirs_exist_ok=True)
            elif warm:
                directory = self.fresh_dir("batch-warm-cache-")
                self.grade_judge(
                    str(ROOT / "submissions" / PROBLEM / SINGLE_FILES[0][1]), directory
                )
            else:
                directory = self.fresh_dir("batch-cache-")
            extra, env = cache_settings(how, directory)
        command = [*self.judge, "batch", str(folder), "--problem", PROBLEM, "--out", str(out)]
        command += ["--jobs", str(self.args.jobs), *extra]
        kind = "checked" if checked else "warm" if warm else "cold"
        self.log(f"judge batch ({kind} cache): {len(files)} files, --jobs {self.args.jobs}")
        run = measured(command, self.workdir, env, timeout=120.0 * max(len(files), 1))
        verdicts = read_batch_verdicts(out, [f.name for f in files])
        if not warm:
            self.batch_memory = MemoryRow(
                f"batch, judge batch --jobs {self.args.jobs}",
                run["process_peak_mb"],
                run["largest_child_peak_mb"],
                run["together_peak_mb"],
                run["max_rss_mb"],
                None,
            )
        result[{"checked": "judge_checked", "warm": "judge_warm"}.get(kind, "judge")] = {
            "wall_s": run["wall_s"],
            "returncode": run["returncode"],
            "timed_out": run["timed_out"],
            "together_peak_mb": run["together_peak_mb"],
            "largest_child_peak_mb": run["largest_child_peak_mb"],
            "stderr_tail": run["stderr_tail"][-1000:],
            "out_files": sorted(str(p.relative_to(out)) for p in out.rglob("*")),
        }
        if run["timed_out"] or run["returncode"] not in (0, 1):
            failed = f"judge batch exit {run['returncode']}: {run['stderr_tail'][-300:].strip()}"
            return None, verdicts, failed
        note = "" if verdicts else "judge batch verdicts not found in --out"
        return run["wall_s"], verdicts, note

    def _baseline_batch(
        self, folder: Path, files: list[BatchFile], result: dict[str, Any]
    ) -> tuple[float, dict[str, str]]:
        """The baseline over the same files, ``--jobs`` subprocesses at a time."""
        self.log(f"baseline: {len(files)} files, {self.args.jobs} at a time")
        started = time.perf_counter()
        with ThreadPoolExecutor(self.args.jobs) as pool:
            outcomes = list(pool.map(self._baseline_batch_file, [folder / f.name for f in files]))
        wall = time.perf_counter() - started
        result["baseline"] = {
            "wall_s": round(wall, 3),
            "timeout_s": self.baseline_timeout,
            "per_file_s": {f.name: s for f, (_, s) in zip(files, outcomes, strict=True)},
        }
        return wall, {f.name: v for f, (v, _) in zip(files, outcomes, strict=True)}

    def _baseline_batch_file(self, path: Path) -> tuple[str, float]:
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, str(BASELINE), str(path)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=self.baseline_timeout,
            )
        except subprocess.TimeoutExpired:
            return "timeout", round(time.perf_counter() - started, 3)
        verdict = baseline_verdict(done.stdout, done.returncode, timed_out=False)
        return verdict, round(time.perf_counter() - started, 3)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Grading speed and memory: the judge against bench/baseline.py."
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per file (median; default 3)")
    parser.add_argument("--batch-size", type=int, default=40, help="files in the batch (40)")
    parser.add_argument("--jobs", type=int, default=2, help="files graded at once in a batch (2)")
    parser.add_argument("--quick", action="store_true", help="smoke run: --repeat 1, a batch of 6")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument(
        "--sandboxes-only",
        action="store_true",
        help="only the per-sandbox row: the correct file, warm, under each sandbox that runs",
    )
    parser.add_argument(
        "--zygote-only",
        action="store_true",
        help="only the zygote rows: the correct and wrong file (and a warm batch of "
        "--batch-size), with the zygote and with --no-zygote",
    )
    parser.add_argument(
        "--baseline-timeout",
        type=float,
        metavar="S",
        help="seconds before a baseline run is stopped (default: the problem's submission_s)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.batch_size = 1, 6
    if args.repeat < 1 or args.batch_size < 0 or args.jobs < 1:
        parser.error("--repeat and --jobs must be at least 1, --batch-size at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(highlight=False)
    machine = machine_info()
    console.print(
        f"machine: {machine['cpu']}, {machine['cores']} cores "
        f"({machine['usable_cores']} usable), load {machine['load_average']}; "
        f"python {machine['python']}, jax {machine['jax']}, jaxlib {machine['jaxlib']}, "
        f"flax {machine['flax']}, hypothesis {machine['hypothesis']}, judge {machine['jax-judge']}"
    )
    with tempfile.TemporaryDirectory(prefix="judge-bench-") as scratch:
        bench = Bench(args, Path(scratch), console)
        if args.sandboxes_only:
            console.print(bench.sandboxes())
            return 0
        if args.zygote_only:
            if args.batch_size:
                build_batch_folder(example_files(), args.batch_size, Path(scratch) / "batch")
            zygote_table, shard_line = bench.zygote()
            console.print(zygote_table or "no zygote rows: no cache, or no landlock sandbox here")
            console.print(shard_line)
            console.print(f"load average at the end: {[round(x, 2) for x in os.getloadavg()]}")
            if args.json is not None:
                args.json.write_text(json.dumps(bench.results, indent=2, default=str))
            return 0
        rows, memory = bench.single_files()
        rows += bench.warm_cache()
        differences: list[str] = []
        sandbox_table = bench.sandboxes() if bench.cache else None
        backend_table = bench.backends() if bench.cache else None
        if args.batch_size:
            batch_rows, differences = bench.batch()
            rows += batch_rows
            memory += [bench.batch_memory] if bench.batch_memory else []
        zygote_table, shard_line = bench.zygote()
    title = f"grading nn_vmap_forward: judge vs baseline (median of {args.repeat} fresh runs)"
    console.print(build_table(rows, title))
    console.print(
        build_memory_table(memory, "peak resident memory, MB (single files: median of the runs)")
    )
    console.print(build_phase_table(bench.phase_rows()))
    for extra_table in (sandbox_table, backend_table, zygote_table):
        if extra_table is not None:
            console.print(extra_table)
    if shard_line:
        console.print(shard_line)
    if isinstance(bench.results.get("cache"), str):
        console.print(f"cache: {bench.results['cache']}")
    for line in differences:
        console.print(f"  differ: {line}")
    # A busy machine skews every row; the load at the end shows whether something else ran.
    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    console.print(f"load average at the end: {machine['load_average_end']}")
    if args.json is not None:
        payload = {
            "machine": machine,
            "settings": {
                "repeat": args.repeat,
                "batch_size": args.batch_size,
                "jobs": args.jobs,
                "baseline_timeout_s": bench.baseline_timeout,
                "judge_command": bench.judge,
            },
            "rows": [{**asdict(r), "agreement": r.agreement} for r in rows],
            "memory": [asdict(m) for m in memory],
            "details": bench.results,
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
