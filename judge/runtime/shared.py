"""Values the judge and its workers must agree on. Standard library only: both sides import it."""

from __future__ import annotations

import os

# Room for JAX's own threads on top of a learner's process allowance: RLIMIT_NPROC and the pids
# cgroup count threads, and JAX starts a pool of them per CPU.
THREADS_PER_CPU = 24
# The worker's own other tasks (the runtime's threads, a compiler's helpers).
TASK_SLACK = 64


def task_room(processes: int) -> int:
    """The tasks a learner's worker may hold beyond those that exist when it is limited: the
    learner's allowance, JAX's thread pools and some slack. One formula for both bounds (the
    pids cgroup, set by the judge, and RLIMIT_NPROC, set by the worker on itself)."""
    return processes + THREADS_PER_CPU * (os.cpu_count() or 1) + TASK_SLACK


# What an exception's message says when XLA could not allocate (a memory verdict, not an
# exception). A process that died is judged by kernel facts alone (the memory cgroup's OOM
# kills), never by what its stderr says.
OUT_OF_MEMORY_IN_MESSAGE = (
    "RESOURCE_EXHAUSTED",
    "Out of memory",
    "out of memory",
    "Cannot allocate memory",
)
