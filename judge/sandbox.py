"""Starting, talking to and stopping worker processes.

A worker runs in its own session (so one ``killpg`` reaches everything it started), in a fresh
temporary directory, with a minimal environment and ``python -I`` (no project tree, no user
site-packages on ``sys.path``). Its stdout and stderr are drained by threads that keep the first
``output_limit`` bytes and discard the rest, so a flood neither fills the judge's memory nor
blocks the worker. Replies come over a dedicated pipe that the learner's prints cannot reach.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import worker as wire

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


class WorkerTimeout(Exception):
    """The worker did not answer within the time given."""


class WorkerDied(Exception):
    """The worker exited or broke the protocol. ``returncode`` is negative for a signal."""

    def __init__(self, message: str, returncode: int | None) -> None:
        super().__init__(message)
        self.returncode = returncode


@dataclass
class _Capture:
    """The first ``limit`` bytes of a stream, and how many bytes it carried in all."""

    limit: int
    data: bytearray
    total: int = 0

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data.extend(chunk[:room])
        self.total += len(chunk)

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
    ) -> None:
        self.role = role
        self.backend = backend
        self.output_limit = output_limit
        self.config = {
            "role": role,
            "precision": precision,
            "memory_mb": memory_mb,
            "observe": observe,
        }
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
        self.started_at = 0.0

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.directory = tempfile.mkdtemp(prefix=f"judge-{self.role}-")
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        argv = [
            self.python,
            "-I",
            "-B",
            str(WORKER_SCRIPT),
            str(request_read),
            str(reply_write),
            json.dumps(self.config),
        ]
        try:
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
        """Kill the worker and everything in its session, and reap it."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        """Ask the worker to exit, kill what remains of its session, remove its directory."""
        if self.process is not None:
            if self.process.poll() is None:
                try:
                    wire.send_message(self._request_fd, {"op": "exit"})
                    self.process.wait(timeout=2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
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
        return self.process is not None and self.process.poll() is None

    # --- messages ----------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> int:
        """Send a request; returns its id. A dead worker shows up on the next ``receive``."""
        self._next_id += 1
        message = {**message, "id": self._next_id}
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
        if wait:
            try:
                return self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.poll()

    # --- captured output ---------------------------------------------------------------------

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
