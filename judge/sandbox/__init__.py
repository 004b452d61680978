"""Running learner code apart from the judge: the sandboxes, the worker processes, the reaper.

A sandbox is chosen by name. ``auto`` picks the strongest one that works on this machine;
naming one that cannot run here is an error (the caller asked for a guarantee that would
silently be missing). Adding a sandbox: a module with a ``Sandbox`` subclass, and its line in
``choice.REGISTRY`` (strongest first).
"""

from __future__ import annotations

from .base import Launch, Sandbox, python_paths
from .bwrap import BwrapSandbox, bwrap_problem
from .cgroup import PidsCgroup, _pids_cgroup_parent
from .choice import REGISTRY, SANDBOXES, TRUSTED_ONLY, get_sandbox, resolve_sandbox
from .environment import probe_backends, worker_environment
from .landlock import LandlockSandbox, landlock_problem
from .process import ProcessSandbox
from .reaper import kill_all_workers, sweep_strays
from .worker import Worker, WorkerDied, WorkerTimeout

__all__ = [
    "REGISTRY",
    "SANDBOXES",
    "TRUSTED_ONLY",
    "BwrapSandbox",
    "LandlockSandbox",
    "Launch",
    "PidsCgroup",
    "ProcessSandbox",
    "Sandbox",
    "Worker",
    "WorkerDied",
    "WorkerTimeout",
    "_pids_cgroup_parent",
    "bwrap_problem",
    "get_sandbox",
    "kill_all_workers",
    "landlock_problem",
    "probe_backends",
    "python_paths",
    "resolve_sandbox",
    "sweep_strays",
    "worker_environment",
]
