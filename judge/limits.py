"""One value for what a learner's worker may use: from problem.yaml, overridden once, to the
worker and the report.

Each limit is declared once, in ``DECLARED``: its name (the field of ``Limits``, the key under
problem.yaml's ``limits:``), its type, default and smallest value, its command-line flag, who
enforces it and the verdict when it is crossed. The problem loader, the command line
(``cli_flags``), the worker (which takes the ``Limits`` whole) and the manual's table
(``markdown_table``, checked against the docs by a test) all read it; adding a limit is one
entry here, a field of ``Limits``, and its use where it is enforced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .constants import MIN_MEMORY_MB

DEFAULT_OUTPUT_KB = 64
DEFAULT_PROCESSES = 256
# What a learner's worker may write into its own folder, all files together.
DEFAULT_DISK_MB = 256
# The largest array one call may return: a bigger one is refused in the worker, before it is
# sent (the judge's frame limit is larger, see ``runtime.wire``).
DEFAULT_RESULT_MB = 16
# An array this large still fits one frame as base64 (``runtime.wire.MAX_MESSAGE_BYTES``, 32
# MiB, with the frame's text beside it): a larger limit could never be used.
MAX_RESULT_MB = 20
# The reference's calls: at least this many times a learner's call, and a minute.
REFERENCE_CALL_FACTOR = 3
REFERENCE_CALL_MIN_S = 60.0
# JAX compiles on every core: CPU time outruns wall time. The default CPU limit is this many
# times the submission's wall-time limit.
CPU_PER_WALL = 2


@dataclass(frozen=True)
class Declared:
    """One limit, everything said about it in one place.

    ``default`` None: problem.yaml must give it (``cpu_s`` alone is derived, from
    ``submission_s``). ``flag`` None: problem.yaml only. ``minimum`` and ``maximum``: the
    values allowed, anywhere it is set.
    """

    name: str
    kind: type[int] | type[float]
    default: int | float | None
    minimum: int | float
    flag: str | None
    unit: str
    meaning: str
    enforced_by: str
    crossed: str
    maximum: int | float | None = None
    # More for the flag's --help, where the report says how it was enforced.
    help_note: str = ""

    @property
    def required(self) -> bool:
        """problem.yaml must give it: no default, and not derived (``cpu_s`` is)."""
        return self.default is None and self.name != "cpu_s"

    @property
    def help(self) -> str:
        """The flag's ``--help`` line."""
        note = f"; {self.help_note}" if self.help_note else ""
        return f"{self.meaning} (default: the problem's){note}"


DECLARED: tuple[Declared, ...] = (
    Declared("call_s", float, None, 0.001, "--time-per-call", "S",
             "seconds of wall time per call", "the judge, then SIGKILL",
             "`time_limit_exceeded`"),
    Declared("submission_s", float, None, 0.001, "--time-total", "S",
             "seconds of wall time for a whole submission", "the judge",
             "`time_limit_exceeded`"),
    Declared("memory_mb", int, None, MIN_MEMORY_MB, "--memory", "MB",
             f"MB of memory the learner's process may use, at least {MIN_MEMORY_MB} (for JAX)",
             "as root, the worker's memory cgroup (shared memory and files included); "
             "otherwise RLIMIT_AS (address space)", "`memory_limit_exceeded`"),
    Declared("cpu_s", float, None, 0.001, "--cpu-time", "S",
             "CPU seconds the learner's process may use in all",
             "RLIMIT_CPU in the worker", "`time_limit_exceeded`"),
    Declared("processes", int, DEFAULT_PROCESSES, 1, "--processes", "N",
             "tasks the learner's code may add to those JAX runs",
             "as root, a pids cgroup per learner worker, threads counted; otherwise "
             "RLIMIT_NPROC, with room for the judge's other workers; under `landlock`/`bwrap` "
             "no process can be started at all", "`runtime_error`",
             help_note="as root a pids cgroup enforces it, otherwise RLIMIT_NPROC: the report's "
             "environment.limits_enforced.processes says which"),
    Declared("output_kb", int, DEFAULT_OUTPUT_KB, 1, "--output-limit", "KB",
             "KB of the learner's stdout, and of its stderr, kept", "the judge's drain threads",
             "none: the rest is counted and dropped"),
    Declared("disk_mb", int, DEFAULT_DISK_MB, 1, None, "MB",
             "MB the worker's own folder may hold",
             "the judge, while it waits for each reply (every 0.25 s), and RLIMIT_FSIZE "
             "(64 MB a file) in a confined worker", "`memory_limit_exceeded` (`disk_limit`)"),
    Declared("result_mb", int, DEFAULT_RESULT_MB, 1, None, "MB",
             "MB one call's returned array may hold", "the worker, before it sends the array",
             "`wrong_answer` (`output_too_large`)", MAX_RESULT_MB),
)  # fmt: skip
BY_NAME: Mapping[str, Declared] = {limit.name: limit for limit in DECLARED}


@dataclass(frozen=True)
class Limits:
    """The limits of one grading's learner worker (the reference's takes its memory and
    result size only). Field order and defaults are ``DECLARED``'s (a test holds them)."""

    call_s: float
    submission_s: float
    memory_mb: int
    cpu_s: float = 240.0
    processes: int = DEFAULT_PROCESSES
    output_kb: int = DEFAULT_OUTPUT_KB
    disk_mb: int = DEFAULT_DISK_MB
    result_mb: int = DEFAULT_RESULT_MB

    def overridden(self, overrides: Mapping[str, int | float | None] | None = None) -> Limits:
        """These limits with every override that is set (not None, not 0) applied: the one
        place where ``--time-per-call`` and friends meet the problem's values."""
        given = dict(overrides or {})
        unknown = set(given) - set(BY_NAME)
        if unknown:
            raise TypeError(f"unknown limits: {', '.join(sorted(unknown))}")
        changes: dict[str, Any] = {k: BY_NAME[k].kind(v) for k, v in given.items() if v}
        return dataclasses.replace(self, **changes)

    @property
    def reference_call_s(self) -> float:
        """How long the trusted reference may take on one call: it compiles for every new
        shape, so more than a learner's call and never under a minute."""
        return max(self.call_s * REFERENCE_CALL_FACTOR, REFERENCE_CALL_MIN_S)

    def to_dict(self) -> dict[str, Any]:
        """As the report's ``environment.limits`` shows them, in ``DECLARED``'s order."""
        return {limit.name: getattr(self, limit.name) for limit in DECLARED}

    def for_worker(self, learner: bool) -> dict[str, Any]:
        """What a worker's runtime enforces on itself (``runtime.wire.WorkerLimits``): all of
        it for the learner's; the trusted reference's memory and result size only."""
        mine = ("memory_mb", "result_mb") if not learner else ("memory_mb", "cpu_s", "processes",
                                                                "result_mb")  # fmt: skip
        return {name: getattr(self, name) for name in mine}


def markdown_table() -> str:
    """The limits as the manual's table: one row per ``DECLARED`` entry."""
    head = "| limit (problem.yaml `limits:`) | option | default | enforced by | when crossed |"
    rows = [head, "| --- | --- | --- | --- | --- |"]
    for limit in DECLARED:
        flag = f"`{limit.flag} {limit.unit}`" if limit.flag else ""
        default = "required" if limit.required else (
            f"{CPU_PER_WALL} × `submission_s`" if limit.default is None else f"{limit.default}"
        )  # fmt: skip
        rows.append(
            f"| `{limit.name}` ({limit.meaning}) | {flag} | {default} | {limit.enforced_by} "
            f"| {limit.crossed} |"
        )
    return "\n".join(rows) + "\n"
