"""How to grade: the options a caller sets, and the limits they resolve to."""

from __future__ import annotations

from dataclasses import dataclass

from ..cases import MAX_SHRINK_CALLS
from ..limits import Limits
from ..problem import Problem


@dataclass(frozen=True)
class GradeOptions:
    """How to grade. ``None`` limits mean the problem's own."""

    backend: str = "cpu"
    seed: int = 0
    call_s: float | None = None
    submission_s: float | None = None
    memory_mb: int | None = None
    # Shrink a failing case, then confirm it in a fresh learner worker.
    shrink: bool = True
    # At most this many distinct cases are tried while shrinking: a count, never a clock, so
    # the same file always gets the same report.
    shrink_calls: int = MAX_SHRINK_CALLS
    python: str | None = None
    cpu_s: float | None = None
    processes: int | None = None
    output_kb: int | None = None
    disk_mb: int | None = None
    # "auto": the strongest sandbox that runs here; or a sandbox's name (judge.sandbox).
    sandbox: str = "auto"
    # More folders the learner's code must not see (a batch's output folder, a report's).
    hide: tuple[str, ...] = ()
    # The accelerator device both workers use (an id as CUDA_VISIBLE_DEVICES takes it); None:
    # the platform's default. ``judge batch`` spreads gradings over the visible devices.
    device: str | None = None

    def limits_for(self, problem: Problem) -> Limits:
        """The problem's limits with this grading's overrides applied."""
        return problem.limits.overridden(
            call_s=self.call_s,
            submission_s=self.submission_s,
            memory_mb=self.memory_mb,
            cpu_s=self.cpu_s,
            processes=self.processes,
            output_kb=self.output_kb,
            disk_mb=self.disk_mb,
        )
