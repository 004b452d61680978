"""The worker's seccomp filter is an allowlist: ``judge/runtime/syscalls.py`` holds the kernel's
tables and classifies every syscall; ``confine`` turns that into BPF. A syscall nobody
classified (a newer kernel's, like ``file_setattr`` in 6.17 once was) is refused.

Three layers of tests: the tables and the classes (pure data); the BPF program run by a small
interpreter here, for both architectures, number by number; and confined children on this
kernel (``python -I -c``, the runtime imported as the worker imports it), the slow ones with
JAX and Flax, and one learner file graded under each sandbox that confines.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import re
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_kernel_sandbox import SANDBOXES

from judge.runtime import confine, syscalls
from judge.sandbox import landlock_problem

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "judge" / "runtime"
MACHINE = platform.machine()
CONFINES = sys.platform == "linux" and landlock_problem() is None
needs_kernel = pytest.mark.skipif(
    not CONFINES, reason=f"no Landlock + seccomp: {landlock_problem()}"
)

ALLOW, KILL = 0x7FFF0000, 0x80000000
EPERM, ENOSYS = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
CLASSES = {"allowed": syscalls.ALLOWED, "checked": syscalls.CHECKED, "refused": syscalls.REFUSED}


# --- the tables and the classes ------------------------------------------------------------------


@pytest.mark.parametrize("arch", sorted(syscalls.TABLES))
def test_every_syscall_of_the_table_is_in_exactly_one_class(arch: str) -> None:
    table = syscalls.TABLES[arch]
    for name in table:
        found = [label for label, names in CLASSES.items() if name in names]
        assert len(found) == 1, (arch, name, found)
    assert len(set(table.values())) == len(table), "two names share a number"


def test_the_classes_name_only_real_syscalls() -> None:
    known = set(syscalls.X86_64) | set(syscalls.AARCH64)
    for label, names in CLASSES.items():
        assert names <= known, (label, sorted(names - known))
    assert syscalls.REFUSED_ENOSYS <= syscalls.REFUSED
    assert known >= syscalls.MEASURED
    # What was measured is allowed, or checked, or refused only where the caller falls back.
    assert syscalls.MEASURED <= syscalls.ALLOWED | syscalls.CHECKED | syscalls.REFUSED_ENOSYS


def test_every_checked_syscall_has_a_check() -> None:
    assert {"clone", "ioctl", "prctl", *confine._SELF_ONLY} == syscalls.CHECKED


def test_what_the_learner_must_not_reach_is_refused() -> None:
    for name in ("file_setattr", "file_getattr", "inotify_init1", "inotify_add_watch",
                 "fanotify_init", "fanotify_mark", "setxattr", "fsetxattr", "setxattrat",
                 "removexattrat", "chmod", "fchmod", "fchmodat2", "fchown", "fchownat",
                 "utimensat", "execve", "fork", "ptrace", "socket", "memfd_create", "bpf",
                 "io_uring_setup", "unshare", "mount", "open_by_handle_at", "pidfd_open",
                 "process_vm_readv", "userfaultfd", "keyctl", "shmget", "mq_open"):  # fmt: skip
        assert name in syscalls.REFUSED, name


@pytest.mark.parametrize(
    ("arch", "name", "number"),
    [
        ("x86_64", "read", 0), ("x86_64", "clone3", 435), ("x86_64", "landlock_create_ruleset",
        444), ("x86_64", "mseal", 462), ("x86_64", "open_tree_attr", 467),
        ("x86_64", "file_getattr", 468), ("x86_64", "file_setattr", 469),
        ("x86_64", "uprobe", 336), ("aarch64", "io_setup", 0), ("aarch64", "read", 63),
        ("aarch64", "clone", 220), ("aarch64", "renameat", 38), ("aarch64", "getrlimit", 163),
        ("aarch64", "memfd_secret", 447), ("aarch64", "file_getattr", 468),
        ("aarch64", "file_setattr", 469),
    ],
)  # fmt: skip
def test_anchors_of_the_tables(arch: str, name: str, number: int) -> None:
    assert syscalls.TABLES[arch][name] == number
    assert max(syscalls.TABLES[arch].values()) == 469  # Linux 6.18


def _header_numbers(path: Path) -> dict[str, int]:
    text = path.read_text(errors="replace")
    return {m[1]: int(m[2]) for m in re.finditer(r"#define __NR_(\w+)\s+(\d+)\b", text)}


def test_the_x86_64_table_matches_this_machines_header() -> None:
    header = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if not header.exists():
        header = Path("/usr/include/asm/unistd_64.h")
    if not header.exists():
        pytest.skip("no asm/unistd_64.h here")
    found = _header_numbers(header)
    assert found, header
    assert {n: found[n] for n in found} == {n: syscalls.X86_64[n] for n in found}


def test_the_aarch64_table_matches_this_machines_generic_header() -> None:
    header = Path("/usr/include/asm-generic/unistd.h")
    if not header.exists():
        pytest.skip("no asm-generic/unistd.h here")
    found = _header_numbers(header)
    both = set(found) & set(syscalls.AARCH64)
    assert len(both) > 250, sorted(found)
    assert {n: found[n] for n in both} == {n: syscalls.AARCH64[n] for n in both}


@pytest.mark.skipif(MACHINE != "x86_64" or sys.platform != "linux", reason="x86_64 Linux")
def test_the_newest_numbers_exist_in_this_kernel_when_it_is_recent_enough() -> None:
    """Unconfined, with arguments that cannot do anything: a kernel of 6.17 or later knows
    468 and 469 (EBADF, EFAULT, EINVAL...), an older one answers ENOSYS."""
    release = tuple(int(p) for p in re.findall(r"\d+", platform.release())[:2])
    if release < (6, 17):
        pytest.skip(f"Linux {platform.release()} predates file_getattr")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    for name in ("file_getattr", "file_setattr"):
        zero = ctypes.c_long(0)
        res = libc.syscall(ctypes.c_long(syscalls.X86_64[name]), ctypes.c_long(-1), zero, zero,
                           zero, zero)  # fmt: skip
        assert res == -1 and ctypes.get_errno() != errno.ENOSYS, name


# --- the BPF program, run here -------------------------------------------------------------------


def run_bpf(prog: list[bytes], arch: int, nr: int, args: tuple[int, ...] = ()) -> int:
    """Classic BPF as seccomp uses it (LD|W|ABS, JA, JEQ, JGE, JSET with K, RET|K) over a
    ``seccomp_data``; the action it returns. Offsets are checked to stay forward and inside."""
    full = [*args, *[0] * (6 - len(args))]
    data = struct.pack("=IIQ6Q", nr & 0xFFFFFFFF, arch, 0, *(a & (2**64 - 1) for a in full))
    pc, acc = 0, 0
    for _ in range(len(prog) + 1):
        code, jt, jf, k = struct.unpack("=HBBI", prog[pc])
        if code == 0x20:
            acc = struct.unpack_from("=I", data, k)[0]
            pc += 1
        elif code == 0x06:
            return k
        elif code == 0x05:
            pc += 1 + k
        elif code in (0x15, 0x35, 0x45):
            hit = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += 1 + (jt if hit else jf)
        else:
            raise AssertionError(f"unexpected instruction {code:#x} at {pc}")
        assert 0 <= pc < len(prog), "a jump left the program"
    raise AssertionError("no return reached")


PID = 4242


def program(arch: str) -> list[bytes]:
    return confine._seccomp_program(confine._ARCHES[arch], syscalls.TABLES[arch],
                                    arch == "x86_64", PID)  # fmt: skip


@pytest.mark.parametrize("arch", sorted(syscalls.TABLES))
def test_the_program_is_short_and_its_jumps_fit(arch: str) -> None:
    prog = program(arch)
    assert len(prog) < 4096
    for pc, insn in enumerate(prog):
        code, jt, jf, k = struct.unpack("=HBBI", insn)
        assert code in (0x20, 0x06, 0x05, 0x15, 0x35, 0x45), (pc, code)
        targets = {0x05: [k], 0x15: [jt, jf], 0x35: [jt, jf], 0x45: [jt, jf]}.get(code, [])
        assert all(pc + 1 + t < len(prog) for t in targets), pc
    assert struct.unpack("=HBBI", prog[-1])[0] == 0x06  # it ends in a return


@pytest.mark.parametrize("arch", sorted(syscalls.TABLES))
def test_each_number_gets_its_class_action(arch: str) -> None:
    prog, table, audit = program(arch), syscalls.TABLES[arch], confine._ARCHES[arch]
    for name, nr in table.items():
        got = run_bpf(prog, audit, nr, (0x10000 if name == "clone" else 0, 0, 0))
        if name in syscalls.ALLOWED:
            assert got == ALLOW, name
        elif name in syscalls.REFUSED_ENOSYS:
            assert got == ENOSYS, name
        elif name in syscalls.REFUSED:
            assert got == EPERM, name
    numbers = set(table.values())
    unknown = [n for n in range(0, 1100) if n not in numbers]
    unknown += [470 + k for k in range(51)] + [0x40000000, 0x40000000 | 39, 2**31, 2**32 - 1]
    for nr in unknown:
        assert run_bpf(prog, audit, nr) == EPERM, nr
    other = confine._ARCHES["aarch64" if arch == "x86_64" else "x86_64"]
    assert run_bpf(prog, other, table["read"]) == KILL
    assert run_bpf(prog, 0x40000003, table["read"]) == KILL  # i386 (int 0x80)


@pytest.mark.parametrize("arch", sorted(syscalls.TABLES))
def test_checked_syscalls_pass_only_their_checks(arch: str) -> None:
    prog, table, audit = program(arch), syscalls.TABLES[arch], confine._ARCHES[arch]

    def run(name: str, *args: int) -> int:
        return run_bpf(prog, audit, table[name], args)

    thread = 0x3D0F00  # glibc's pthread_create flags
    assert run("clone", thread) == ALLOW
    assert run("clone", 0x01200011) == EPERM  # fork()
    assert run("clone", thread | 0x10000000) == EPERM  # CLONE_NEWUSER
    assert run("ioctl", 1, 0x5401) == ALLOW  # TCGETS
    assert run("ioctl", 0, 0x5412) == run("ioctl", 0, 0x541C) == EPERM  # TIOCSTI, TIOCLINUX
    assert run("prctl", 15, 0) == ALLOW  # PR_SET_NAME (XLA names its threads)
    assert run("prctl", 2, 0) == ALLOW  # PR_GET_PDEATHSIG
    assert run("prctl", 1, 0) == run("prctl", 1, 9) == EPERM  # PR_SET_PDEATHSIG
    assert run("prctl", 4, 0) == ALLOW and run("prctl", 4, 1) == EPERM  # PR_SET_DUMPABLE
    assert run("prctl", 0x59616D61, 0) == run("prctl", 62, 0) == EPERM  # PTRACER, SCHED_CORE
    for name in ("prlimit64", "sched_setaffinity", "sched_setscheduler", "migrate_pages"):
        assert run(name, 0) == run(name, PID) == ALLOW, name
        assert run(name, 1) == run(name, PID + 1) == EPERM, name
    assert run("setpriority", 0, 0) == run("setpriority", 0, PID) == ALLOW  # PRIO_PROCESS
    assert run("setpriority", 0, 1) == run("setpriority", 2, 0) == EPERM  # other, PRIO_USER
    assert run("ioprio_set", 1, 0) == ALLOW and run("ioprio_set", 3, 0) == EPERM  # WHO_USER
    assert run("kill", PID, 9) == run("tgkill", PID, PID + 7, 6) == ALLOW
    assert run("kill", 1, 9) == run("kill", -1, 9) == run("tgkill", 1, 1, 9) == EPERM
    assert run("kill", PID | 1 << 32, 9) == ALLOW  # the kernel reads an int: the same pid


# --- confined children on this kernel ------------------------------------------------------------

CHILD = """
import ctypes, errno, importlib.util, json, os, sys
d = {runtime!r}
s = importlib.util.spec_from_file_location("judge_runtime", d + "/__init__.py",
                                           submodule_search_locations=[d])
m = importlib.util.module_from_spec(s); sys.modules["judge_runtime"] = m; s.loader.exec_module(m)
from judge_runtime import confine as C, syscalls as S
NR = S.TABLES[os.uname().machine]
ARGS = json.loads(os.environ["ALLOWLIST_TEST_ARGS"])
OUT = {{}}
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.prctl.restype = ctypes.c_int

def sc(nr, *args):
    res = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return errno.errorcode.get(ctypes.get_errno(), "?") if res == -1 else "ok"

def prctl(option, arg2=0):
    z = ctypes.c_ulong(0)
    res = libc.prctl(option, ctypes.c_ulong(arg2), z, z, z)
    return errno.errorcode.get(ctypes.get_errno(), "?") if res == -1 else res

def confine(**kw):
    OUT["enforced"] = C.confine(C.Policy(read=tuple(ARGS["read"]), write=tuple(ARGS["write"]),
                                         **kw))
"""


def run_child(body: str, timeout: float = 60, new_session: bool = False, **args: object) -> dict:
    """CHILD + ``body`` in a fresh ``python -I`` (in a session of its own, as a worker, with
    ``new_session``); the OUT dict it prints last."""
    script = CHILD.format(runtime=str(RUNTIME)) + textwrap.dedent(body)
    script += "\nprint(json.dumps(OUT))\n"
    args = {"read": [], "write": [], **args}
    env = dict(os.environ, ALLOWLIST_TEST_ARGS=json.dumps(args))
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True,
                          timeout=timeout, env=env, start_new_session=new_session)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_kernel
def test_numbers_past_the_table_and_in_its_gaps_are_refused() -> None:
    out = run_child(
        """
        known = set(NR.values())
        numbers = [n for n in range(0, 600) if n not in known] + list(range(470, 521))
        confine()
        OUT["results"] = {n: sc(n, -1, 0, 0, 0, 0, 0) for n in sorted(set(numbers))}
        """
    )
    assert out["results"] and set(out["results"].values()) == {"EPERM"}, out["results"]


@needs_kernel
def test_every_refused_syscall_is_refused_by_the_kernel() -> None:
    """Each refused syscall of this machine's table, called with harmless arguments once
    confined: EPERM (ENOSYS where the caller falls back), never what the call would do."""
    out = run_child(
        """
        confine()
        # uprobe and uretprobe pass seccomp by design (Linux 6.14+): outside a uprobe's
        # trampoline the kernel answers them with SIGILL, whatever the filter says.
        refused = sorted(n for n in S.REFUSED if n in NR and n not in ("uprobe", "uretprobe"))
        OUT["results"] = {n: sc(NR[n], -1, 0, 0, 0, 0, 0) for n in refused}
        """
    )
    expected = {n: "ENOSYS" if n in syscalls.REFUSED_ENOSYS else "EPERM" for n in out["results"]}
    assert out["results"] == expected


@needs_kernel
def test_metadata_watching_and_parent_death_are_refused(tmp_path: Path) -> None:
    own = tmp_path / "own.txt"
    own.write_text("mine")
    out = run_child(
        """
        import signal
        own = ARGS["own"]
        prctl(1, signal.SIGKILL)  # as the worker does, before confine()
        confine()
        fd = os.open(own, os.O_RDONLY)
        buf = ctypes.create_string_buffer(64)
        p = ctypes.cast(buf, ctypes.c_void_p).value
        OUT["file_setattr"] = sc(NR["file_setattr"], fd, 0, p, 24, 0)
        OUT["file_getattr"] = sc(NR["file_getattr"], fd, 0, p, 24, 0)
        OUT["inotify_init1"] = sc(NR["inotify_init1"], 0)
        OUT["fanotify_init"] = sc(NR["fanotify_init"], 0, 0)
        OUT["set pdeathsig 0"] = prctl(1, 0)
        got = ctypes.c_int(-1)
        OUT["get pdeathsig"] = prctl(2, ctypes.addressof(got))
        OUT["pdeathsig"] = got.value
        OUT["dumpable 0"] = prctl(4, 0)
        OUT["dumpable 1"] = prctl(4, 1)
        OUT["name"] = prctl(15, ctypes.addressof(ctypes.create_string_buffer(b"worker")))
        for name, call in [("chmod", lambda: os.chmod(own, 0o777)),
                           ("fchmod", lambda: os.fchmod(fd, 0o777)),
                           ("utime", lambda: os.utime(own, (0, 0))),
                           ("chown", lambda: os.chown(own, 0, 0)),
                           ("setxattr", lambda: os.setxattr(own, "user.x", b"1")),
                           ("listxattr", lambda: os.listxattr(own)),
                           ("kill parent", lambda: os.kill(os.getppid(), 0)),
                           ("kill self", lambda: os.kill(os.getpid(), 0)),
                           ("kill own group", lambda: os.kill(0, 0)),
                           ("read own", lambda: os.read(fd, 4))]:
            try:
                call()
                OUT[name] = "ok"
            except OSError as exc:
                OUT[name] = errno.errorcode[exc.errno]
        """,
        new_session=True,
        write=[str(tmp_path)],
        own=str(own),
    )
    for name in ("file_setattr", "file_getattr", "inotify_init1", "fanotify_init",
                 "set pdeathsig 0", "dumpable 1", "chmod", "fchmod", "utime", "chown",
                 "setxattr", "listxattr", "kill parent"):  # fmt: skip
        assert out[name] == "EPERM", (name, out[name])
    assert out["get pdeathsig"] == 0 and out["pdeathsig"] == 9  # still SIGKILL
    assert out["dumpable 0"] == out["name"] == 0
    assert out["kill self"] == out["kill own group"] == out["read own"] == "ok"
    assert oct(own.stat().st_mode & 0o777) != oct(0o777)


@pytest.mark.slow
@needs_kernel
def test_jax_and_flax_run_a_jitted_vmapped_dense_once_confined(tmp_path: Path) -> None:
    out = run_child(
        """
        import site
        confine_read = (sys.prefix, sys.base_prefix, *site.getsitepackages())
        OUT["enforced"] = C.confine(C.Policy(read=confine_read, write=tuple(ARGS["write"])))
        import flax.linen as nn
        import jax
        import jax.numpy as jnp
        import numpy as np
        model = nn.vmap(nn.Dense, variable_axes={"params": 0}, split_rngs={"params": True},
                        in_axes=0, out_axes=0)(features=3)
        x = jnp.ones((2, 4, 5))
        params = jax.jit(model.init)(jax.random.PRNGKey(0), x)
        y = jax.jit(model.apply)(params, x)
        OUT["shape"] = list(y.shape)
        OUT["finite"] = bool(np.isfinite(np.asarray(y)).all())
        OUT["callback"] = float(jax.jit(lambda v: jax.pure_callback(
            lambda a: np.asarray(a) * 2, jax.ShapeDtypeStruct((), jnp.float32), v))(1.5))
        OUT["file_setattr"] = sc(NR["file_setattr"], -1, 0, 0, 0, 0)
        """,
        timeout=240,
        write=[str(tmp_path)],
    )
    assert out["enforced"]["threads"] == 1 and "instructions" in out["enforced"]["seccomp"]
    assert out["shape"] == [2, 4, 3] and out["finite"] and out["callback"] == 3.0
    assert out["file_setattr"] == "EPERM"


# Everything ordinary a learner's file does, on its own threads and XLA's: graded accepted.
ORDINARY = """
import concurrent.futures, datetime, gzip, hashlib, json, logging, os, pickle, random, secrets
import shutil, signal, sqlite3, sys, tempfile, threading, time, traceback, uuid, warnings
import numpy as np
import jax
import jax.numpy as jnp
import flax.linen as nn

def everything():
    print("a print", time.time(), time.perf_counter(), datetime.datetime.now(), time.localtime())
    sys.stderr.write("to stderr\\n")
    logging.getLogger("learner").warning("logged")
    warnings.warn("a warning")
    random.seed(0)
    values = (random.random(), os.urandom(4), secrets.token_hex(2), uuid.uuid4(),
              np.random.default_rng().normal(size=2), os.cpu_count(), os.sched_getaffinity(0))
    threads = [threading.Thread(target=time.sleep, args=(0.01,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert list(pool.map(abs, [-1, -2])) == [1, 2]
    try:
        1 / 0
    except ZeroDivisionError:
        traceback.format_exc()
    os.makedirs("a/b", exist_ok=True)
    with open("a/b/f.txt", "w") as handle:
        handle.write("x")
    os.rename("a/b/f.txt", "a/f.txt")
    shutil.copyfile("a/f.txt", "a/g.txt")
    os.symlink("g.txt", "a/link")
    np.save("a/arr.npy", np.arange(3))
    pickle.dump(np.load("a/arr.npy"), gzip.open("a/p.gz", "wb"))
    json.dump(sorted(os.listdir("a")), open("a/list.json", "w"))
    with tempfile.TemporaryDirectory(dir=".") as folder, tempfile.TemporaryFile() as scratch:
        scratch.write(b"x")
    db = sqlite3.connect("a/db.sqlite")
    db.execute("create table if not exists t (x)")
    db.commit()
    db.close()
    shutil.rmtree("a")
    os.nice(0)
    signal.signal(signal.SIGALRM, lambda *a: None)
    signal.setitimer(signal.ITIMER_REAL, 0.001)
    time.sleep(0.01)
    hashlib.sha256(b"x").hexdigest()
    jax.jit(lambda v: jax.debug.print("debug {v}", v=v))(1.0)
    jax.jit(lambda v: jax.pure_callback(lambda a: np.asarray(a) + 1,
                                        jax.ShapeDtypeStruct((), jnp.float32), v))(1.0)
    jax.grad(lambda v: (v ** 2).sum())(jnp.arange(3.0))
    jax.lax.scan(lambda c, v: (c + v, c), 0.0, jnp.arange(3.0))
    np.linalg.inv(np.eye(3) * 2), jnp.linalg.inv(jnp.eye(3) * 2)
    return values

everything()

def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None},
                    split_rngs={"params": False})(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
"""


@pytest.mark.slow
@needs_kernel
@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_an_ordinary_learner_file_is_accepted_under_the_allowlist(
    tmp_path: Path, sandbox: str
) -> None:
    from judge import GradeOptions, Verdict, grade

    source = tmp_path / "solution.py"
    source.write_text(ORDINARY)
    report = grade(source, "nn_vmap_forward", GradeOptions(shrink=False, sandbox=sandbox))
    assert report.environment["sandbox"] == sandbox
    assert "instructions" in report.environment["sandbox_enforced"]["seccomp"]
    assert report.verdict is Verdict.ACCEPTED, (report.summary, report.diagnostics)
    assert "a print" in report.output["stdout"]
