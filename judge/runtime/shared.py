"""Values the judge and its workers must agree on. Standard library only: both sides import it."""

from __future__ import annotations

# Room for JAX's own threads on top of a learner's process allowance: RLIMIT_NPROC and the pids
# cgroup count threads, and JAX starts a pool of them per CPU.
THREADS_PER_CPU = 24

# What an exception's message says when XLA could not allocate (a memory verdict, not an
# exception). A process that died is judged by kernel facts alone (the memory cgroup's OOM
# kills), never by what its stderr says.
OUT_OF_MEMORY_IN_MESSAGE = (
    "RESOURCE_EXHAUSTED",
    "Out of memory",
    "out of memory",
    "Cannot allocate memory",
)
