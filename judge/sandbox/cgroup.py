"""The process limit for root: a pids cgroup per learner worker."""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
from pathlib import Path

_CGROUP_COUNTER = iter(range(1 << 62))


class PidsCgroup:
    """A pids cgroup holding one worker and all it starts: the kernel's bound on how many tasks
    (threads included) it may have, which RLIMIT_NPROC cannot give root.

    Made only by root where the pids controller is mounted (cgroup v1 ``/sys/fs/cgroup/pids``,
    or v2 with ``pids`` enabled below the root); elsewhere ``create`` returns None and the
    guard and RLIMIT_NPROC are what bound processes. The worker enters it before it is
    Python: ``/bin/sh`` writes its own pid to ``cgroup.procs``, then execs the command, so
    nothing it starts is ever outside.
    """

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit

    @classmethod
    def create(cls, limit: int) -> PidsCgroup | None:
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            return None
        parent = _pids_cgroup_parent()
        if parent is None:
            return None
        path = parent / f"judge-{os.getpid()}-{next(_CGROUP_COUNTER)}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
        except OSError:
            cls(path, limit).remove()
            return None
        return cls(path, limit)

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv``, run from inside the cgroup."""
        enter = 'echo $$ > "$0" 2>/dev/null; exec "$@"'
        return ["/bin/sh", "-c", enter, str(self.path / "cgroup.procs"), *argv]

    def holds(self, pid: int) -> bool:
        """Whether ``pid`` runs inside this cgroup (it did enter it)."""
        try:
            return f"/{self.path.name}\n" in Path(f"/proc/{pid}/cgroup").read_text() + "\n"
        except OSError:
            return False

    def kill_all(self) -> None:
        """SIGKILL every task in the cgroup until none is left (new ones cannot escape it)."""
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


@functools.cache
def _pids_cgroup_parent() -> Path | None:
    """Where pids cgroups can be made; once per process, the empty ones a judge killed with
    SIGKILL left behind (its pid gone) are removed."""
    v1, v2 = Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")
    parent = None
    if (v1 / "cgroup.procs").is_file() and os.access(v1, os.W_OK):
        parent = v1
    else:
        try:
            enabled = (v2 / "cgroup.subtree_control").read_text().split()
        except OSError:
            return None
        parent = v2 if "pids" in enabled and os.access(v2, os.W_OK) else None
    if parent is not None:
        for left in parent.glob("judge-*-*"):
            owner = left.name.split("-")[1]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                try:
                    left.rmdir()  # refused while anything still runs in it
                except OSError:
                    pass
    return parent
