"""The check server: one judge process per kernel, kept between ``judge.check`` calls.

A check in a fresh process pays, every time, for the judge's imports and for a zygote that
imports JAX and Flax (see ``judge.sandbox.zygote``): most of a short check. The kernel
therefore starts ``python -m judge.notebook.server KERNEL_PID`` once, at its first check, and
sends it every later one; the zygote it keeps forks each grading's workers, so the learner's
code still runs only in those workers, never in the server or the zygote. A second check is
graded by warm imports, a warm zygote and the in-memory reference results (``grading.memo``,
keyed by the reference's content), and the server keeps nothing else of a check.

The line between them: one JSON request per line on the server's stdin, one JSON reply per
line on its stdout (a copy of it taken before anything runs: the judge's own prints go to
stderr, a log file the kernel reads only to name a failure). The server is one per kernel,
for one environment (``_key``): backend, sandbox and problems are per request, and the
server starts the zygote each asks for.

Nothing outlives the kernel: the server ends on EOF of its stdin, on SIGTERM, which the Linux
kernel sends it when the kernel process dies (``PR_SET_PDEATHSIG``), and on SIGINT (the
kernel's interrupt, a timeout); its zygotes and workers die with it. The kernel stops it at
exit, kills its whole tree when it does not end, and starts a new one for the next check after
an interrupt, a timeout, a server that died, or another environment.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import itertools
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
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

STOP_GRACE_S = 10.0  # for the server to stop its workers after SIGINT, before it is killed
EXIT_GRACE_S = 5.0  # for the server to end on EOF when the kernel exits
_LOG = "server.log"


class ServerGone(Exception):
    """The server ended, or its pipe broke, before it replied (the check may retry once)."""


def _wait(fd: int, events: int, deadline: float | None) -> None:
    """Until ``fd`` is ready for ``events``; TimeoutError past ``deadline`` (monotonic)."""
    poller = select.poll()
    poller.register(fd, events | select.POLLHUP | select.POLLERR)
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError
        if poller.poll(None if left is None else max(1, int(left * 1000))):
            return


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (from /proc), the deepest last: the workers the zygote
    forked are in sessions of their own, out of reach of a kill of the server's group."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
            parent = int(stat[stat.rfind(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        below = children.get(todo.pop(), [])
        found.extend(below)
        todo.extend(below)
    return found


class CheckServer:
    """The kernel's handle on one server process: start, ask, stop."""

    def __init__(self, key: str) -> None:
        self.key, self.owner, self.served = key, os.getpid(), 0
        self.folder = tempfile.mkdtemp(prefix="judge-check-server-")
        command = [sys.executable, "-m", "judge.notebook.server", str(os.getpid())]
        with open(Path(self.folder) / _LOG, "ab") as log:  # append: the server may truncate
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True,  # a terminal's Ctrl-C reaches it only through stop()
            )  # fmt: skip
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in, self._out = self.process.stdin.fileno(), self.process.stdout.fileno()
        os.set_blocking(self._in, False)  # a deadline holds even while it is not reading

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, request: dict[str, Any], deadline: float | None) -> dict[str, Any]:
        """Send one request, wait for its reply (ServerGone, TimeoutError, KeyboardInterrupt)."""
        self._send(json.dumps(request).encode("utf-8") + b"\n", deadline)
        try:
            reply = json.loads(self._receive(deadline))
        except ValueError:  # half a line: it ended while writing
            raise ServerGone("a reply cut short") from None
        if not isinstance(reply, dict) or reply.pop("id", None) != request["id"]:
            raise ServerGone("a reply to another request")
        self.served += 1
        return reply

    def _send(self, data: bytes, deadline: float | None) -> None:
        view = memoryview(data)
        while view:
            _wait(self._in, select.POLLOUT, deadline)
            try:
                view = view[os.write(self._in, view) :]
            except BlockingIOError:
                continue
            except OSError as exc:  # a broken pipe: it has ended
                raise ServerGone(str(exc)) from None

    def _receive(self, deadline: float | None) -> bytes:
        chunks: list[bytes] = []
        while not chunks or b"\n" not in chunks[-1]:
            _wait(self._out, select.POLLIN, deadline)
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise ServerGone("it ended")
            chunks.append(chunk)
        return b"".join(chunks).split(b"\n", 1)[0]

    def failure(self) -> str:
        """One line for a server that ended without a reply: its exit and last log line."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(1.0)
        try:
            lines = (Path(self.folder) / _LOG).read_text("utf-8", "replace").strip()
        except OSError:
            lines = ""
        last = lines.splitlines()[-1] if lines else "no output"
        return f"the grading process failed (exit {self.process.returncode}): {last}"

    def stop(self, eof_first: bool = False) -> None:
        """End it: EOF (at the kernel's exit) or SIGINT, so that it stops its workers and
        zygotes itself; its whole tree killed when it does not end in time."""
        try:
            if self.alive():
                if eof_first:
                    self._close_pipes()
                else:
                    self.process.send_signal(signal.SIGINT)
                self.process.wait(EXIT_GRACE_S if eof_first else STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        finally:  # also on a second interrupt: then it is killed at once
            self._finish()

    def _kill_tree(self) -> None:
        for pid in [self.pid, *_descendants(self.pid)]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)

    def _close_pipes(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()

    def _finish(self) -> None:
        if self.alive():
            self._kill_tree()
        self.process.wait()
        self._close_pipes()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- the kernel's side: one server at a time ---

_LOCK = threading.Lock()  # one check at a time on the line (a kernel's threads)
_SERVER: CheckServer | None = None
_IDS = itertools.count(1)


def _key() -> str:
    """What a server is started for: the python and the whole environment (JUDGE_CACHE_DIR,
    JAX's variables, ...), read by the judge and its zygotes once, at their start."""
    items = json.dumps(sorted(os.environ.items()))
    return hashlib.sha256(f"{sys.executable}\0{items}".encode()).hexdigest()


def _server() -> CheckServer:
    """The running server for this environment; a new one when there is none, it died, the
    environment changed, or it belongs to the process this one was forked from."""
    global _SERVER
    server, key = _SERVER, _key()
    if server is not None and (server.owner != os.getpid()):
        server = _SERVER = None  # the parent's: neither used nor stopped here
    if server is not None and (server.key != key or not server.alive()):
        _drop()
    if _SERVER is None:
        _SERVER = CheckServer(key)
    return _SERVER


def _drop() -> None:
    """Forget the server, then stop it (forgotten first: an interrupt while it stops must not
    leave it in use)."""
    global _SERVER
    server, _SERVER = _SERVER, None
    if server is not None:
        server.stop()


def current_pid() -> int | None:
    """The pid of this kernel's server, None when there is none (for the tests and bench)."""
    server = _SERVER
    return server.pid if server is not None and server.owner == os.getpid() else None


def ask(request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """Grade ``request`` in the server: its reply, or a one-line error. A server that had
    answered before and is found dead is replaced, and the check tried once more; an interrupt
    or the timeout stops the server (the next check starts a new one)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    request = {**request, "cwd": os.getcwd()}
    with _LOCK:
        for attempt in (1, 2):
            try:
                server = _server()
            except OSError as exc:
                return {"kind": "error", "message": f"the grading process could not start: {exc}"}
            request["id"] = next(_IDS)
            try:
                return server.ask(request, deadline)
            except ServerGone:
                message = server.failure()
                _drop()
                if not server.served or attempt == 2:
                    return {"kind": "error", "message": message}
            except TimeoutError:
                _drop()
                return {"kind": "error", "message": f"no report within timeout={timeout:g} s; "
                        "the grading was stopped"}  # fmt: skip
            except KeyboardInterrupt:  # the kernel was interrupted: so is the grading
                _drop()
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@atexit.register
def shutdown() -> None:
    """At the kernel's exit: the server ends on EOF (killed, with its tree, if it does not)."""
    global _SERVER
    server, _SERVER = _SERVER, None
    if server is not None and server.owner == os.getpid():
        server.stop(eof_first=True)


# --- the server's side ---


def _terminated(signum: int, _: Any) -> None:
    raise SystemExit(128 + signum)


def _take_pipes() -> tuple[IO[bytes], int]:
    """The request and reply pipes, as private copies; stdin then reads nothing and stdout
    writes to stderr, so nothing the judge (or a library) prints can corrupt a reply."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return requests, replies


def _die_with(parent: int) -> None:
    """End (SIGTERM, cleaned up) when the kernel process dies, even mid-grading."""
    from ..runtime.kernel import PR_SET_PDEATHSIG, prctl

    signal.signal(signal.SIGTERM, _terminated)
    if prctl(PR_SET_PDEATHSIG, signal.SIGTERM) and os.getppid() != parent:
        raise SystemExit(0)  # it died before the call: no signal will come


def _answer(request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the reply, whether the server must end): the zygote this request's options need is
    started first, so that its imports overlap the judge's (as ``judge.launch`` does)."""
    from ..sandbox import zygote

    with contextlib.suppress(OSError):
        os.ftruncate(2, 0)  # the log holds this check's lines only
    options = request.get("options") or {}
    try:
        os.chdir(str(request.get("cwd") or "."))  # problems/ and relative paths: the kernel's
        zygote.prestart(sys.executable, str(options.get("backend", "cpu")),
                        str(options.get("sandbox", "auto")))  # fmt: skip
        from . import runner

        return runner.answer(request), False
    except Exception as exc:  # a bug of the judge: said in one line, then a fresh server
        traceback.print_exc()
        message = f"the grading process failed: {type(exc).__name__}: {exc}"
        return {"kind": "error", "message": message}, True


def _lines(requests: IO[bytes]) -> Iterator[dict[str, Any]]:
    for line in requests:  # ends on EOF: the kernel closed the pipe, or died
        yield json.loads(line)


def serve(parent: int) -> int:
    """Answer requests until EOF (0), SIGINT (130) or SIGTERM; zygotes and workers end too."""
    requests, replies = _take_pipes()
    try:
        _die_with(parent)
        for request in _lines(requests):
            reply, fatal = _answer(request)
            data = memoryview(json.dumps({**reply, "id": request.get("id")}).encode() + b"\n")
            while data:
                data = data[os.write(replies, data) :]
            if fatal:
                return 1
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        _clean_up()


def _clean_up() -> None:
    """Kill this server's workers and end its zygotes (also ``zygote.close_all`` at exit)."""
    if "judge.sandbox" in sys.modules:
        from ..sandbox import kill_all_workers, zygote

        kill_all_workers()
        zygote.close_all()


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()))
