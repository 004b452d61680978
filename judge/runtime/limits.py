"""Limits a worker sets on itself, before JAX starts its threads (no preexec_fn needed).

The judge decides the values (``judge.limits.Limits``) and passes them in the worker's
configuration; here they become rlimits and prctl flags, and the worker reports what it
applied.
"""

from __future__ import annotations

import os
import resource
import signal
from typing import TYPE_CHECKING, Any

from .kernel import PR_SET_DUMPABLE, PR_SET_PDEATHSIG, prctl
from .shared import task_room

if TYPE_CHECKING:
    from .wire import WorkerConfig


def apply_limits(config: WorkerConfig) -> dict[str, Any]:
    """Address space, core dumps and CPU time; death with the judge.

    Returns what was applied, for the report. The worker also dies with the judge (a parent
    killed with SIGKILL leaves no worker behind), and the reference's worker is made
    non-dumpable, so that another process of the same user cannot read its memory.
    """
    applied: dict[str, Any] = {}
    limits = config.get("limits") or {}
    memory = limits.get("memory_mb")
    if memory:
        limit = int(memory) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        applied["memory_mb"] = int(memory)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = limits.get("cpu_s")
    if cpu:
        soft = max(1, int(cpu))
        # SIGXCPU at the soft limit, SIGKILL a second later for code that ignores SIGXCPU.
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
        applied["cpu_s"] = soft
    parent = os.getppid()
    if prctl(PR_SET_PDEATHSIG, signal.SIGKILL) and os.getppid() != parent:
        os._exit(0)  # the parent died before the call: nobody is listening
    if config.get("role") == "reference":
        prctl(PR_SET_DUMPABLE, 0)
    return applied


def _count_tasks(uid: int) -> int:
    """Tasks (processes and threads) that ``uid`` runs now: what RLIMIT_NPROC counts."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return total


def limit_processes(config: WorkerConfig) -> str:
    """RLIMIT_NPROC, set once JAX's threads exist: the learner may add ``processes`` tasks.

    The kernel never applies it to root, and counts every task of the user, other workers'
    included: it is a backstop behind the guard, which refuses to start processes at all.
    """
    import numpy as np

    extra = (config.get("limits") or {}).get("processes")
    if not extra:
        return "off"
    if os.getuid() == 0:
        return "not enforced: the kernel exempts root"
    try:
        import jax

        # JAX starts more threads on its first compilation: let them exist before the count.
        jax.jit(lambda v: v + 1)(np.zeros(2, np.float32)).block_until_ready()
        # The kernel counts every task of the user, the judge's other workers included (a
        # batch starts them side by side, each with JAX's threads): leave them room.
        room = task_room(int(extra))
        limit = _count_tasks(os.getuid()) + room
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
    except (OSError, ValueError) as exc:
        return f"not enforced: {exc}"
    return f"{room} beyond those running"
