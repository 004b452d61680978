"""``judge.check`` warm: the second check in a kernel against the first (issue: a warm check).

The first check in a kernel starts the check server (``judge.notebook.server``): the judge's
imports and a zygote that imports JAX and Flax. A later check in the same kernel reuses both.
Two kinds of run alternate (fresh, pair, fresh, pair, ...) so that a machine that drifts slows
both alike: "fresh" is a new python that does one check (the check is timed inside it, and the
whole process from outside); "pair" is a new python that does two checks in a row, each timed.
The row is the ratio of the medians, second check / first check (target: 0.70 or less). One
untimed pair first fills the on-disk cache, so every timed check has the reference's results.

    python bench/check_warm.py                          # nn_vmap_forward, 5 of each
    python bench/check_warm.py --repeat 9 --file FILE.py      # another source, more runs
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "submissions" / "nn_vmap_forward" / "accepted" / "canonical.py"

# The kernel: argv[3] checks of argv[2] against problem argv[1]; prints each one's seconds.
KERNEL = r"""
import json, sys, time
import judge
from judge.notebook import server
found = []
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    result = judge.check(sys.argv[1], source=sys.argv[2])
    found.append({"s": time.perf_counter() - started, "verdict": result.verdict,
                  "error": result.error, "server": server.current_pid()})
print("TIMES " + json.dumps(found))
"""


def kernel(problem: str, file: Path, checks: int) -> tuple[list[float], float]:
    """(each check's seconds, the whole process's) of a new python doing ``checks`` checks;
    every check must give a report, the same server answering them all."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", KERNEL, problem, str(file), str(checks)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("TIMES ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"the kernel failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    found = json.loads(lines[-1][6:])
    if any(c["error"] for c in found) or len({c["server"] for c in found}) != 1:
        sys.exit(f"a check failed, or was not answered by the kernel's one server: {found}")
    return [c["s"] for c in found], wall


def _row(name: str, values: list[float]) -> str:
    runs = ", ".join(f"{v:.2f}" for v in values)
    return f"  {name:<28} median {statistics.median(values):.2f} s   ({runs})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="nn_vmap_forward")
    parser.add_argument("--file", type=Path, default=FILE, help="the source to check")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each kind")
    args = parser.parse_args(argv)
    print(f"load at start: {os.getloadavg()[0]:.2f}; cpus: {os.cpu_count()}")
    kernel(args.problem, args.file.resolve(), 2)  # warm-up: fills the on-disk cache
    fresh: list[float] = []
    fresh_wall: list[float] = []
    first: list[float] = []
    second: list[float] = []
    for _ in range(args.repeat):
        (one,), wall = kernel(args.problem, args.file.resolve(), 1)
        fresh.append(one)
        fresh_wall.append(wall)
        (a, b), _ = kernel(args.problem, args.file.resolve(), 2)
        first.append(a)
        second.append(b)
    print(f"judge.check({args.problem!r}, source={args.file.name!r}), {args.repeat} runs each:")
    print(_row("fresh kernel, one check", fresh))
    print(_row("fresh kernel, whole process", fresh_wall))
    print(_row("first check in a kernel", first))
    print(_row("second check, same kernel", second))
    ratio = statistics.median(second) / statistics.median(first)
    print(f"ratio second/first: {ratio:.2f} (target <= 0.70); "
          f"second/fresh: {statistics.median(second) / statistics.median(fresh):.2f}")  # fmt: skip
    print(f"load at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
