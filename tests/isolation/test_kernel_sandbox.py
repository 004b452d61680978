# ruff: noqa: E501  (the attack file is data, one attempt per line)
"""The default sandbox holds by the kernel alone: with the guard OFF, code in a Landlock +
seccomp worker tries every route out, and each is refused.

One worker loads an attack file that records, for each attempt, what happened; the test then
checks the records and the world outside (files not written, processes alive and unsignalled).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import pytest
from test_hostile import load_unguarded

from judge.sandbox import Worker, bwrap_problem, landlock_problem

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(landlock_problem() is not None, reason=f"no Landlock: {landlock_problem()}"),
]
SANDBOXES = [
    "landlock",
    pytest.param(
        "bwrap", marks=pytest.mark.skipif(bwrap_problem() is not None, reason="no bubblewrap")
    ),
]
ROOT = Path(__file__).resolve().parents[2]

ATTACKS = r"""
import ctypes, json, os, signal, socket, sys
R = {}
def attempt(name, action):
    try:
        got = action()
        R[name] = "allowed: " + repr(got)[:80]
    except BaseException as exc:
        R[name] = "denied: " + type(exc).__name__

class Flip:  # a path that answers differently on its second call
    calls = 0
    def __fspath__(self):
        Flip.calls += 1
        return "ok.txt" if Flip.calls == 1 else REFERENCE

def read(path):
    with open(path, "rb") as handle:
        return handle.read(10)

root_fd = lambda: os.open("/", os.O_RDONLY | os.O_DIRECTORY)
libc = ctypes.CDLL(None, use_errno=True)
attempt("reference", lambda: read(REFERENCE))
attempt("reference_dir_fd", lambda: os.read(os.open(REFERENCE.lstrip("/"), os.O_RDONLY, dir_fd=root_fd()), 10))
attempt("reference_fspath", lambda: read(Flip()))
attempt("etc_shadow", lambda: read("/etc/shadow"))
attempt("home", lambda: os.listdir(os.path.expanduser("~root")))
attempt("parent_environ", lambda: read(f"/proc/{os.getppid()}/environ"))
attempt("proc_listing", lambda: os.listdir("/proc"))
attempt("write_tmp", lambda: open(OUTSIDE, "w").write("x"))
attempt("symlink_then_read", lambda: (os.symlink("/etc/shadow", "link"), read("link")))
attempt("mkfifo_outside", lambda: os.mkfifo(OUTSIDE + ".fifo"))
attempt("fork", lambda: os.fork())
attempt("posix_spawn", lambda: os.posix_spawn("/bin/true", ["true"], {}))
attempt("libc_system", lambda: (_ for _ in ()).throw(OSError()) if libc.system(b"touch " + OUTSIDE.encode() + b".sys") else "ran")
attempt("signal_parent", lambda: os.kill(os.getppid(), 0))
attempt("signal_sibling", lambda: os.kill(SIBLING, signal.SIGTERM))
attempt("pidfd_signal", lambda: signal.pidfd_send_signal(os.pidfd_open(SIBLING), signal.SIGTERM))
attempt("prlimit_parent", lambda: __import__("resource").prlimit(os.getppid(), __import__("resource").RLIMIT_NOFILE, (1, 1)))
# Harmless values (the worker's own nice, the default I/O class), were they allowed.
NICE = os.getpriority(os.PRIO_PROCESS, 0)
IOPRIO_SET = {"x86_64": 251, "aarch64": 30}[os.uname().machine]
def sys_call(*args):
    if libc.syscall(*args) == -1:
        raise OSError(ctypes.get_errno(), "refused")
attempt("renice_user", lambda: os.setpriority(os.PRIO_USER, 0, NICE))
attempt("renice_group", lambda: os.setpriority(os.PRIO_PGRP, 0, NICE))
attempt("ioprio_user", lambda: sys_call(IOPRIO_SET, 3, 0, 0))  # IOPRIO_WHO_USER
attempt("ioprio_group", lambda: sys_call(IOPRIO_SET, 2, 0, 0))  # IOPRIO_WHO_PGRP
attempt("renice_self", lambda: os.setpriority(os.PRIO_PROCESS, 0, NICE))
attempt("ioprio_self", lambda: sys_call(IOPRIO_SET, 1, 0, 0))
attempt("tcp_connect", lambda: socket.create_connection(("127.0.0.1", PORT), 2))
attempt("listen_unbound", lambda: socket.socket().listen())
attempt("memfd", lambda: os.memfd_create("big"))
attempt("dev_shm", lambda: open("/dev/shm/judge-" + str(os.getpid()), "w"))
attempt("cgroup_move", lambda: open("/sys/fs/cgroup/pids/cgroup.procs", "w").write(str(os.getpid())))
attempt("unshare", lambda: os.unshare(os.CLONE_NEWUSER))
attempt("own_folder", lambda: open("ok.txt", "w").write("fine"))
with open("results.json", "w") as handle:
    json.dump(R, handle)

def nn_vmap_forward(seed, x_batch, features):
    return None
"""

MUST_BE_DENIED = [
    "reference",
    "reference_dir_fd",
    "reference_fspath",
    "etc_shadow",
    "home",
    "parent_environ",
    "proc_listing",
    "write_tmp",
    "symlink_then_read",
    "mkfifo_outside",
    "fork",
    "posix_spawn",
    "libc_system",
    "signal_parent",
    "signal_sibling",
    "pidfd_signal",
    "prlimit_parent",
    "renice_user",
    "renice_group",
    "ioprio_user",
    "ioprio_group",
    "tcp_connect",
    "listen_unbound",
    "memfd",
    "dev_shm",
    "cgroup_move",
    "unshare",
]


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_every_route_out_is_refused_by_the_kernel_with_the_guard_off(
    tmp_path: Path, sandbox: str
) -> None:
    outside = f"/tmp/judge-escape-{uuid.uuid4().hex}"
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    reference = str(ROOT / "reference" / "nn_vmap_forward.py")
    try:
        with Worker(
            role="learner",
            backend="cpu",
            precision="highest",
            sandbox=sandbox,
            guard=False,
        ) as worker:
            source = (
                f"REFERENCE = {reference!r}\nOUTSIDE = {outside!r}\n"
                f"SIBLING = {sibling.pid}\nPORT = {listener.getsockname()[1]}\n"
            ) + textwrap.dedent(ATTACKS)
            hello, _ = load_unguarded(worker, "attacks.py", source)
            assert hello["confined"]["fs"] == "allowlist", hello
            results = json.loads((Path(worker.directory) / "results.json").read_text())
        allowed = {
            k: v for k, v in results.items() if k in MUST_BE_DENIED and v.startswith("allowed")
        }
        assert allowed == {}, allowed
        assert results["own_folder"].startswith("allowed"), results
        # Only the caller itself: a learner's os.nice() still works.
        assert results["renice_self"].startswith("allowed"), results
        assert results["ioprio_self"].startswith("allowed"), results
        assert not any(Path(p).exists() for p in (outside, outside + ".fifo", outside + ".sys"))
        assert sibling.poll() is None  # not signalled
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody connected
    finally:
        sibling.send_signal(signal.SIGKILL)
        sibling.wait()
        listener.close()
        for suffix in ("", ".fifo", ".sys"):
            if os.path.exists(outside + suffix):
                os.remove(outside + suffix)


ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: tmpfs folders, cgroups")


@ROOT_ONLY
def test_a_setuid_file_deep_in_the_folder_neither_works_nor_outlives_grading(
    tmp_path: Path,
) -> None:
    """The learner's folder is a nosuid tmpfs: a setuid-root file made there is inert, and a
    tree deeper than any recursion limit is still removed."""
    from judge import GradeOptions, Verdict, grade

    source = tmp_path / f"solution_{uuid.uuid4().hex}.py"  # its copy names its folder
    source.write_text(
        textwrap.dedent(
            """
            import os
            os.chmod(".", 0o755)
            for _ in range(1300):
                os.mkdir("d")
                os.chdir("d")
            with open("evil", "w") as handle:
                handle.write("#!/bin/sh\\nid -u\\n")
            os.chmod("evil", 0o4755)
            MOUNT = open("/proc/self/mountinfo").read()
            def nn_vmap_forward(seed, x_batch, features):
                return None
            """
        )
    )
    report = grade(source, "nn_vmap_forward", GradeOptions(shrink=False, limits={"call_s": 8.0}))
    # However far it got (a deep tree is slow to make under the guard), grading ended cleanly
    assert report.verdict is not Verdict.JUDGE_ERROR, report.summary
    left = list(Path(tempfile.gettempdir()).glob(f"judge-learner-*/{source.name}"))
    assert left == [], f"folders left behind: {left}"


@ROOT_ONLY
def test_out_of_memory_text_without_memory_pressure_is_an_exception(tmp_path: Path) -> None:
    from judge import GradeOptions, Verdict, grade

    source = tmp_path / "solution.py"
    source.write_text(
        "def nn_vmap_forward(seed, x_batch, features):\n"
        "    raise RuntimeError('RESOURCE_EXHAUSTED: Out of memory (not really)')\n"
    )
    report = grade(source, "nn_vmap_forward", GradeOptions(shrink=False, limits={"call_s": 8.0}))
    if report.environment["limits_enforced"].get("memory_mb", "").startswith("memory cgroup"):
        assert report.verdict is Verdict.RUNTIME_ERROR, report.summary
        assert report.diagnostics[0].code == "exception"
    else:
        pytest.skip("no memory cgroup here: the worker's classification stands")


def test_without_bubblewrap_the_default_grades_under_landlock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh machine has no bubblewrap: ``--sandbox auto`` (the default) must then confine
    the learner with Landlock and seccomp, not fall back, whatever this machine has installed."""
    from judge import GradeOptions, Verdict, grade, sandbox

    monkeypatch.setattr(sandbox.BwrapSandbox, "problem", staticmethod(lambda: "not installed"))
    source = tmp_path / "solution.py"
    source.write_text("import os\ndef nn_vmap_forward(seed, x_batch, features):\n    os.fork()\n")
    report = grade(source, "nn_vmap_forward", GradeOptions(shrink=False, limits={"call_s": 8.0}))
    assert report.environment["sandbox"] == "landlock"
    assert report.environment["sandbox_enforced"]["fs"] == "allowlist"
    assert report.verdict is Verdict.RUNTIME_ERROR  # the fork was refused


RENICE_ALL = """
import ctypes, os
IOPRIO_SET = {"x86_64": 251, "aarch64": 30}[os.uname().machine]
libc = ctypes.CDLL(None, use_errno=True)
for which in (os.PRIO_USER, os.PRIO_PGRP):
    try:
        os.setpriority(which, 0, 19)
    except OSError:
        pass
for which in (3, 2):  # IOPRIO_WHO_USER, IOPRIO_WHO_PGRP: the idle class
    libc.syscall(IOPRIO_SET, which, 0, 3 << 13)
def nn_vmap_forward(seed, x_batch, features):
    return None
"""
OWN_PRIORITIES = """
import ctypes, os
IOPRIO_GET = {"x86_64": 252, "aarch64": 31}[os.uname().machine]
libc = ctypes.CDLL(None, use_errno=True)
with open("priorities.txt", "w") as handle:
    handle.write(f"{os.getpriority(os.PRIO_PROCESS, 0)} {libc.syscall(IOPRIO_GET, 1, 0)}")
def nn_vmap_forward(seed, x_batch, features):
    return None
"""


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_learner_cannot_renice_another_learners_worker(sandbox: str) -> None:
    """setpriority and ioprio_set with "every process of my uid" (or of my group) as the
    target: another confined worker (no more capabilities than the attacker's) keeps its
    priorities."""

    def worker() -> Worker:
        return Worker(role="learner", backend="cpu", precision="highest", sandbox=sandbox, guard=False)  # fmt: skip

    with worker() as victim, worker() as attacker:
        load_unguarded(victim, "victim.py", OWN_PRIORITIES)
        before = (Path(victim.directory) / "priorities.txt").read_text()
        load_unguarded(attacker, "attack.py", RENICE_ALL)
        load_unguarded(victim, "victim_again.py", OWN_PRIORITIES, reload=True)
        after = (Path(victim.directory) / "priorities.txt").read_text()
    assert after == before, (before, after)
