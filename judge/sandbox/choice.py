"""Choosing a sandbox by name: the registry, strongest first, and ``auto``'s rule.

Its own module so that the worker and the zygote, which take a sandbox by name, import the
choice without importing the package that imports them.
"""

from __future__ import annotations

from ..errors import SandboxUnavailable
from .base import Sandbox
from .bwrap import BwrapSandbox
from .landlock import LandlockSandbox
from .process import ProcessSandbox

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
