"""``--sandbox landlock``: the kernel's allowlist around the worker, with no package and no root.

The worker confines itself first thing, before numpy or JAX start a thread
(``runtime.confine``): no capabilities (as root), Landlock (the Python installation, the
runtime and the compilation cache read-only, its own folder read-write, a few system files;
no TCP; no signals or abstract sockets outside its domain) and seccomp (no process start, no
namespaces, no ptrace-like access, no sockets, no memfd or SysV shared memory, nothing done to
another process). Needs Linux with Landlock (5.13+) and seccomp; ABI 6+ (6.12) for the signal
scope and ABI 4+ for the TCP rules.
"""

from __future__ import annotations

import functools
import glob
from typing import Any

from ..runtime import confine
from .allowlist import carve, judge_package_data, opened
from .base import RUNTIME_DIR, Launch, Sandbox, python_paths

# Files the learner may create are bounded one by one (RLIMIT_FSIZE).
FILE_SIZE_MB = 64


def device_files(backend: str) -> list[str]:
    """The device files an accelerator's backend opens (unverified: no accelerator was lent
    to the sessions that wrote this); none for the CPU."""
    if backend == "cpu":
        return []
    return sorted(glob.glob("/dev/nvidia*") + glob.glob("/dev/accel*") + glob.glob("/dev/dri/*"))


@functools.cache
def landlock_problem() -> str | None:
    """Why this kernel cannot confine a worker with Landlock and seccomp; None when it can."""
    try:
        found = confine.probe()
    except OSError as exc:
        return f"the kernel could not be asked: {exc}"
    if not found.get("landlock"):
        return "the kernel has no Landlock (Linux 5.13+ with Landlock enabled at boot)"
    if not found.get("seccomp"):
        return "the kernel has no seccomp filters"
    if found.get("arch") not in ("x86_64", "aarch64"):
        return f"unsupported architecture {found.get('arch')}"
    return None


class LandlockSandbox(Sandbox):
    name = "landlock"
    label = "landlock"
    zygote_kind = "plain"

    @classmethod
    def problem(cls) -> str | None:
        return landlock_problem()

    def confines(self) -> bool:
        return True

    def command(self, launch: Launch) -> list[str]:
        return self.python_command(launch)

    def confinement(self, launch: Launch) -> dict[str, Any]:
        return readable(launch, str(RUNTIME_DIR))


def hidden_from(launch: Launch) -> list[str]:
    """What the worker must not read even inside the trees it reads: the judge's package data
    and the grading's hidden folders (``Launch.hide``)."""
    return [*launch.hide, *judge_package_data()]


def readable(launch: Launch, runtime: str) -> dict[str, Any]:
    """The confinement of a worker whose runtime package is at ``runtime``: the system's files
    and the Python installation, each with the hidden folders cut out (``allowlist.carve``);
    the runtime and ``read_only`` as given; its own folder read-write."""
    hidden = hidden_from(launch)
    trees = [*confine.SYSTEM_READ, *python_paths(launch.python)]
    read = [*carve(python_paths(launch.python), hidden), runtime, *launch.read_only]
    return {
        "system_read": carve(confine.SYSTEM_READ, hidden),
        "read": sorted(set(read)),
        "list": opened(trees, hidden),
        "write": [launch.workdir],
        "devices_extra": device_files(launch.backend),
        "file_size_mb": FILE_SIZE_MB,
    }
