"""Starting, talking to and stopping one worker process.

A worker runs in its own session, in a fresh temporary directory, with a minimal environment
and ``python -I`` (no project tree, no user site-packages on ``sys.path``), under the sandbox
chosen by name. Its stdout and stderr are drained by threads that keep the first
``output_limit`` bytes and discard the rest, so a flood neither fills the judge's memory nor
blocks the worker. Replies come over a dedicated pipe that the learner's prints cannot reach,
and each must carry the id of the request it answers.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import backends
from ..constants import STARTUP_TIMEOUT_S
from ..limits import DEFAULT_OUTPUT_KB, Limits
from ..runtime import wire
from ..runtime.shared import task_room
from . import folder
from .base import Launch, Sandbox, python_paths
from .capture import Capture, readable, widen_pipe, write_within
from .cgroup import MemoryCgroup, PidsCgroup, _Cgroup, enter
from .environment import worker_environment
from .reaper import LIVE_LOCK, LIVE_WORKERS, become_subreaper, sweep_strays
from .zygote import ForkedProcess, Zygote, ZygoteError

# How often the judge looks at a worker's folder while it waits for a reply.
DISK_CHECK_S = 0.25


class WorkerTimeout(Exception):
    """The worker did not answer within the time given."""


class WorkerDied(Exception):
    """The worker exited or broke the protocol. ``returncode`` is negative for a signal."""

    def __init__(self, message: str, returncode: int | None) -> None:
        super().__init__(message)
        self.returncode = returncode


class Worker:
    """One worker process and the channel to it. Use as a context manager."""

    def __init__(
        self,
        *,
        role: str,
        backend: str,
        precision: str,
        limits: Limits | None = None,
        python: str | None = None,
        observe: bool = False,
        sandbox: str | Sandbox = "none",
        hide: Iterable[str | Path] = (),
        guard: bool = False,
        compile_cache: str | Path | None = None,
        device: str | None = None,
        workers_per_device: int = 2,
        zygote: Zygote | None = None,
        deadline: float | None = None,
        send_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        from .choice import get_sandbox

        self.role = role
        self.backend = backend
        # The Limits whole: the learner's worker enforces all of them, the trusted reference's
        # its memory and result size; None (probes, tests): no limit but the output kept.
        learner = role == "learner"
        self.output_limit = (limits.output_kb if limits else DEFAULT_OUTPUT_KB) * 1024
        self.disk_limit_mb = limits.disk_mb if limits and learner else None
        self.sandbox = get_sandbox(sandbox) if isinstance(sandbox, str) else sandbox
        self.hide = [str(p) for p in hide]
        self.python = python or sys.executable
        self.config: wire.WorkerConfig = {
            "role": role,
            "precision": precision,
            "limits": limits.for_worker(learner) if limits else {},  # type: ignore[typeddict-item]
            "observe": observe,
            "guard": guard,
            "protect": self.hide,
            "allow": list(python_paths(self.python)),  # extended below
            # One MLIR context per thread (``runtime/lowering.py``); JUDGE_SHARED_IR_CONTEXT=0
            # keeps JAX's own way, for comparison (``bench/``).
            "shared_ir_context": os.environ.get("JUDGE_SHARED_IR_CONTEXT", "1") != "0",
        }
        # JAX's persistent compilation cache: written by the reference's worker only; the
        # learner's reads it (see judge/cache.py).
        self.device, self.workers_per_device = device, workers_per_device
        self.zygote = zygote  # forks this worker; None: a fresh interpreter
        # No wait on it goes past ``deadline`` (monotonic), nor on one request past ``send_s``.
        self.deadline, self.send_s = deadline, send_s
        self._reset_process_state()
        self.compile_cache = str(compile_cache) if compile_cache else None
        if self.compile_cache:
            self.config["compile_cache"] = {"dir": self.compile_cache, "write": role != "learner"}
            self.config["allow"].append(self.compile_cache)

    def _reset_process_state(self) -> None:
        """What one run of the worker process holds: its folder, pipes, captures, cgroups."""
        self.directory = ""
        self.process: subprocess.Popen[bytes] | ForkedProcess | None = None
        self._request_fd = self._reply_fd = -1
        self._buffer = bytearray()
        self._captures = {
            "stdout": Capture(self.output_limit, bytearray()),
            "stderr": Capture(self.output_limit, bytearray()),
        }
        self._drains: list[threading.Thread] = []
        self._next_id = 0
        self._pending: collections.deque[int] = collections.deque()
        self._cpu_s = 0.0
        self._stalled: str | None = None  # why a request could not be written in time
        self.started_at = 0.0
        self.cgroup: PidsCgroup | None = None
        self.memory_cgroup: MemoryCgroup | None = None
        self.disk_used_mb: int | None = None  # set when the disk limit ended the worker
        self._tmpfs = False  # the folder is a tmpfs of its own (as root)

    # --- lifecycle ---------------------------------------------------------------------------

    def _launch(self, fds: tuple[int, int]) -> tuple[Launch, list[_Cgroup]]:
        """What the worker is given (its configuration, the sandbox's confinement in it), and
        the cgroups that bound it, made now."""
        launch = Launch(
            python=self.python,
            workdir=self.directory,
            backend=self.backend,
            fds=fds,
            config=dict(self.config),
            hide=tuple(self.hide),
            read_only=(self.compile_cache,) if self.compile_cache else (),
        )
        confinement = self.sandbox.confinement(launch)
        if confinement is not None:
            launch.config["confine"] = confinement
        limits = launch.config["limits"] = dict(self.config.get("limits") or {})
        memory = limits.get("memory_mb")
        if backends.is_accelerator(self.backend):
            # CUDA and TPU runtimes reserve far more address space than they use: no RLIMIT_AS;
            # host memory is the memory cgroup's, device memory XLA's fraction.
            limits.pop("memory_mb", None)
        if memory and self.config.get("guard"):  # untrusted code: the kernel counts its memory
            self.memory_cgroup = MemoryCgroup.create(int(memory))
            if self.memory_cgroup is not None:
                # The cgroup bounds what is really used (shared memory and files included) and
                # counts an OOM kill; RLIMIT_AS would fail first, with nothing counted.
                limits.pop("memory_mb", None)
        processes = limits.get("processes")
        if processes:  # only this worker's tasks: its own, JAX's threads and the learner's
            self.cgroup = PidsCgroup.create(task_room(int(processes)))
        return launch, [c for c in (self.cgroup, self.memory_cgroup) if c is not None]

    def start(self) -> None:
        become_subreaper()
        read_only = (self.compile_cache,) if self.compile_cache else ()
        if self.zygote is not None and not self.zygote.serves(self.sandbox, read_only):
            self.zygote = None  # a fresh interpreter, as before the zygote
        parent = self.zygote.folders if self.zygote is not None else None
        self.directory, self._tmpfs = folder.make(self.role, self.disk_limit_mb, parent)
        self.sandbox.prepare(self.directory)
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        env = worker_environment(self.backend, self.directory, self.device, self.workers_per_device)
        try:
            launch, bounds = self._launch((request_read, reply_write))
            with LIVE_LOCK:  # a sweep in another thread must not take it for a stray
                self.process = self._fork(launch, env, bounds)
                if self.process is None:
                    self.process = subprocess.Popen(
                        enter(bounds, self.sandbox.command(launch)),
                        cwd=self.directory,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        pass_fds=(request_read, reply_write),
                        start_new_session=True,
                        close_fds=True,
                    )
                LIVE_WORKERS.add(self.process.pid)
        finally:
            os.close(request_read)
            os.close(reply_write)
        os.set_blocking(request_write, False)  # a worker that stops reading cannot stall us
        self._request_fd = request_write
        self._reply_fd = reply_read
        self.started_at = time.monotonic()
        for name in ("stdout", "stderr"):
            widen_pipe(getattr(self.process, name).fileno())
            thread = threading.Thread(
                target=self._drain,
                args=(getattr(self.process, name), self._captures[name]),
                name=f"judge-{self.role}-{name}",
                daemon=True,
            )
            thread.start()
            self._drains.append(thread)

    def _fork(
        self, launch: Launch, env: dict[str, str], bounds: list[_Cgroup]
    ) -> ForkedProcess | None:
        """The worker forked by this run's zygote, when its sandbox allows it and the zygote
        works; None: a fresh interpreter instead (no zygote given, ``bwrap``, a failure)."""
        if self.zygote is None:
            return None
        try:
            return self.zygote.fork(launch.config, env, self.directory, launch.fds, bounds)
        except ZygoteError:
            return None

    @staticmethod
    def _drain(stream: Any, capture: Capture) -> None:
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 20)  # a flood drains in big bites
            except OSError:
                break
            if not chunk:
                break
            capture.feed(chunk)
        stream.close()

    def kill(self) -> None:
        """Kill the worker, everything in its process group and every stray it left, and reap
        them all (see ``sweep_strays``)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if isinstance(self.process, ForkedProcess):
            self.process.kill()
        self._reap(10.0)
        with LIVE_LOCK:
            LIVE_WORKERS.discard(self.process.pid)
        for cgroup in (self.cgroup, self.memory_cgroup):
            if cgroup is not None:
                cgroup.kill_all()
        sweep_strays()
        for cgroup in (self.cgroup, self.memory_cgroup):
            if cgroup is not None:
                cgroup.remove()

    def signal_end(self) -> None:
        """Start ending the worker at once (SIGKILL to its process group), without waiting: its
        replies are all read, and whatever it printed is flushed after each request. ``close``
        then reaps it; a pair of workers is thus ended side by side."""
        if self.process is not None and self.process.returncode is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        """End the worker (no idle wait for a graceful exit), kill what remains of its session,
        remove its directory."""
        if self.process is not None:
            self.signal_end()
            self.kill()  # also reaches children the learner left behind in its session
        for fd in (fd for fd in (self._request_fd, self._reply_fd) if fd >= 0):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._request_fd = self._reply_fd = -1
        for thread in self._drains:
            thread.join(timeout=2)
        if self.directory:
            folder.remove(self.directory, self._tmpfs)
            self.directory = ""

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self._reap(0.0) is None and self.process.poll() is None

    # --- messages ----------------------------------------------------------------------------

    def send(self, message: wire.Request) -> int:
        """Send a request; returns its id. A dead worker shows up on the next ``receive``; so
        does one that stopped taking requests (its pipe full for ``send_s`` seconds, or past
        ``deadline``): it is killed, and ``receive`` says it timed out."""
        self._next_id += 1
        framed: dict[str, Any] = {**message, "id": self._next_id}
        self._pending.append(self._next_id)
        if self._stalled is None:
            limit = self._clamp(self.send_s)
            try:
                if not write_within(self._request_fd, wire.encode_message(framed), limit):
                    self._stalled = f"the {self.role} worker took no request for {limit:.1f} s"
                    self.kill()
            except OSError:
                pass  # a closed pipe: the worker is gone, which ``receive`` finds
        return self._next_id

    def _clamp(self, timeout: float) -> float:
        """``timeout``, but never past ``deadline`` (the grading's own end)."""
        end = self.deadline - time.monotonic() if self.deadline is not None else timeout
        return max(min(timeout, end), 0.0)

    def receive(self, timeout: float) -> dict[str, Any]:
        """The next reply, within ``timeout`` seconds.

        Raises WorkerTimeout when none came in time (the worker is left running: the caller
        decides whether to kill it), WorkerDied when the worker exited or sent garbage.
        """
        if self._stalled is not None:
            raise WorkerTimeout(self._stalled)
        deadline = time.monotonic() + self._clamp(timeout)
        while True:
            try:
                message = wire.parse_frame(self._buffer)
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                self.kill()
                raise WorkerDied(f"protocol violation: {exc}", self._returncode()) from None
            if message is not None:
                # Replies come in request order; one that answers another id was forged.
                if self._pending and message.get("id") != self._pending.popleft():
                    self.kill()
                    raise WorkerDied(
                        "protocol violation: a reply that answers no request", self._returncode()
                    )
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout(f"no reply from the {self.role} worker in {timeout:.1f} s")
            ready = readable(self._reply_fd, min(remaining, DISK_CHECK_S))
            self._check_disk()
            if not ready:
                continue
            try:
                chunk = os.read(self._reply_fd, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                code = self._returncode(wait=True)
                raise WorkerDied(f"the {self.role} worker exited (status {code})", code)
            self._buffer.extend(chunk)

    def _check_disk(self) -> None:
        """Kill the worker once its folder holds more than its disk limit: checked while the
        judge waits for a reply, so a flood of files is stopped within a fraction of a second
        (each file is bounded by RLIMIT_FSIZE inside a confined worker)."""
        if self.disk_limit_mb is None or not self.directory:
            return
        pids = folder.descendants(self.process.pid) if self.process is not None else []
        used = folder.bytes_used(self.directory, pids, self.disk_limit_mb * 1024 * 1024)
        if used > self.disk_limit_mb * 1024 * 1024:
            self.disk_used_mb = used // (1024 * 1024)
            self.kill()
            raise WorkerDied(
                f"the {self.role} worker wrote more than {self.disk_limit_mb} MB",
                self._returncode(),
            )

    def request(self, message: wire.Request, timeout: float) -> dict[str, Any]:
        self.send(message)
        return self.receive(timeout)

    def _returncode(self, wait: bool = False) -> int | None:
        if self.process is None:
            return None
        if wait and self._reap(5.0) is None:
            self.kill()
        return self._reap(0.0)

    def _reap(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s for the worker to end; its return code, negative for a
        signal (bubblewrap's 128 + N is read as signal N). Reaped with ``wait4`` so that the
        CPU time it used is known (``cpu_seconds``)."""
        process = self.process
        if process is None:
            return None
        if isinstance(process, ForkedProcess):  # not our child: its pidfd, then the zygote
            code = process.wait(timeout)
            self._cpu_s = process.cpu_s
            return code
        deadline = time.monotonic() + timeout
        while process.returncode is None:
            try:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (Popen.poll): no usage to be had
                process.poll()
                break
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                self._cpu_s = usage.ru_utime + usage.ru_stime
                break
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)
        return self.sandbox.exit_code(process.returncode)

    def process_limit(self) -> str | None:
        """How the kernel bounds this worker's tasks when a cgroup does; None otherwise."""
        cgroup, process = self.cgroup, self.process
        if cgroup is not None and process is not None and cgroup.holds(process.pid):
            return f"pids cgroup: at most {cgroup.limit} tasks, JAX's threads included"
        return None

    def cpu_seconds(self) -> float:
        """CPU time the ended worker used, children it waited for included; 0 if unknown."""
        return self._cpu_s

    # --- captured output ---------------------------------------------------------------------

    def ran_out_of_memory(self) -> bool:
        """Whether the kernel killed the worker for want of memory (its memory cgroup counted an
        OOM kill). A kernel fact, never the learner's output: without a memory cgroup a death
        is a death, whatever the process printed before it."""
        return self.memory_cgroup is not None and self.memory_cgroup.oom_kills() > 0

    def memory_limit(self) -> str | None:
        """How the kernel bounds this worker's memory when a cgroup does; None otherwise."""
        cgroup, process = self.memory_cgroup, self.process
        if cgroup is not None and process is not None and cgroup.holds(process.pid):
            return f"memory cgroup: {cgroup.limit_mb} MB, shared memory and files included"
        return None

    def output(self) -> dict[str, Any]:
        """What the process printed, bounded; call after ``close`` for all of it."""
        out, err = self._captures["stdout"], self._captures["stderr"]
        return {
            "stdout": out.text(),
            "stderr": err.text(),
            "truncated": out.truncated or err.truncated,
            "bytes": {"stdout": out.total, "stderr": err.total},
        }
