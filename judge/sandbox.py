"""Starting, talking to and stopping worker processes.

A worker runs in its own session, in a fresh temporary directory, with a minimal environment
and ``python -I`` (no project tree, no user site-packages on ``sys.path``). Its stdout and
stderr are drained by threads that keep the first ``output_limit`` bytes and discard the rest,
so a flood neither fills the judge's memory nor blocks the worker. Replies come over a dedicated
pipe that the learner's prints cannot reach, and each must carry the id of the request it
answers.

Two isolation levels (README, "Isolation"):

- ``none``: process isolation. The judge makes itself a child subreaper, so a learner's process
  that double-forks and calls ``setsid`` is re-parented to the judge instead of init, and is
  killed by the sweep that follows every worker's end.
- ``bwrap``: the same worker inside bubblewrap: a PID namespace (killing the sandbox kills
  everything in it), no network, a read-only system, a private /tmp, and the problem, the
  reference, the project and the judge's working folder replaced by empty folders.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import select
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import worker as wire
from .errors import SandboxUnavailable

WORKER_SCRIPT = Path(wire.__file__).resolve()

# Variables a worker may inherit: what the platform needs to find Python, CUDA and TPUs.
_PASSTHROUGH = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "TPU_VISIBLE_CHIPS",
    "XLA_FLAGS",
    "SYSTEMROOT",
)


SANDBOXES = ("auto", "bwrap", "none")
OUT_OF_MEMORY_MARKERS = (
    "std::bad_alloc",
    "Out of memory",
    "out of memory",
    "RESOURCE_EXHAUSTED",
    "Cannot allocate memory",
    "MemoryError",
)
# Where the worker script is mounted inside the sandbox (a private /tmp).
_SCRIPT_INSIDE = "/tmp/.judge/worker.py"


# --- stray processes --------------------------------------------------------------------------

_LIVE_LOCK = threading.Lock()
_LIVE_WORKERS: set[int] = set()  # pids of the workers this process started and still owns
_PR_SET_CHILD_SUBREAPER = 36


@functools.cache
def _become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux 3.4+).

    Then a learner's process that double-forks, or calls ``setsid``, is re-parented to the judge
    rather than to init when its parents die, and ``sweep_strays`` can find and kill it.
    """
    return sys.platform.startswith("linux") and wire.prctl(_PR_SET_CHILD_SUBREAPER, 1)


def _processes() -> Iterable[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every process visible in /proc."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain anything: parse from its end.
        fields = stat[stat.rfind(b")") + 2 :].split()
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
        with _LIVE_LOCK:
            known = set(_LIVE_WORKERS)
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
    with _LIVE_LOCK:
        pids = list(_LIVE_WORKERS)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return len(pids)


# --- the process limit for root: a pids cgroup ------------------------------------------------

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


# --- the bubblewrap sandbox ------------------------------------------------------------------


@functools.cache
def bwrap_problem() -> str | None:
    """Why ``--sandbox bwrap`` cannot be used here, or None when it can."""
    path = shutil.which("bwrap")
    if path is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        done = subprocess.run(
            [path, *_bwrap_namespaces(), "--ro-bind", "/", "/", "--proc", "/proc", "true"],
            capture_output=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap did not run: {exc}"
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        return f"bubblewrap cannot create namespaces here: {' '.join(detail) or 'failed'}"
    return None


def resolve_sandbox(choice: str) -> str:
    """``auto`` -> ``bwrap`` where it works, else ``none``; ``bwrap`` where it cannot run is an
    error (the caller asked for a guarantee that would silently be missing)."""
    if choice not in SANDBOXES:
        raise SandboxUnavailable(f"--sandbox {choice}: expected one of {', '.join(SANDBOXES)}")
    if choice == "none":
        return "none"
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if choice == "bwrap":
        raise SandboxUnavailable(f"--sandbox bwrap: {problem}")
    return "none"


def _bwrap_namespaces() -> list[str]:
    # Every namespace, and no capability left inside (root included): nothing in the sandbox
    # may mount, unmount (to uncover a hidden folder) or trace.
    return ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]


@functools.cache
def python_paths(python: str) -> list[str]:
    """Folders the worker's Python needs to see: its installation and its site-packages.
    Computed once per interpreter: callers must not change the list."""
    found = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.dirname(os.path.realpath(python))),
        *site.getsitepackages(),
        *(sysconfig.get_paths().get(k, "") for k in ("stdlib", "platstdlib", "purelib", "platlib")),
    }
    paths = sorted(os.path.realpath(p) for p in found if p and p != "/" and os.path.isdir(p))
    return [p for p in paths if not any(p.startswith(q + os.sep) for q in paths if q != p)]


def bwrap_argv(
    workdir: str,
    hide: Iterable[str | Path],
    backend: str,
    python: str,
    read_only: Iterable[str] = (),
) -> list[str]:
    """The bubblewrap command line a worker's ``python`` runs under.

    Order matters: the system read-only first, then empty folders over what must stay hidden,
    then the Python installation and ``read_only`` folders again (they may live under a hidden
    folder, e.g. a project's .venv), then the worker's own folder, the only writable one.
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    argv = [bwrap, *_bwrap_namespaces(), "--ro-bind", "/", "/"]
    # CPU needs no device; GPUs and TPUs need theirs.
    argv += ["--dev", "/dev"] if backend == "cpu" else ["--dev-bind", "/dev", "/dev"]
    argv += ["--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run"]
    for path in sorted({os.path.realpath(p) for p in hide}):
        if path != "/" and os.path.isdir(path):
            argv += ["--tmpfs", path]
    for path in [*python_paths(python), *read_only]:
        if os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    argv += ["--bind", workdir, workdir, "--ro-bind", str(WORKER_SCRIPT), _SCRIPT_INSIDE]
    argv += ["--chdir", workdir]
    return argv


class WorkerTimeout(Exception):
    """The worker did not answer within the time given."""


class WorkerDied(Exception):
    """The worker exited or broke the protocol. ``returncode`` is negative for a signal."""

    def __init__(self, message: str, returncode: int | None) -> None:
        super().__init__(message)
        self.returncode = returncode


_TAIL_BYTES = 4096


@dataclass
class _Capture:
    """The first ``limit`` bytes of a stream, and how many bytes it carried in all."""

    limit: int
    data: bytearray
    total: int = 0
    tail: bytes = b""  # the last bytes too: a crash explains itself at the end

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data.extend(chunk[:room])
        self.total += len(chunk)
        self.tail = (self.tail + chunk[-_TAIL_BYTES:])[-_TAIL_BYTES:]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.data)

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def worker_environment(backend: str, home: str) -> dict[str, str]:
    """The environment a worker starts with: pass-through variables plus JAX's settings."""
    env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
    env.update(
        {
            "HOME": home,
            "TMPDIR": home,
            "JAX_PLATFORMS": backend,
            # Two processes (reference and learner) share a GPU: neither may take 75% of it.
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONIOENCODING": "utf-8",
        }
    )
    env.setdefault("LANG", "C.UTF-8")
    return env


class Worker:
    """One worker process and the channel to it. Use as a context manager."""

    def __init__(
        self,
        *,
        role: str,
        backend: str,
        precision: str,
        memory_mb: int | None,
        output_limit: int,
        python: str | None = None,
        observe: bool = False,
        cpu_s: float | None = None,
        processes: int | None = None,
        sandbox: str = "none",
        hide: Iterable[str | Path] = (),
        guard: bool = False,
        compile_cache: str | Path | None = None,
    ) -> None:
        self.role = role
        self.backend = backend
        self.output_limit = output_limit
        self.sandbox = sandbox
        self.hide = [str(p) for p in hide]
        self.config = {
            "role": role,
            "precision": precision,
            "memory_mb": memory_mb,
            "cpu_s": cpu_s,
            "processes": processes,
            "observe": observe,
            "guard": guard,
            "protect": self.hide,
            "allow": list(python_paths(python or sys.executable)),  # extended below
        }
        # JAX's persistent compilation cache: written by the reference's worker only; the
        # learner's reads it (see judge/cache.py).
        self.cgroup: PidsCgroup | None = None
        self.compile_cache = str(compile_cache) if compile_cache else None
        if self.compile_cache:
            self.config["compile_cache"] = {"dir": self.compile_cache, "write": role != "learner"}
            self.config["allow"].append(self.compile_cache)
        self.python = python or sys.executable
        self.directory = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._request_fd = -1
        self._reply_fd = -1
        self._buffer = bytearray()
        self._captures = {
            "stdout": _Capture(output_limit, bytearray()),
            "stderr": _Capture(output_limit, bytearray()),
        }
        self._drains: list[threading.Thread] = []
        self._next_id = 0
        self._pending: collections.deque[int] = collections.deque()
        self._cpu_s = 0.0
        self.started_at = 0.0

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        _become_subreaper()
        self.directory = tempfile.mkdtemp(prefix=f"judge-{self.role}-")
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        script = str(WORKER_SCRIPT)
        prefix: list[str] = []
        if self.sandbox == "bwrap":
            prefix = bwrap_argv(
                self.directory,
                self.hide,
                self.backend,
                self.python,
                [self.compile_cache] if self.compile_cache else [],
            )
            script = _SCRIPT_INSIDE
        argv = [
            *prefix,
            self.python,
            "-I",
            "-B",
            script,
            str(request_read),
            str(reply_write),
            json.dumps(self.config),
        ]
        processes = self.config.get("processes")
        if processes:  # room for JAX's own threads, as for RLIMIT_NPROC in the worker
            self.cgroup = PidsCgroup.create(int(processes) + 24 * (os.cpu_count() or 1) + 64)
            if self.cgroup is not None:
                argv = self.cgroup.wrap(argv)
        try:
            with _LIVE_LOCK:  # a sweep in another thread must not take it for a stray
                self.process = subprocess.Popen(
                    argv,
                    cwd=self.directory,
                    env=worker_environment(self.backend, self.directory),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    pass_fds=(request_read, reply_write),
                    start_new_session=True,
                    close_fds=True,
                )
                _LIVE_WORKERS.add(self.process.pid)
        finally:
            os.close(request_read)
            os.close(reply_write)
        self._request_fd = request_write
        self._reply_fd = reply_read
        self.started_at = time.monotonic()
        for name in ("stdout", "stderr"):
            stream = getattr(self.process, name)
            thread = threading.Thread(
                target=self._drain,
                args=(stream, self._captures[name]),
                name=f"judge-{self.role}-{name}",
                daemon=True,
            )
            thread.start()
            self._drains.append(thread)

    @staticmethod
    def _drain(stream: Any, capture: _Capture) -> None:
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
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
        self._reap(10.0)
        with _LIVE_LOCK:
            _LIVE_WORKERS.discard(self.process.pid)
        if self.cgroup is not None:
            self.cgroup.kill_all()
        sweep_strays()
        if self.cgroup is not None:
            self.cgroup.remove()

    def close(self) -> None:
        """Ask the worker to exit, kill what remains of its session, remove its directory."""
        if self.process is not None:
            if self._reap(0.0) is None:
                try:
                    wire.send_message(self._request_fd, {"op": "exit"})
                except OSError:
                    pass
                self._reap(2.0)
            self.kill()  # also reaches children the learner left behind in its session
        for fd in (self._request_fd, self._reply_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._request_fd = self._reply_fd = -1
        for thread in self._drains:
            thread.join(timeout=2)
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
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

    def send(self, message: dict[str, Any]) -> int:
        """Send a request; returns its id. A dead worker shows up on the next ``receive``."""
        self._next_id += 1
        message = {**message, "id": self._next_id}
        self._pending.append(self._next_id)
        try:
            wire.send_message(self._request_fd, message)
        except OSError:
            pass
        return self._next_id

    def receive(self, timeout: float) -> dict[str, Any]:
        """The next reply, within ``timeout`` seconds.

        Raises WorkerTimeout when none came in time (the worker is left running: the caller
        decides whether to kill it), WorkerDied when the worker exited or sent garbage.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                message = wire.parse_frame(self._buffer)
            except (ValueError, UnicodeDecodeError) as exc:
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
            ready, _, _ = select.select([self._reply_fd], [], [], remaining)
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

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
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
        code = process.returncode
        if self.sandbox == "bwrap" and code is not None and 128 < code < 128 + 65:
            return -(code - 128)
        return code

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
        """Whether the end of stderr says an allocation failed: XLA aborts the process when it
        cannot allocate under the address-space limit, rather than raising MemoryError."""
        tail = self._captures["stderr"].tail.decode("utf-8", errors="replace")
        return any(marker in tail for marker in OUT_OF_MEMORY_MARKERS)

    def output(self) -> dict[str, Any]:
        """What the process printed, bounded; call after ``close`` for all of it."""
        out, err = self._captures["stdout"], self._captures["stderr"]
        return {
            "stdout": out.text(),
            "stderr": err.text(),
            "truncated": out.truncated or err.truncated,
            "bytes": {"stdout": out.total, "stderr": err.total},
        }


def probe_backends(python: str | None = None, timeout: float = 60.0) -> list[str]:
    """Which of cpu, gpu and tpu JAX can start here, asked of a fresh process."""
    code = (
        "import jax\nfound=[]\nfor p in ('cpu','gpu','tpu'):\n  try:\n    jax.devices(p)\n"
        "    found.append(p)\n  except Exception:\n    pass\nprint(','.join(found))"
    )
    with tempfile.TemporaryDirectory(prefix="judge-probe-") as home:
        env = worker_environment("", home)
        try:
            done = subprocess.run(
                [python or sys.executable, "-I", "-c", code],
                env=env,
                cwd=home,
                capture_output=True,
                text=True,
                timeout=timeout,
                start_new_session=True,
            )
        except (OSError, subprocess.TimeoutExpired):
            return []
    lines = done.stdout.strip().splitlines()
    return [p for p in lines[-1].split(",") if p] if lines else []
