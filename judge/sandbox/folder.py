"""A worker's own folder: the one place its code may write, bounded, and always removed.

When the judge runs as root, a learner's folder is a tmpfs of its own, mounted ``nosuid`` and
``nodev`` and sized to the disk limit: a file the learner marks setuid there means nothing, the
kernel refuses writes past the size (deleted files still open count too), and unmounting it
removes everything however deep. Elsewhere it is a plain temporary folder, and the judge counts
what it holds, open deleted files included, while it waits for each reply.
"""

from __future__ import annotations

import ctypes
import glob
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable

MS_NOSUID, MS_NODEV, MNT_DETACH = 0x2, 0x4, 0x2
MS_BIND, MS_SHARED = 0x1000, 1 << 20
MAX_ENTRIES = 100_000
# Room above the disk limit, so that the judge's own check (not ENOSPC) ends a flood.
TMPFS_ROOM_MB = 16


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def make(role: str, disk_limit_mb: int | None, parent: str | None = None) -> tuple[str, bool]:
    """A new folder for a worker of ``role`` (in ``parent``: a zygote's folder, when the zygote
    forks it); whether it is a tmpfs of its own. Named with the judge's pid, so that what a
    judge killed with SIGKILL leaves is removed by the next one (``remove_stale``)."""
    if parent is None:
        remove_stale()
    path = tempfile.mkdtemp(prefix=f"judge-{role}-{os.getpid()}-", dir=parent)
    if disk_limit_mb is None or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return path, False
    libc = _libc()
    options = f"size={disk_limit_mb + TMPFS_ROOM_MB}m,mode=0700".encode()
    if libc is None or libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                                  options) != 0:  # fmt: skip
        return path, False
    return path, True


def share(path: str) -> bool:
    """Make ``path`` a shared mount of its own (as root): a zygote's bubblewrap binds it, and
    each learner's tmpfs mounted in it afterwards then appears inside too (mounts propagate
    from a shared mount to its copies). Whether it was done; ``remove`` unmounts it."""
    libc = _libc()
    if libc is None or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    if libc.mount(path.encode(), path.encode(), None, MS_BIND, None) != 0:
        return False
    if libc.mount(None, path.encode(), None, MS_SHARED, None) != 0:
        libc.umount2(path.encode(), MNT_DETACH)
        return False
    return True


def remove(path: str, mounted: bool) -> None:
    """Remove the folder and everything in it; never raises. A tree too deep for
    ``shutil.rmtree``'s recursion is removed by ``rm -rf``."""
    if mounted:
        libc = _libc()
        if libc is not None:
            libc.umount2(path.encode(), MNT_DETACH)
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return
    except (OSError, RecursionError):
        try:
            subprocess.run(["rm", "-rf", "--one-file-system", path], timeout=120,
                           capture_output=True, check=False)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            pass


def bytes_used(folder: str, pids: Iterable[int], stop_at: int) -> int:
    """Disk blocks under ``folder`` (links not followed, each entry at least a block) plus the
    deleted files ``pids`` still hold open; stops early past ``stop_at``."""
    total = _open_deleted_bytes(pids)
    entries, pending = 0, [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += max(info.st_blocks * 512, 4096)
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    if total > stop_at or entries > MAX_ENTRIES:
                        return max(total, stop_at + 1)
        except OSError:
            continue
    return total


def _open_deleted_bytes(pids: Iterable[int]) -> int:
    """Blocks of regular files that are deleted (no link left) but held open by ``pids``."""
    total = 0
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                info = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 0:
                total += info.st_blocks * 512
    return total


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, through ``/proc/<pid>/task/*/children``."""
    found: list[int] = []
    pending = [pid]
    while pending and len(found) < 4096:
        current = pending.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    pending.extend(int(p) for p in handle.read().split())
            except (OSError, ValueError):
                continue
    return found


_SWEPT = False
# Folders named ``judge-<role>-<pid>-...``: workers' (``make``) and zygotes' (``Zygote``).
_SWEPT_ROLES = ("learner", "reference", "zygote")


def remove_stale(directory: str | None = None) -> list[str]:
    """Once per process: remove the folders (and, as root, their mounts) that a judge killed
    before it could left in the temporary folder: ``judge-<role>-<pid>-...`` whose pid is gone
    and which belong to this user; a zygote's workers' folders inside it first (mounted there).
    A pid reused since is taken for alive: such a folder waits for a later sweep. What was
    removed."""
    global _SWEPT
    if _SWEPT and directory is None:
        return []
    _SWEPT = True
    try:
        with open("/proc/self/mountinfo") as handle:
            mounted = {line.split()[4] for line in handle}
    except OSError:
        mounted = set()
    removed = []
    for stale in glob.glob(os.path.join(directory or tempfile.gettempdir(), "judge-*-*-*")):
        parts = os.path.basename(stale).split("-")
        if parts[1] not in _SWEPT_ROLES or not parts[2].isdigit():
            continue
        try:
            info = os.lstat(stale)
        except OSError:
            continue
        owned = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()  # never a link
        if owned and not os.path.exists(f"/proc/{parts[2]}"):
            for inner in glob.glob(os.path.join(stale, "judge-*")):
                remove(inner, mounted=inner in mounted)
            remove(stale, mounted=stale in mounted)
            removed.append(stale)
    return removed
