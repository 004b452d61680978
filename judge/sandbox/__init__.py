"""Running learner code apart from the judge: the sandboxes, the worker processes, the reaper.

A sandbox is chosen by name. ``auto`` picks the strongest one that works on this machine;
naming one that cannot run here is an error (the caller asked for a guarantee that would
silently be missing). Adding a sandbox: a module with a ``Sandbox`` subclass, and its line in
``REGISTRY`` (strongest first).
"""

from __future__ import annotations

from ..errors import SandboxUnavailable
from .base import Launch, Sandbox, python_paths
from .bwrap import BwrapSandbox, bwrap_problem
from .cgroup import PidsCgroup, _pids_cgroup_parent
from .environment import probe_backends, worker_environment
from .landlock import LandlockSandbox, landlock_problem
from .process import ProcessSandbox
from .reaper import kill_all_workers, sweep_strays
from .worker import Worker, WorkerDied, WorkerTimeout

# Strongest first: ``auto`` takes the first kernel sandbox that works here, and never falls back
# to ``none`` by itself (that is for trusted code, and must be asked for).
REGISTRY: dict[str, type[Sandbox]] = {
    BwrapSandbox.name: BwrapSandbox,  # mounts allowlist + namespaces, and Landlock inside
    LandlockSandbox.name: LandlockSandbox,  # Landlock + seccomp: no package, no root
    ProcessSandbox.name: ProcessSandbox,
}
SANDBOXES = ("auto", *REGISTRY)
TRUSTED_ONLY = (ProcessSandbox.name,)


def get_sandbox(name: str) -> Sandbox:
    """The sandbox of that name, without checking that it can run here."""
    try:
        return REGISTRY[name]()
    except KeyError:
        raise SandboxUnavailable(
            f"--sandbox {name}: expected one of {', '.join(SANDBOXES)}"
        ) from None


def resolve_sandbox(choice: str, backend: str = "cpu") -> Sandbox:
    """``auto`` -> the strongest sandbox that works here for ``backend``; a named one only if
    it works."""
    if choice == "auto":
        reasons = []
        for name, kind in REGISTRY.items():
            if name in TRUSTED_ONLY:
                continue
            problem = kind.problem() or kind().backend_problem(backend)
            if problem is None:
                return kind()
            reasons.append(f"{name}: {problem}")
        raise SandboxUnavailable(
            "no kernel isolation is available here (" + "; ".join(reasons) + "); "
            "learner code would run unconfined. Pass --sandbox none only for trusted code"
        )
    sandbox = get_sandbox(choice)
    problem = sandbox.problem() or sandbox.backend_problem(backend)
    if problem is not None:
        raise SandboxUnavailable(f"--sandbox {choice}: {problem}")
    return sandbox


__all__ = [
    "REGISTRY",
    "SANDBOXES",
    "LandlockSandbox",
    "Launch",
    "PidsCgroup",
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
