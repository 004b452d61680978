"""``judge check --jobs 2`` against ``--jobs 1``: how much side-by-side checking saves.

Each run is a fresh ``judge check PROBLEM`` process; the two sides alternate (1, 2, 1, 2, ...)
so that a machine that drifts slows both alike, and the row is the ratio of the medians. The
cache is warm after the first run of either side (the reference's outputs are shared), so the
first pair is a warm-up and not counted.

    python bench/check_jobs.py                      # nn_vmap_ensemble, 3 pairs
    python bench/check_jobs.py --problem nn_vmap_forward --repeat 5
    python bench/check_jobs.py --problem all --repeat 1   # the whole bundled set
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def timed(problem: str, jobs: int) -> float:
    """Seconds one ``judge check`` takes; it must pass."""
    started = time.perf_counter()
    named = [] if problem == "all" else [problem]
    done = subprocess.run(
        ["judge", "check", *named, "--jobs", str(jobs)], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"judge check {problem} --jobs {jobs} failed:\n{done.stdout[-2000:]}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="nn_vmap_ensemble", help="a name, or all")
    parser.add_argument("--repeat", type=int, default=3, help="timed pairs (after a warm-up)")
    args = parser.parse_args(argv)
    print(f"load at start: {os.getloadavg()[0]:.2f}; cpus: {os.cpu_count()}")
    timed(args.problem, 1), timed(args.problem, 2)  # warm-up: fills the cache
    one: list[float] = []
    two: list[float] = []
    for _ in range(args.repeat):
        one.append(timed(args.problem, 1))
        two.append(timed(args.problem, 2))
    ratio = statistics.median(two) / statistics.median(one)
    print(f"judge check {args.problem}: --jobs 1 {statistics.median(one):.1f} s, "
          f"--jobs 2 {statistics.median(two):.1f} s (medians of {args.repeat}); "
          f"ratio {ratio:.2f}")  # fmt: skip
    print(f"load at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
