"""How to grade: the options a caller sets, and the limits they resolve to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..cases import MAX_SHRINK_CALLS
from ..limits import Limits
from ..problem import Problem


@dataclass(frozen=True)
class GradeOptions:
    """How to grade. ``limits``: overrides of the problem's limits, by name (``limits.DECLARED``;
    an unknown name is refused), each None or absent for the problem's own."""

    backend: str = "cpu"
    seed: int = 0
    limits: Mapping[str, float | int | None] = field(default_factory=dict)
    # Shrink a failing case, then confirm it in a fresh learner worker.
    shrink: bool = True
    # At most this many distinct cases are tried while shrinking: a count, never a clock, so
    # the same file always gets the same report.
    shrink_calls: int = MAX_SHRINK_CALLS
    python: str | None = None
    # "auto": the strongest sandbox that runs here; or a sandbox's name (judge.sandbox).
    sandbox: str = "auto"
    # More folders the learner's code must not see (a batch's output folder, a report's).
    hide: tuple[str, ...] = ()
    # The accelerator device both workers use (an id as CUDA_VISIBLE_DEVICES takes it); None:
    # the platform's default. ``judge batch`` spreads gradings over the visible devices.
    device: str | None = None

    def __post_init__(self) -> None:
        Limits.overridden(Limits(1.0, 1.0, 1), self.limits)  # an unknown name: TypeError now

    def limits_for(self, problem: Problem) -> Limits:
        """The problem's limits with this grading's overrides applied."""
        return problem.limits.overridden(self.limits)
