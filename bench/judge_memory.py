"""The judge's own memory and time whatever the learner's worker replies: a normal file against
hostile ones, measured side by side.

A learner's worker is the learner's process: it can replace the worker's observer and send any
reply at all. The judge reads every reply in its own process (and ``judge batch`` reads a whole
class's there), so what a reply may make the judge build and keep must be bounded by the judge
itself (``judge/runtime/wire.py``'s limits). Each file here is graded in a fresh child process
that runs ``judge.grade`` in-process and reports its own ``ru_maxrss`` (``RUSAGE_SELF``: the
judge's process alone, not its workers), its CPU seconds and the size of its JSON report; the
files alternate run by run, and the table shows medians and each hostile file's ratio to the
normal one.

The hostile files replace the worker's ``Session.call`` so that every call's reply carries:

- ``nodes``: a 6.25M-value ``variable_axes`` (50 x 50 x 50 x 50 nested lists);
- ``strings``: a 60 MB string as a layer output's value (which the judge keeps per case);
- ``deep_wide``: a list nested 900 deep beside one of 200,000 items;
- ``flood``: observations just under the judge's limit for one reply on every call, on a wrong
  answer (shrinking and confirmation: many calls), which spends the grading's budget;
- ``output``: a 16 MiB output of the wrong shape on every call (the worker's own limit);
- ``frame``: an output's base64 filling the largest frame the judge reads, on every call.

**The bound** (what ``--check`` asserts): the judge's peak RSS grading any of them is at most
``BOUND_MB`` more than grading the normal file, and its report at most 1 MB of JSON. Where it
comes from (``judge/runtime/wire.py``'s limits): a frame of at most 32 MiB, of which at most
1 MiB outside arrays, read and parsed one at a time (the largest frame costs about 65 MB while
it is read: its bytes, its text, its parsed strings); observations kept per grading at most
250,000 values and 2 MiB of text (about 25 MB of Python objects); outputs kept at most 64 times
the reference's or 64 KiB each, a few hundred cases (about 15 MB).

Measured on 2 cores (medians of 3; before: one run of the judge without these limits):

| file | judge peak RSS | before | judge CPU | before |
| --- | ---: | ---: | ---: | ---: |
| normal | 48 MB | 48 MB | 0.3 s | 0.3 s |
| nodes | 74 MB | 1542 MB | 0.5 s | 85.1 s (191 s wall, a 76 MB report) |
| strings | 48 MB | 1609 MB | 0.3 s | 16.2 s |
| deep_wide | 52 MB | 51 MB | 0.4 s | 0.6 s |
| flood | 50 MB | 50 MB | 0.4 s | 0.4 s |
| output | 92 MB | 1180 MB | 3.6 s | 4.5 s |
| frame | 111 MB | 1575 MB | 6.1 s | 7.1 s |

Usage: ``python bench/judge_memory.py [--repeat 3] [--only NAME ...] [--judge-root DIR]
[--check] [--json F]``; ``--judge-root`` measures another checkout of the judge (an older one,
for the before column).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROBLEM = "nn_vmap_forward"
NORMAL = ROOT / "submissions" / PROBLEM / "accepted" / "canonical.py"
BOUND_MB = 150.0
MAX_REPORT_BYTES = 1_000_000
TIMEOUT_S = 600.0

CORRECT = """
import jax
import flax.linen as nn

def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None},
                    split_rngs={"params": False})(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)%s
"""
# Every reply of the learner's worker replaced: the runtime is importable as judge_runtime.
FORGE = """
import sys
_S = sys.modules["judge_runtime.session"].Session
_call = _S.call

def _forged(self, request):
    reply = _call(self, request)
    reply["observations"] = _observations(reply.get("observations") or [])
    return reply

_S.call = _forged
"""
RUN = {"kind": "lifted", "api": "flax.linen.vmap", "applied": True, "during": "apply"}
HOSTILE = {
    "nodes": f"""
_AXES = 0
for _ in range(4):
    _AXES = [_AXES] * 50
def _observations(real):
    return [{{**{RUN!r}, "arguments": {{"variable_axes": _AXES}}}}]
""",
    "strings": """
_TEXT = "x" * (60 << 20)
def _observations(real):
    return [{"kind": "output", "via": "apply", "value": {"__ndarray__": {"data": _TEXT}}}]
""",
    "deep_wide": f"""
_DEEP = []
for _ in range(900):
    _DEEP = [_DEEP]
def _observations(real):
    return [{{**{RUN!r}, "arguments": {{"variable_axes": _DEEP, "wide": [0] * 200_000}}}}]
""",
    "flood": """
def _observations(real):
    value = {"__ndarray__": {"dtype": "float32", "shape": [1], "data": "A" * 56_000}}
    return real + [{"kind": "output", "via": "other", "value": value}]
""",
}
WRONG = " * 2"
# The largest frame the judge reads: an output's base64 up to the frame's limit (32 MiB).
FRAME = """
import sys
_S = sys.modules["judge_runtime.session"].Session
_call = _S.call
_DATA = "A" * ((32 << 20) - 4096)

def _forged(self, request):
    reply = _call(self, request)
    shape = [len(_DATA) * 3 // 16]
    reply["array"] = {"__ndarray__": {"dtype": "float32", "shape": shape, "data": _DATA}}
    return reply

_S.call = _forged
"""
HUGE_OUTPUT = """
import numpy as _np
_BIG = _np.zeros(4 << 20, _np.float32)
_entry = nn_vmap_forward
def nn_vmap_forward(seed, x_batch, features):
    _entry(seed, x_batch, features)
    return _BIG
"""

# Runs ``judge.grade`` in this child process and reports on its own process alone.
CHILD = r"""
import json, resource, sys, time
path, problem = sys.argv[1:3]
from judge import GradeOptions, grade
started = time.perf_counter()
report = grade(path, problem, GradeOptions())
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
found = report.to_dict()
text = json.dumps(found, ensure_ascii=False)
print(json.dumps({
    "verdict": report.verdict.value,
    "codes": [d.code for d in report.diagnostics],
    "report_bytes": len(text.encode("utf-8")),
    "largest_diagnostic_bytes": max(map(len, map(json.dumps, found["diagnostics"])), default=0),
    "wall_s": wall,
    "cpu_s": usage.ru_utime + usage.ru_stime,
    "peak_mb": usage.ru_maxrss / 1024,
}))
"""


def sources() -> dict[str, str]:
    """Each file's source: the normal one, and the hostile ones."""
    found = {"normal": NORMAL.read_text()}
    for name, make in HOSTILE.items():
        wrong = WRONG if name == "flood" else ""
        found[name] = CORRECT % wrong + FORGE + make
    found["output"] = CORRECT % "" + HUGE_OUTPUT
    found["frame"] = CORRECT % "" + FRAME
    return found


def grade_once(judge_root: Path, path: Path, cache: Path) -> dict[str, Any]:
    """One grading in a fresh child process: what it printed, or why it printed nothing."""
    env = {**os.environ, "PYTHONPATH": str(judge_root), "JUDGE_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), PROBLEM],
            capture_output=True,
            text=True,
            env=env,
            timeout=TIMEOUT_S,
            cwd=judge_root,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no report in {TIMEOUT_S:.0f} s", "wall_s": TIMEOUT_S}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-3:]
        return {"error": " | ".join(tail), "wall_s": time.perf_counter() - started}
    found: dict[str, Any] = json.loads(lines[-1])
    return found


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs that printed a report; the verdicts and codes of the last."""
    good = [r for r in runs if "error" not in r]
    last = good[-1] if good else runs[-1]
    return {
        "peak_mb": median([r["peak_mb"] for r in good]),
        "cpu_s": median([r["cpu_s"] for r in good]),
        "wall_s": median([r["wall_s"] for r in runs]),
        "report_bytes": median([r["report_bytes"] for r in good]),
        "verdict": last.get("verdict"),
        "codes": last.get("codes"),
        "error": last.get("error"),
        "runs": runs,
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every file ``--repeat`` times, alternating file by file, from one warm cache."""
    chosen = {
        k: v for k, v in sources().items() if k == "normal" or not args.only or k in args.only
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}
    with tempfile.TemporaryDirectory(prefix="judge-memory-") as folder:
        cache = Path(folder) / "cache"
        paths = {}
        for name, source in chosen.items():
            paths[name] = Path(folder) / name / "solution.py"
            paths[name].parent.mkdir()
            paths[name].write_text(textwrap.dedent(source))
        grade_once(args.judge_root, paths["normal"], cache)  # warms the cache; not counted
        for round_ in range(args.repeat):
            for name, path in paths.items():
                runs[name].append(grade_once(args.judge_root, path, cache))
                shown = runs[name][-1]
                print(f"round {round_ + 1}, {name}: {_line(shown)}", file=sys.stderr, flush=True)
    return {name: summarize(found) for name, found in runs.items()}


def _line(run: dict[str, Any]) -> str:
    if "error" in run:
        return f"error: {run['error']}"
    return (
        f"{run['verdict']} {run['codes'][:3]}, peak {run['peak_mb']:.0f} MB, "
        f"CPU {run['cpu_s']:.1f} s, wall {run['wall_s']:.1f} s, report {run['report_bytes']} B"
    )


def table(results: dict[str, Any]) -> str:
    """The rows: each file's medians, and its peak's ratio to the normal file's."""
    normal = results["normal"]["peak_mb"] or 0.0
    lines = [
        "| file | judge peak RSS | / normal | + normal | judge CPU | wall | report | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in results.items():
        peak = row["peak_mb"]
        if peak is None:
            lines.append(f"| {name} | - | - | - | - | {row['wall_s']:.1f} s | - | {row['error']} |")
            continue
        ratio = f"{peak / normal:.2f}x" if normal else "-"
        lines.append(
            f"| {name} | {peak:.0f} MB | {ratio} | {peak - normal:+.0f} MB | {row['cpu_s']:.1f} s "
            f"| {row['wall_s']:.1f} s | {row['report_bytes'] / 1000:.0f} KB | {row['verdict']} |"
        )
    return "\n".join(lines)


def check(results: dict[str, Any]) -> list[str]:
    """What breaks the bound stated above, if anything."""
    normal = results["normal"]["peak_mb"]
    broken = []
    for name, row in results.items():
        if row["peak_mb"] is None or normal is None:
            broken.append(f"{name}: no report ({row['error']})")
            continue
        if row["peak_mb"] > normal + BOUND_MB:
            broken.append(f"{name}: peak {row['peak_mb']:.0f} MB > {normal:.0f} + {BOUND_MB:.0f}")
        if row["report_bytes"] > MAX_REPORT_BYTES:
            broken.append(f"{name}: a report of {row['report_bytes']} bytes")
    return broken


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=[*HOSTILE, "output", "frame"], default=[])
    parser.add_argument("--judge-root", type=Path, default=ROOT)
    parser.add_argument("--check", action="store_true", help="exit 1 when the bound is broken")
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = measure(args)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    broken = check(results)
    for line in broken:
        print(f"over the bound: {line}")
    return 1 if args.check and broken else 0


if __name__ == "__main__":
    sys.exit(main())
