"""Kernel bounds for root's workers: a pids cgroup (tasks) and a memory cgroup (memory).

RLIMIT_NPROC does not apply to root, and RLIMIT_AS counts neither shared memory nor files in a
tmpfs; a cgroup does both, and its counters are kernel facts a verdict can rest on (an OOM kill
is counted by the kernel, not claimed in the learner's output). Made only by root where the
controller is mounted (cgroup v1 ``/sys/fs/cgroup/<controller>``, or v2 with the controller
enabled below the root); elsewhere ``create`` returns None and the report says what bounds the
worker instead. The worker enters every cgroup before it is Python: ``/bin/sh`` writes its own
pid to each ``cgroup.procs``, then execs the command, so nothing it starts is ever outside.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

_CGROUP_COUNTER = iter(range(1 << 62))


class _Cgroup:
    controller = ""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def _make(cls, settings: dict[str, str]) -> Path | None:
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            return None
        parent = _cgroup_parent(cls.controller)
        if parent is None:
            return None
        path = parent / f"judge-{os.getpid()}-{next(_CGROUP_COUNTER)}"
        try:
            path.mkdir()
            for name, value in settings.items():
                (path / name).write_text(value)
        except OSError:
            cls(path).remove()
            return None
        return path

    def holds(self, pid: int) -> bool:
        """Whether ``pid`` runs inside this cgroup (it did enter it)."""
        try:
            return f"/{self.path.name}\n" in Path(f"/proc/{pid}/cgroup").read_text() + "\n"
        except OSError:
            return False

    def kill_all(self) -> None:
        """SIGKILL every task in the cgroup until none is left (new ones cannot escape it):
        ``cgroup.kill`` (cgroup v2, Linux 5.14+) does it at once, in the kernel; else one by
        one."""
        with contextlib.suppress(OSError):
            (self.path / "cgroup.kill").write_text("1")
        for _ in range(100):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                return
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        """Remove the cgroup once its tasks are gone (their zombies reaped)."""
        for _ in range(200):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)

    def _counter(self, file: str, key: str) -> int:
        """``key N`` from a flat-keyed file such as memory.events; 0 when unreadable."""
        try:
            for line in (self.path / file).read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0


class PidsCgroup(_Cgroup):
    """How many tasks (threads included) one worker and all it starts may have."""

    controller = "pids"

    def __init__(self, path: Path, limit: int = 0) -> None:
        super().__init__(path)
        self.limit = limit

    @classmethod
    def create(cls, limit: int) -> PidsCgroup | None:
        path = cls._make({"pids.max": str(limit)})
        return cls(path, limit) if path is not None else None

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv``, run from inside the cgroup."""
        return enter([self], argv)


class MemoryCgroup(_Cgroup):
    """How much memory one worker may hold: anonymous memory, shared memory, tmpfs and page
    cache alike, without swap. Past it the kernel kills the worker and counts an OOM kill."""

    controller = "memory"

    def __init__(self, path: Path, limit_mb: int = 0) -> None:
        super().__init__(path)
        self.limit_mb = limit_mb

    @classmethod
    def create(cls, limit_mb: int) -> MemoryCgroup | None:
        size = str(limit_mb * 1024 * 1024)
        v1 = _cgroup_parent(cls.controller) == Path("/sys/fs/cgroup/memory")
        settings = {"memory.limit_in_bytes": size} if v1 else {"memory.max": size}
        if not v1:
            settings["memory.swap.max"] = "0"
        path = cls._make(settings)
        return cls(path, limit_mb) if path is not None else None

    def pressed(self) -> bool:
        """Whether usage ever reached the limit (an allocation failed or had to be reclaimed
        for), or the kernel killed a task here: kernel counters, not anyone's output."""
        return (
            self.oom_kills() > 0
            or self._counter("memory.events", "max") > 0
            or self._number("memory.failcnt") > 0
        )

    def _number(self, file: str) -> int:
        try:
            return int((self.path / file).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def oom_kills(self) -> int:
        """How many times the kernel killed a task here for want of memory."""
        return max(
            self._counter("memory.events", "oom_kill"),
            self._counter("memory.oom_control", "oom_kill"),
        )


def enter(cgroups: Sequence[_Cgroup], argv: list[str]) -> list[str]:
    """``argv``, run from inside every cgroup given."""
    if not cgroups:
        return argv
    procs = [str(c.path / "cgroup.procs") for c in cgroups]
    script = "; ".join(f'echo $$ > "${k}" 2>/dev/null' for k in range(len(procs)))
    shift = " ".join(["shift"] * (len(procs) - 1))
    body = f'{script}; {shift + "; " if shift else ""}exec "$@"'
    # sh -c BODY $0 $1 ...: the procs files are $0..$n-1, then the command.
    return ["/bin/sh", "-c", body, *procs, *argv]


@functools.cache
def _cgroup_parent(controller: str) -> Path | None:
    """Where cgroups of ``controller`` can be made; once per process, the empty ones a judge
    killed with SIGKILL left behind (its pid gone) are removed."""
    v1, v2 = Path("/sys/fs/cgroup") / controller, Path("/sys/fs/cgroup")
    parent = None
    if (v1 / "cgroup.procs").is_file() and os.access(v1, os.W_OK):
        parent = v1
    else:
        try:
            enabled = (v2 / "cgroup.subtree_control").read_text().split()
        except OSError:
            return None
        parent = v2 if controller in enabled and os.access(v2, os.W_OK) else None
    if parent is not None:
        for left in parent.glob("judge-*-*"):
            owner = left.name.split("-")[1]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                try:
                    left.rmdir()  # refused while anything still runs in it
                except OSError:
                    pass
    return parent


def _pids_cgroup_parent() -> Path | None:
    return _cgroup_parent("pids")
