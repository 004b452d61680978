"""The judge's side of the zygote (``runtime/zygote.py``): one per grading run, forking workers.

A worker forked from a process that has already imported JAX and Flax is ready about half a
second sooner than a fresh interpreter, and shares those pages. The zygote is started like a
worker (``python -I -B``, a minimal environment, its own session and folder), as early as the
command line is read, so that its imports overlap the judge's own start-up; it dies with the
judge (``PR_SET_PDEATHSIG``), and every worker it forked dies with it.

Which sandboxes fork (``Sandbox.zygote_kind``): ``landlock`` and ``none`` from a plain zygote
(each child confines itself after the fork); ``bwrap`` from a zygote inside one bubblewrap,
where the children's folders are kept apart by Landlock (without Landlock, a fresh bubblewrap
per worker, as before). ``--no-zygote`` (or ``JUDGE_ZYGOTE=0``) turns it off. Any
failure of the zygote (it could not import JAX, it died) falls back to a fresh interpreter, so
the zygote can make a grading faster, never different.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any

from ..constants import STARTUP_TIMEOUT_S
from . import folder
from .base import RUNTIME_DIR, Sandbox
from .capture import readable
from .cgroup import _Cgroup
from .environment import worker_environment
from .reaper import LIVE_LOCK, SPARED, stat_fields

# Imports the runtime folder as ``judge_runtime`` (as BOOTSTRAP does) and runs the zygote.
ZYGOTE_BOOTSTRAP = (
    "import importlib.util as u,sys\n"
    "d=sys.argv.pop(1)\n"
    "s=u.spec_from_file_location('judge_runtime',d+'/__init__.py',submodule_search_locations=[d])\n"
    "m=u.module_from_spec(s);sys.modules['judge_runtime']=m;s.loader.exec_module(m)\n"
    "from judge_runtime.zygote import main\n"
    "sys.exit(main(sys.argv))\n"
)

_enabled = os.environ.get("JUDGE_ZYGOTE", "1") != "0"
_LOCK = threading.Lock()
_ZYGOTES: dict[tuple[str, str, str], Zygote] = {}  # the shared ones (``prestart``)
_LIVE: set[Zygote] = set()  # every zygote not yet closed, shared or a grading's own


class ZygoteError(Exception):
    """The zygote could not fork a worker (the caller starts a fresh interpreter instead)."""


class ForkedProcess:
    """A worker the zygote forked, with what ``Worker`` uses of a ``subprocess.Popen``: its pid,
    its output streams, ``poll`` and a ``returncode`` negative for a signal. Its end is seen on a
    pidfd (it is not the judge's child); the zygote reaps it when asked, with its CPU time."""

    def __init__(
        self, zygote: Zygote, pids: tuple[int, int], pidfd: int, out: int, err: int
    ) -> None:
        self.zygote, self.pidfd = zygote, pidfd
        self.pid, self.inner_pid = pids  # as the judge sees it; as the zygote does
        self.stdout = os.fdopen(out, "rb", buffering=0)
        self.stderr = os.fdopen(err, "rb", buffering=0)
        self.returncode: int | None = None
        self.cpu_s = 0.0

    def wait(self, timeout: float) -> int | None:
        """Its exit status once it ended within ``timeout`` s, else None."""
        if self.returncode is not None:
            return self.returncode
        if not readable(self.pidfd, timeout):
            return None
        status, self.cpu_s = self.zygote.reap(self.pid, self.inner_pid)
        self.returncode = os.waitstatus_to_exitcode(status) if status is not None else -9
        os.close(self.pidfd)
        self.pidfd = -1
        return self.returncode

    def poll(self) -> int | None:
        return self.wait(0.0)

    def kill(self) -> None:
        """SIGKILL through the pidfd: reaches it even before it made its own session (which
        ``killpg`` needs), and never another process that took its pid."""
        if self.pidfd >= 0:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except OSError:
                pass


class Zygote:
    """One zygote process and its channel; safe to share between threads (a batch's).

    ``root`` is its folder; inside bubblewrap, the only host folder it may write, and so the
    parent of its workers' folders. As root, it is then a shared mount, so that a learner's
    tmpfs mounted in it later appears inside too."""

    def __init__(
        self, python: str, backend: str, sandbox: Sandbox, read_only: Sequence[str] = ()
    ) -> None:
        self.python, self.backend, self.kind = python, backend, sandbox.zygote_kind
        self.read_only = tuple(read_only)
        folder.remove_stale()  # zygotes' and workers' folders of judges killed earlier
        self.root = tempfile.mkdtemp(prefix=f"judge-zygote-{os.getpid()}-")
        # Where its workers' folders are made: inside its bubblewrap's one writable folder;
        # a plain zygote's beside every other worker's, as before (the guard knows them there).
        self.folders = self.root if self.kind == "bwrap" else None
        self._shared_mount = sandbox.zygote_kind == "bwrap" and folder.share(self.root)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.channel = ours
        self._lock = threading.Lock()
        self.broken = False  # its channel failed once: no more requests (fresh workers instead)
        bootstrap = [ZYGOTE_BOOTSTRAP, str(RUNTIME_DIR), str(theirs.fileno())]
        try:
            # Spared under the sweep's lock: a sweep in another thread (a batch's) that ran
            # between its start and its sparing would take it for a learner's stray and kill it.
            with LIVE_LOCK:
                self.process = subprocess.Popen(
                    sandbox.zygote_command(python, backend, self.root, self.read_only, bootstrap),
                    cwd=self.root,
                    env=worker_environment(backend, self.root),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,
                )
                SPARED.add(self.process.pid)  # not a stray: the sweep must leave it alone
        except OSError:
            self._remove_root()
            raise
        finally:
            theirs.close()
        with _LOCK:
            _LIVE.add(self)  # ended at exit if its owner did not end it

    def serves(self, sandbox: Sandbox, read_only: Sequence[str]) -> bool:
        """Whether a worker of ``sandbox`` needing ``read_only`` may be forked here: a plain
        zygote serves ``none`` and ``landlock`` (each child confines itself), a bwrap zygote
        only ``bwrap`` workers, and only folders it was given."""
        return (
            self.alive
            and sandbox.forks()
            and sandbox.zygote_kind == self.kind
            and (self.kind != "bwrap" or set(read_only) <= set(self.read_only))
        )

    def _remove_root(self) -> None:
        if self._shared_mount:
            folder.remove(self.root, mounted=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return not self.broken and self.process.poll() is None

    def _ask(
        self, message: dict[str, Any], fds: Sequence[int] = ()
    ) -> tuple[dict[str, Any], list[int]]:
        """One request, one reply (under the lock: a batch's threads share the channel)."""
        with self._lock:
            if self.broken:
                raise ZygoteError("the zygote's channel failed earlier")
            try:
                self.channel.settimeout(STARTUP_TIMEOUT_S)
                socket.send_fds(self.channel, [json.dumps(message).encode()], list(fds))
                data, got, _, _ = socket.recv_fds(self.channel, 1 << 16, 1)
            except OSError as exc:
                # A reply may still come, and would answer the next request: no next request.
                self.broken = True
                raise ZygoteError(f"the zygote did not answer: {exc}") from None
        if not data:
            raise ZygoteError("the zygote has ended")
        return json.loads(data), got

    def fork(
        self, config: dict[str, Any], env: dict[str, str], cwd: str, fds: tuple[int, int],
        cgroups: Sequence[_Cgroup],
    ) -> ForkedProcess:  # fmt: skip
        """A new worker with the request and reply pipes ``fds``, in the folder ``cwd`` with the
        environment ``env``, placed in ``cgroups`` before it runs anything of its own."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        go_r, go_w = os.pipe()
        try:
            request = {"op": "fork", "config": config, "env": env, "cwd": cwd}
            reply, got = self._ask(request, (*fds, out_w, err_w, go_r))
        except ZygoteError:
            for fd in (out_r, err_r, go_w):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, go_r):
                os.close(fd)
        if "pid" not in reply or len(got) != 1:
            for fd in (out_r, err_r, go_w, *got):
                os.close(fd)
            raise ZygoteError(f"the zygote could not fork: {reply.get('error', reply)}")
        try:
            pid = _host_pid(got[0])  # the zygote may see it by another number (bwrap's PID ns)
        except (OSError, ZygoteError):
            for fd in (out_r, err_r, go_w, *got):  # no "go": the child exits at once
                os.close(fd)
            raise ZygoteError("the forked worker could not be found") from None
        for cgroup in cgroups:  # as ``cgroup.enter`` does for a fresh worker: before it runs
            try:
                (cgroup.path / "cgroup.procs").write_text(str(pid))
            except OSError:
                pass  # the report then says the cgroup does not hold it (``holds``)
        try:
            os.write(go_w, b"g")
        finally:
            os.close(go_w)
        return ForkedProcess(self, (pid, int(reply["pid"])), got[0], out_r, err_r)

    def reap(self, pid: int, inner_pid: int) -> tuple[int | None, float]:
        """The wait status and CPU seconds of a child that ended (``inner_pid``: its number in
        the zygote's PID namespace). If the zygote is gone, its children were re-parented to
        the judge (a subreaper) or to bubblewrap's init: reaped here if they are ours."""
        try:
            reply, _ = self._ask({"op": "reap", "pid": inner_pid})
            if "status" in reply:
                return int(reply["status"]), float(reply.get("cpu_s") or 0.0)
        except ZygoteError:
            pass
        try:
            _, status, usage = os.wait4(pid, 0)
            return status, usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            return None, 0.0

    def close(self) -> None:
        """End the zygote and everything under it (a bubblewrap's init, workers), reap what
        was re-parented to the judge, and remove its folder. Once only: a pid is read from
        /proc only while the zygote, not yet reaped, still holds it."""
        with _LOCK:
            if self not in _LIVE:
                return
            _LIVE.discard(self)
        self.channel.close()
        tree = folder.descendants(self.process.pid) if self.process.poll() is None else []
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.process.wait()
        with LIVE_LOCK:
            SPARED.discard(self.process.pid)
        _reap_orphans(set(tree) - {self.process.pid})
        self._remove_root()


def _reap_orphans(pids: set[int], seconds: float = 5.0) -> None:
    """Wait until ``pids`` (killed) are gone, reaping those re-parented to the judge (a child
    subreaper): bubblewrap's init, once its parent was killed, becomes the judge's child."""
    deadline = time.monotonic() + seconds
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    pids.discard(pid)
            except ChildProcessError:  # not ours: gone, or still on its way to us or to init
                if _ended(pid):
                    pids.discard(pid)
        if pids:
            time.sleep(0.01)


def _ended(pid: int) -> bool:
    """Whether a process that is not the judge's child is gone or a zombie: a zombie holds no
    memory, mounts or namespaces any more, only its entry, and waiting for another parent to
    reap it (init, on some machines, takes about two seconds) would delay every run's end."""
    fields = stat_fields(pid)
    return not fields or fields[0] in (b"Z", b"X")


def _host_pid(pidfd: int) -> int:
    """The pid a pidfd refers to, in this process's PID namespace (``Pid:`` of its fdinfo)."""
    with open(f"/proc/self/fdinfo/{pidfd}") as handle:
        for line in handle:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    raise ZygoteError("the kernel did not say which process the pidfd is")


def set_enabled(enabled: bool) -> None:
    """``--no-zygote``: every worker a fresh interpreter, as before the zygote."""
    global _enabled
    _enabled = enabled


def enabled() -> bool:
    return _enabled


def prestart(python: str, backend: str, sandbox: str) -> None:
    """Start this process's shared zygote now, from the main thread (``PR_SET_PDEATHSIG``
    follows the thread that started a process), so that its imports overlap the judge's own
    start-up and planning. Nothing when it is off, or when ``sandbox`` (a ``--sandbox``
    choice) resolves to one that does not fork; a choice that cannot run here is left for the
    grading to report, in its words. A second call for a zygote already running is nothing.
    Ended at exit (``close_all``)."""
    from .. import cache
    from .choice import resolve_sandbox

    if not _enabled:
        return
    try:
        chosen = resolve_sandbox(sandbox, backend)
        if not chosen.forks():
            return
        with _LOCK:
            running = _ZYGOTES.get((python, backend, chosen.zygote_kind))
        if running is not None and running.alive:
            return  # started earlier in this run (``launch``): one per kind, never two
        compile_cache = cache.xla_dir()
        read_only = (str(compile_cache),) if compile_cache is not None else ()
        zygote = Zygote(python, backend, chosen, read_only)
    except Exception:
        return
    with _LOCK:
        replaced = _ZYGOTES.get((python, backend, zygote.kind))
        _ZYGOTES[(python, backend, zygote.kind)] = zygote
    if replaced is not None:
        replaced.close()  # it had died: its resources go now, not at exit


def prestart_beside(python: str, backend: str, sandbox: str) -> None:
    """Where ``sandbox`` resolves to bubblewrap, start a plain zygote as well, for the
    reference's workers: they run outside any sandbox, so the zygote inside bubblewrap cannot
    fork them, and each would otherwise be a fresh interpreter. For the commands that run
    many reference workers (``judge batch``, ``judge check``); the plain zygote costs one more
    import of JAX, which a single grading with a warm cache would not earn back."""
    from .choice import resolve_sandbox

    if not _enabled:
        return
    try:
        if resolve_sandbox(sandbox, backend).zygote_kind != "bwrap":
            return
    except Exception:
        return
    prestart(python, backend, "none")


def shared(python: str, backend: str, sandbox: Sandbox) -> Zygote | None:
    """The zygote ``prestart`` started for this run (a command) that forks workers of
    ``sandbox``, if it is still alive."""
    with _LOCK:
        zygote = _ZYGOTES.get((python, backend, sandbox.zygote_kind))
    return zygote if _enabled and zygote is not None and zygote.alive else None


@atexit.register
def close_all() -> None:
    """End every zygote: nothing outlives the grading run."""
    with _LOCK:
        _ZYGOTES.clear()
        live = list(_LIVE)
    for zygote in live:
        zygote.close()


def end_run() -> None:
    """The end of a command (``cli.main``): every zygote ended, ``--no-zygote`` forgotten, so
    that a host calling ``main`` again (the tests do) starts from the default."""
    close_all()
    set_enabled(os.environ.get("JUDGE_ZYGOTE", "1") != "0")


# The commands that start learner workers.
FORKING = ("grade", "batch", "check")


def start_for_command(
    command: str | None, backend: str, sandbox: str, allowed: bool = True
) -> None:
    """The one rule of which zygotes a command starts: none for a command that starts no
    worker or with the zygote off (``--no-zygote``, ``JUDGE_ZYGOTE=0``); the learners' for
    ``grade``, ``batch`` and ``check``, and for the last two, which start many reference
    workers, a plain one beside it (``zygote.prestart_beside``). Starting twice is a no-op:
    ``launch.early_zygote`` calls it from the raw command line, ``cli.main`` from the parsed
    one."""
    if not allowed:
        set_enabled(False)
        return
    if command not in FORKING or os.environ.get("JUDGE_ZYGOTE", "1") == "0":
        return
    prestart(sys.executable, backend, sandbox)
    if command in ("batch", "check"):
        prestart_beside(sys.executable, backend, sandbox)


__all__ = ["ForkedProcess", "Zygote", "ZygoteError", "close_all", "enabled", "end_run",
           "prestart", "prestart_beside", "set_enabled", "shared",
           "start_for_command"]  # fmt: skip
