"""How to grade: the options a caller sets, and the limits they resolve to."""

from __future__ import annotations

from dataclasses import dataclass

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
    shrink: bool = True
    shrink_s: float = 20.0
    python: str | None = None
    cpu_s: float | None = None
    processes: int | None = None
    output_kb: int | None = None
    disk_mb: int | None = None
    # "auto": the strongest sandbox that runs here; or a sandbox's name (judge.sandbox).
    sandbox: str = "auto"
    # More folders the learner's code must not see (a batch's output folder, a report's).
    hide: tuple[str, ...] = ()

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
