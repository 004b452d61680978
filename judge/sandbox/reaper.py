"""Nothing a learner starts outlives its grading: the judge reaps and sweeps its workers' strays.

The judge makes itself a child subreaper, so a learner's process that double-forks and calls
``setsid`` is re-parented to the judge instead of init, and is killed by the sweep that follows
every worker's end. Workers register here while they run, so that a sweep in another thread
never takes one for a stray.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Iterable

from ..runtime.kernel import PR_SET_CHILD_SUBREAPER, prctl

LIVE_LOCK = threading.Lock()
LIVE_WORKERS: set[int] = set()  # pids of the workers this process started and still owns
SPARED: set[int] = set()  # the zygotes (``zygote``): the judge's own children, not strays


@functools.cache
def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux 3.4+).

    Then a learner's process that double-forks, or calls ``setsid``, is re-parented to the judge
    rather than to init when its parents die, and ``sweep_strays`` can find and kill it.
    """
    return sys.platform.startswith("linux") and prctl(PR_SET_CHILD_SUBREAPER, 1)


def stat_fields(pid: int | str) -> list[bytes] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state, parent pid, process
    group, session, ...); None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name is in parentheses and may contain anything: parse from its end.
    return stat[stat.rfind(b")") + 2 :].split()


def _processes() -> Iterable[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every process visible in /proc."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = stat_fields(entry)
        if fields is None:
            continue
        try:
            yield int(entry), int(fields[1]), int(fields[3])
        except (IndexError, ValueError):
            continue


def sweep_strays(rounds: int = 100) -> int:
    """Kill and reap every process re-parented to the judge that it did not start itself.

    Such a process can only be something a learner's code left behind (the judge is a child
    subreaper); a child the judge's host program started itself shares the judge's session and
    is spared. Killing one re-parents its own children to the judge: repeat until none is left.
    Returns how many were killed.
    """
    if not sys.platform.startswith("linux"):
        return 0
    me, my_session = os.getpid(), os.getsid(0)
    killed = 0
    for _ in range(rounds):
        with LIVE_LOCK:
            known = LIVE_WORKERS | SPARED
        strays = [
            pid
            for pid, parent, session in _processes()
            if parent == me and pid not in known and session != my_session
        ]
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    return killed


def kill_all_workers() -> int:
    """Kill every worker this process started and still owns, with its process group; the
    gradings waiting on them end at once. For a batch that is stopped (Ctrl-C). Returns how
    many were signalled; each grading reaps its own worker."""
    with LIVE_LOCK:
        pids = list(LIVE_WORKERS)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return len(pids)
