"""Run one command and measure it: wall time, exit code, output, and peak memory.

``bench/run.py`` starts this wrapper afresh for every timed run, because the kernel's
``RUSAGE_CHILDREN`` peak is a maximum over every child a process has ever reaped: measured in a
long-lived process, a later run would inherit an earlier run's peak. Here the only child is the
measured command, so ``ru_maxrss`` is exactly the largest resident set of that command or of any
process it started and reaped (the judge reaps its workers).

That maximum does not say *which* process it was, nor how much the processes held together. So
a thread also samples ``/proc`` every ``SAMPLE_S``: each descendant's ``VmHWM`` (its own peak,
which only grows, so the last sample before it exits is close to its true peak) and the sum of
their current ``VmRSS``. The command's own process and its largest descendant are then reported
apart. Samples are Linux-only and can miss a peak reached in the last interval; ``ru_maxrss``
cannot.

Usage: ``python bench/measure.py OUT.json [--timeout S] -- COMMAND [ARG...]``. The command's
stdout and the tail of its stderr go into OUT.json with the measurements; the wrapper exits 0
unless it failed itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

# The sampling must not slow what it measures: reading every process's status every 20 ms and
# its smaps_rollup every 100 ms (a page-table walk under that process's mmap lock) costs a
# batch of many workers on 2 cores real CPU. VmHWM is a peak since the process started, so a
# sparser sample loses only growth in a worker's last interval; PSS is a point sample anyway.
SAMPLE_S = 0.05
# Finding the tree means reading every /proc/PID/stat (about 2 ms on the benchmark's machine):
# done less often than sampling, which is cheap. A late discovery loses nothing, since VmHWM
# is a peak since the process started.
DISCOVER_EVERY = 4
PSS_EVERY = 10  # ticks: every 0.5 s
STDERR_TAIL = 4000


def _status_kb(pid: int, field: str) -> int | None:
    """A ``kB`` field of /proc/PID/status, or None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def _pss_kb(pid: int) -> int | None:
    """Proportional set size: each shared page counted as a share among the processes that map
    it. The number that shows what forking from the zygote saves (RSS counts shared pages in
    full for every worker)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _descendants(root: int) -> list[int]:
    children = _children_map()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


class Sampler(threading.Thread):
    """Samples the peak of every process in the tree under ``root`` until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peaks_kb: dict[int, int] = {}
        self.together_kb = 0
        self.pss_kb: dict[int, int] = {}  # each process's largest PSS seen
        self.together_pss_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        tree: list[int] = []
        tick = 0
        while not self.stopped.is_set():
            if tick % DISCOVER_EVERY == 0:
                tree = _descendants(self.root)
            tick += 1
            together = 0
            for pid in tree:
                hwm = _status_kb(pid, "VmHWM")
                rss = _status_kb(pid, "VmRSS")
                if hwm is not None:
                    self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), hwm)
                together += rss or 0
            self.together_kb = max(self.together_kb, together)
            if tick % PSS_EVERY == 1:  # smaps_rollup walks page tables: not every tick
                pss = {pid: _pss_kb(pid) for pid in tree}
                for pid, kb in pss.items():
                    if kb is not None:
                        self.pss_kb[pid] = max(self.pss_kb.get(pid, 0), kb)
                self.together_pss_kb = max(
                    self.together_pss_kb, sum(kb or 0 for kb in pss.values())
                )
            self.stopped.wait(SAMPLE_S)


def measure(command: list[str], timeout_s: float | None = None) -> dict[str, Any]:
    """Run ``command`` to its end (or ``timeout_s``) and return what was measured."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    sampler = Sampler(process.pid)
    sampler.start()
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, 9)  # its own session: the command and whatever it started
        stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    others = [kb for pid, kb in sampler.peaks_kb.items() if pid != process.pid]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "command": command,
        "returncode": process.returncode,
        "timed_out": timed_out,
        "wall_s": round(wall, 4),
        # Linux reports ru_maxrss in KiB.
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "process_peak_mb": round(sampler.peaks_kb.get(process.pid, 0) / 1024, 1),
        "largest_child_peak_mb": round(max(others, default=0) / 1024, 1),
        "children": len(others),
        "together_peak_mb": round(sampler.together_kb / 1024, 1),
        # PSS (sampled every PSS_EVERY ticks): the largest child's peak, and the peak of
        # the tree's sum; the judge's own process is left out of the first.
        "largest_child_pss_mb": round(
            max((kb for pid, kb in sampler.pss_kb.items() if pid != process.pid), default=0) / 1024,
            1,
        ),
        "together_pss_mb": round(sampler.together_pss_kb / 1024, 1),
        "stdout": stdout.decode("utf-8", errors="replace"),
        "stderr_tail": stderr.decode("utf-8", errors="replace")[-STDERR_TAIL:],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        usage="python bench/measure.py OUT.json [--timeout S] -- COMMAND...",
        description="Run COMMAND; write its measurements to OUT.json.",
    )
    parser.add_argument("out", type=Path, metavar="OUT.json")
    parser.add_argument("--timeout", type=float, metavar="S", help="kill the command after S")
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        parser.error("no command given after --")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    result = measure(argv[split + 1 :], args.timeout)
    args.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
