"""The zygote: a process that has imported numpy, JAX, Flax and this runtime, has started no
backend and run no learner code, and forks a worker each time the judge asks.

Why: a fresh interpreter spends most of a worker's start-up importing JAX and Flax (about
0.55 s of 0.6 s on 2 cores); a fork shares those pages instead (less memory too). The zygote
is started by the judge like a worker (``python -I -B``, a minimal environment, its own
session and folder), never forked from the judge, so it holds none of the judge's secrets.

The channel is a ``SOCK_SEQPACKET`` socketpair, one datagram each way per request:

- ``{"op": "fork", "config", "env", "cwd"}`` with five descriptors (the request pipe's read
  end, the reply pipe's write end, the write ends of stdout and stderr, the read end of a "go"
  pipe) -> ``{"pid"}`` with a pidfd of the child (or ``{"error"}``);
- ``{"op": "reap", "pid"}``, sent once that pidfd said the child ended -> ``{"status",
  "cpu_s"}``. The zygote reaps no child unasked, so a pid the judge holds is never reused.

The child, single-threaded (only the forking thread survives a fork), makes itself a new
session, keeps only its own descriptors (the control socket is closed), and waits for the
judge's "go": the judge first places it in its cgroups. Then it takes the worker's folder and
environment and runs ``main.serve``, which limits and confines it exactly as a fresh worker
(rlimits, death with its parent, Landlock and seccomp, then JAX's backend, then the guard at
load). The backend is started in the child, never here: XLA's threads and a GPU context do not
survive a fork, and JAX reads its platform (``JAX_PLATFORMS``) again in the child.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from typing import Any

from .kernel import PR_SET_DUMPABLE, PR_SET_PDEATHSIG, prctl

# What a worker has imported by the time it is ready: imported here once, shared by every fork.
WARM = ("numpy", "jax", "jax.numpy", "flax", "flax.linen")
FDS_PER_FORK = 5
CHILD_FAILED = 70  # EX_SOFTWARE: the child could not become a worker


def _warm() -> str | None:
    """Import what workers need, without starting a backend; why it failed, or None."""
    try:
        for name in WARM:
            __import__(name)
        from . import confine, guard, lowering, observer, session, wire  # noqa: F401
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _close_others(keep: set[int]) -> None:
    """Close every descriptor but ``keep``: the control socket and anything the zygote held."""
    for entry in os.listdir("/proc/self/fd"):
        fd = int(entry)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, already closed


def _become_worker(request: dict[str, Any], fds: list[int]) -> int:
    """In the child: a session, its descriptors, the judge's go, its folder and environment,
    then the worker itself. Returns its exit status."""
    os.setsid()
    request_fd, reply_fd, out_fd, err_fd, go_fd = fds
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    _close_others({0, 1, 2, request_fd, reply_fd, go_fd})
    if os.read(go_fd, 1) != b"g":  # the judge could not place it, or is gone
        return CHILD_FAILED
    os.close(go_fd)
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})
    import tempfile

    import jax

    tempfile.tempdir = None  # TMPDIR is the worker's folder now, not the zygote's
    if os.environ.get("JAX_PLATFORMS"):  # read by JAX at import, in the zygote's environment
        jax.config.update("jax_platforms", os.environ["JAX_PLATFORMS"])
    prctl(PR_SET_DUMPABLE, 1)  # as a fresh worker; the reference's turns it off again
    # As a fresh worker's (``-c REQ RESP CONFIG``): the learner sees the same process either way.
    sys.argv = ["-c", str(request_fd), str(reply_fd), json.dumps(request["config"])]
    from .main import serve

    return serve(request_fd, reply_fd, request["config"])


def _fork(control: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """Fork one worker and send its pid and pidfd; the child never returns here."""
    if len(fds) != FDS_PER_FORK:
        control.send(json.dumps({"error": f"expected {FDS_PER_FORK} descriptors"}).encode())
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = CHILD_FAILED
        control.close()  # first: the learner must never hold the zygote's channel
        try:
            code = _become_worker(request, fds)
        except BaseException as exc:
            try:
                os.write(2, f"worker failed to start: {type(exc).__name__}: {exc}\n".encode())
            except OSError:
                pass
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(code)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    try:
        socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [pidfd])
    finally:
        os.close(pidfd)


def _reap(control: socket.socket, pid: int) -> None:
    reply: dict[str, Any]
    try:
        _, status, usage = os.wait4(pid, 0)
        reply = {"status": status, "cpu_s": usage.ru_utime + usage.ru_stime}
    except ChildProcessError as exc:
        reply = {"error": str(exc)}
    control.send(json.dumps(reply).encode())


def main(argv: list[str]) -> int:
    """``argv``: ``[_, CONTROL_FD]``. Serves until the judge closes its end."""
    parent = os.getppid()
    if prctl(PR_SET_PDEATHSIG, signal.SIGKILL) and os.getppid() != parent:
        return 0  # the judge died before the call: nothing outlives it
    prctl(PR_SET_DUMPABLE, 0)  # another process of the same user cannot read or trace it
    control = socket.socket(fileno=int(argv[1]))
    broken = _warm()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, FDS_PER_FORK)
        except OSError:
            return 0
        if not message:
            return 0
        request = json.loads(message)
        if request.get("op") == "reap":
            _reap(control, int(request["pid"]))
        elif broken is not None:
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"error": broken}).encode())
        else:
            _fork(control, request, fds)
