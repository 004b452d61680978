"""One value for what a learner's worker may use: from problem.yaml, overridden once, to the
worker and the report.

Wall time is enforced by the judge, the rest by the kernel inside the worker (``cpu_s``:
RLIMIT_CPU over the whole submission; ``memory_mb``: address space; ``processes``: tasks the
learner may add, threads included, on top of those JAX starts; ``output_kb``: stdout and stderr
kept, each; ``disk_mb``: what its folder may hold, checked by the judge while it waits).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

DEFAULT_OUTPUT_KB = 64
DEFAULT_PROCESSES = 256
# What a learner's worker may write into its own folder, all files together.
DEFAULT_DISK_MB = 256
# JAX compiles on every core: CPU time outruns wall time. The default CPU limit is this many
# times the submission's wall-time limit.
CPU_PER_WALL = 2


@dataclass(frozen=True)
class Limits:
    call_s: float
    submission_s: float
    memory_mb: int
    output_kb: int = DEFAULT_OUTPUT_KB
    cpu_s: float = 240.0
    processes: int = DEFAULT_PROCESSES
    disk_mb: int = DEFAULT_DISK_MB

    def overridden(self, **overrides: float | int | None) -> Limits:
        """These limits with every override that is set (not None, not 0) applied: the one
        place where ``--time-per-call`` and friends meet the problem's values."""
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown limits: {', '.join(sorted(unknown))}")
        changes: dict[str, Any] = {k: v for k, v in overrides.items() if v}
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """As the report's ``environment.limits`` shows them."""
        return {
            "call_s": self.call_s,
            "submission_s": self.submission_s,
            "memory_mb": self.memory_mb,
            "cpu_s": self.cpu_s,
            "processes": self.processes,
            "output_kb": self.output_kb,
            "disk_mb": self.disk_mb,
        }
