"""judge/runtime/confine.py: each test starts a fresh interpreter that confines itself, attempts
one kind of thing a hostile submission would, and reports the outcome as errno names.

The module is loaded by file path, in the children and here, so that these tests depend on
nothing but the standard library and the kernel (importing the ``judge`` package would start
numpy's threads before confine() could run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "judge" / "runtime" / "confine.py"


def _load():
    spec = importlib.util.spec_from_file_location("_confine_under_test", MODULE)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


if sys.platform != "linux":
    pytest.skip("Landlock and seccomp are Linux's", allow_module_level=True)
confine_mod = _load()
KERNEL = confine_mod.probe()
pytestmark = pytest.mark.skipif(
    not (KERNEL["landlock"] >= 1 and KERNEL["seccomp"]),
    reason=f"needs Linux with Landlock and seccomp filters (probe: {KERNEL})",
)
IS_ROOT = os.geteuid() == 0
# Syscall numbers, written out here rather than taken from the module under test.
NR = {
    "x86_64": {"unshare": 272, "ptrace": 101, "io_uring_setup": 425, "kcmp": 312},
    "aarch64": {"unshare": 97, "ptrace": 117, "io_uring_setup": 425, "kcmp": 272},
}.get(platform.machine(), {})

PRELUDE = """
import ctypes, errno, importlib.util, json, os, signal, sys
spec = importlib.util.spec_from_file_location("confine", {module!r})
C = importlib.util.module_from_spec(spec)
sys.modules["confine"] = C
spec.loader.exec_module(C)
ARGS = json.loads(os.environ["CONFINE_TEST_ARGS"])
NR = ARGS["nr"]
OUT = {{}}
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def attempt(name, fn):
    try:
        fn()
        OUT[name] = "ok"
    except OSError as exc:
        OUT[name] = errno.errorcode.get(exc.errno, str(exc.errno))

def sc(nr, *args):
    res = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    if res < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return res

def confine(**kw):
    policy = C.Policy(read=tuple(ARGS["read"]), write=tuple(ARGS["write"]), **kw)
    OUT["enforced"] = C.confine(policy)

def status():
    with open("/proc/self/status") as f:
        return dict((k, v.strip()) for k, _, v in (line.partition(":") for line in f))
"""


def run_confined(body: str, *, read=(), write=(), timeout: float = 60, **extra) -> dict:
    """Run PRELUDE + body in a fresh ``python -I``; return the OUT dict it prints."""
    script = PRELUDE.format(module=str(MODULE)) + textwrap.dedent(body)
    script += "\nprint(json.dumps(OUT))\n"
    args = {"read": [str(p) for p in read], "write": [str(p) for p in write], "nr": NR, **extra}
    env = dict(os.environ, CONFINE_TEST_ARGS=json.dumps(args))
    done = subprocess.run(
        [sys.executable, "-I", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    """work (read-write), data (read-only), and a secret beside them that stays out of reach."""
    out = {name: tmp_path / name for name in ("work", "data")}
    for path in out.values():
        path.mkdir()
    (out["data"] / "given.txt").write_text("given")
    out["secret"] = tmp_path / "secret.txt"
    out["secret"].write_text("the reference solution")
    return out


def test_probe_is_side_effect_free() -> None:
    def state() -> tuple[str, ...]:
        with open("/proc/self/status") as f:
            lines = f.read().splitlines()
        return tuple(x for x in lines if x.startswith(("NoNewPrivs", "Seccomp", "Cap")))

    before = state()
    result = confine_mod.probe()
    assert state() == before
    assert result["landlock"] == KERNEL["landlock"] and result["euid"] == os.geteuid()
    assert result["landlock_tsync"] == (result["landlock"] >= 8)


def test_confine_applies_every_layer(dirs) -> None:
    out = run_confined(
        """
        confine()
        OUT["status"] = {k: status()[k] for k in ("NoNewPrivs", "Seccomp", "CapEff", "CapBnd")}
        """,
        write=[dirs["work"]],
    )
    enforced = out["enforced"]
    assert enforced["landlock"] == KERNEL["landlock"] and enforced["fs"] == "allowlist"
    assert out["status"]["NoNewPrivs"] == "1" and out["status"]["Seccomp"] == "2"
    if IS_ROOT:
        assert enforced["capabilities"] == "none"
        assert out["status"]["CapEff"] == out["status"]["CapBnd"] == "0000000000000000"
    if KERNEL["landlock"] >= 6:
        assert set(enforced["scopes"]) == {"signal", "abstract_unix_socket"}
    assert enforced["ms"] < 500


def test_filesystem_is_an_allowlist(dirs) -> None:
    out = run_confined(
        """
        secret = ARGS["secret"]
        work, data = ARGS["write"][0], ARGS["read"][0]
        confine()
        attempt("read data", lambda: open(data + "/given.txt").read())
        attempt("write data", lambda: open(data + "/new.txt", "w").close())
        attempt("write work", lambda: open(work + "/new.txt", "w").close())
        attempt("read secret", lambda: open(secret).read())
        attempt("list secret's folder", lambda: os.listdir(os.path.dirname(secret)))
        root = os.open("/", os.O_PATH)
        attempt("openat from O_PATH /", lambda: os.open(secret.lstrip("/"), os.O_RDONLY,
                                                        dir_fd=root))
        attempt("via /proc/self/root", lambda: open("/proc/self/root" + secret).read())
        os.symlink(secret, work + "/link")
        attempt("read through symlink", lambda: open(work + "/link").read())
        attempt("hardlink into work", lambda: os.link(secret, work + "/hard"))
        attempt("write beside secret", lambda: open(secret + ".new", "w").close())
        attempt("mkfifo outside", lambda: os.mkfifo(secret + ".fifo"))
        attempt("rename work file out", lambda: os.rename(work + "/new.txt", secret + ".mv"))
        attempt("lazy stdlib import", lambda: __import__("decimal"))
        """,
        read=[dirs["data"], sys.base_prefix],
        write=[dirs["work"]],
        secret=str(dirs["secret"]),
    )
    assert out["read data"] == out["write work"] == out["lazy stdlib import"] == "ok"
    assert out["write data"] == "EACCES"
    for name in ("read secret", "list secret's folder", "openat from O_PATH /",
                 "via /proc/self/root", "read through symlink", "write beside secret",
                 "mkfifo outside", "rename work file out"):  # fmt: skip
        assert out[name] == "EACCES", (name, out[name])
    assert out["hardlink into work"] in ("EXDEV", "EACCES", "EPERM")
    assert not (dirs["work"] / "hard").exists()
    assert not Path(str(dirs["secret"]) + ".new").exists()


@pytest.mark.skipif(not IS_ROOT, reason="only root can read /etc/shadow in the first place")
def test_root_cannot_read_etc_shadow_or_root_home() -> None:
    out = run_confined(
        """
        confine()
        for path in ("/etc/shadow", "/root/.bashrc", "/root/.profile"):
            if os.path.exists(path):
                attempt(path, lambda: open(path).read())
        """
    )
    assert out.pop("enforced")
    assert out and set(out.values()) == {"EACCES"}, out


def test_proc_shows_only_this_process() -> None:
    out = run_confined(
        """
        confine()
        ppid = os.getppid()
        attempt("own status", lambda: open("/proc/self/status").read())
        attempt("own task dir", lambda: os.listdir("/proc/thread-self/.."))
        attempt("parent environ", lambda: open(f"/proc/{ppid}/environ").read())
        attempt("parent mem", lambda: open(f"/proc/{ppid}/mem", "rb").read(1))
        attempt("pid 1 cmdline", lambda: open("/proc/1/cmdline").read())
        attempt("list /proc", lambda: os.listdir("/proc"))
        """
    )
    assert out["own status"] == out["own task dir"] == "ok"
    for name in ("parent environ", "parent mem", "pid 1 cmdline", "list /proc"):
        assert out[name] == "EACCES", (name, out[name])


def test_no_process_can_be_started(dirs) -> None:
    out = run_confined(
        """
        import subprocess, threading
        work = ARGS["write"][0]
        confine()
        attempt("fork", lambda: os.fork() or os._exit(0))
        attempt("subprocess", lambda: subprocess.run(["/bin/sh", "-c", f"touch {work}/a"]))
        attempt("posix_spawn", lambda: os.posix_spawn("/bin/sh", ["sh", "-c", f"touch {work}/b"],
                                                      {}))
        attempt("execv", lambda: os.execv("/bin/sh", ["sh", "-c", f"touch {work}/c"]))
        OUT["system"] = libc.system(f"touch {work}/d".encode())
        thread = threading.Thread(target=lambda: OUT.update(thread="ran"))
        thread.start()
        thread.join()
        """,
        write=[dirs["work"]],
    )
    for name in ("fork", "subprocess", "posix_spawn", "execv"):
        assert out[name] == "EPERM", (name, out[name])
    assert out["system"] != 0 and out["thread"] == "ran"
    assert list(dirs["work"].iterdir()) == []


def test_no_signal_leaves_the_domain() -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    handler = signal.signal(signal.SIGUSR2, signal.SIG_IGN)  # a leak must not kill pytest
    try:
        out = run_confined(
            """
            confine()
            ppid, other = os.getppid(), ARGS["bystander"]
            attempt("kill parent 0", lambda: os.kill(ppid, 0))
            attempt("kill parent", lambda: os.kill(ppid, signal.SIGUSR2))
            attempt("kill bystander", lambda: os.kill(other, signal.SIGTERM))
            attempt("pidfd_send_signal", lambda: signal.pidfd_send_signal(
                os.pidfd_open(other), signal.SIGTERM))
            got = []
            signal.signal(signal.SIGUSR1, lambda *a: got.append(1))
            os.kill(os.getpid(), signal.SIGUSR1)
            OUT["self"] = "delivered" if got else "lost"
            """,
            bystander=bystander.pid,
        )
        time.sleep(0.1)
        assert bystander.poll() is None
    finally:
        signal.signal(signal.SIGUSR2, handler)
        bystander.kill()
        bystander.wait()
    for name in ("kill parent 0", "kill parent", "kill bystander", "pidfd_send_signal"):
        assert out[name] == "EPERM", (name, out[name])
    assert out["self"] == "delivered"


def test_other_processes_limits_and_memory_are_out_of_reach() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    out = run_confined(
        """
        import resource
        confine()
        ppid = os.getppid()
        attempt("prlimit parent", lambda: resource.prlimit(ppid, resource.RLIMIT_NOFILE, (64, 64)))
        attempt("prlimit self", lambda: resource.prlimit(0, resource.RLIMIT_NOFILE))
        attempt("setpriority parent", lambda: os.setpriority(os.PRIO_PROCESS, ppid, 19))
        attempt("ptrace attach", lambda: sc(NR["ptrace"], 16, ppid, 0, 0))
        attempt("kcmp", lambda: sc(NR["kcmp"], os.getpid(), ppid, 0, 0, 0))
        """
    )
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
    assert out["prlimit self"] == "ok"
    for name in ("prlimit parent", "setpriority parent", "ptrace attach", "kcmp"):
        assert out[name] == "EPERM", (name, out[name])


def test_no_socket_reaches_the_judge(tmp_path: Path) -> None:
    path = str(tmp_path / "judge.sock")
    abstract = f"confine-test-{os.getpid()}"
    with (
        socket.create_server(("127.0.0.1", 0)) as tcp,
        socket.socket(socket.AF_UNIX) as unix,
        socket.socket(socket.AF_UNIX) as abst,
    ):
        unix.bind(path)
        abst.bind(b"\0" + abstract.encode())
        for server in (tcp, unix, abst):
            server.listen()
            server.setblocking(False)
        out = run_confined(
            """
            import socket
            confine()
            attempt("tcp", lambda: socket.create_connection(("127.0.0.1", ARGS["port"]), 2))
            attempt("listen", lambda: socket.socket().listen())
            attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            attempt("unix path", lambda: socket.socket(socket.AF_UNIX).connect(ARGS["path"]))
            attempt("unix abstract", lambda: socket.socket(socket.AF_UNIX).connect(
                b"\\0" + ARGS["abstract"].encode()))
            attempt("socketpair", socket.socketpair)
            """,
            port=tcp.getsockname()[1],
            path=path,
            abstract=abstract,
        )
        for server in (tcp, unix, abst):
            with pytest.raises(BlockingIOError):
                server.accept()
    for name in ("tcp", "listen", "udp", "unix path", "unix abstract"):
        assert out[name] in ("EPERM", "EACCES"), (name, out[name])
    assert out["socketpair"] == "ok"


@pytest.mark.skipif(not NR, reason=f"no syscall table for {platform.machine()}")
def test_kernel_attack_surface_is_closed() -> None:
    out = run_confined(
        """
        confine()
        attempt("unshare user", lambda: sc(NR["unshare"], 0x10000000))
        attempt("memfd_create", lambda: os.memfd_create("x"))
        attempt("io_uring_setup", lambda: sc(NR["io_uring_setup"], 8, 0))
        attempt("setuid", lambda: os.setuid(65534))
        if ARGS["x32"]:
            attempt("x32 getpid", lambda: sc(0x40000000 | 39))
        """,
        x32=platform.machine() == "x86_64",
    )
    names = ["unshare user", "memfd_create", "io_uring_setup", "setuid"]
    names += ["x32 getpid"] if platform.machine() == "x86_64" else []
    for name in names:
        assert out[name] == "EPERM", (name, out[name])


def test_file_size_limit(dirs) -> None:
    out = run_confined(
        """
        work = ARGS["write"][0]
        confine(file_size_mb=1)
        attempt("1 MiB", lambda: open(work + "/ok", "wb").write(b"x" * (1 << 20)))
        attempt("2 MiB", lambda: open(work + "/big", "wb").write(b"x" * (2 << 20)))
        """,
        write=[dirs["work"]],
    )
    assert out["1 MiB"] == "ok" and out["2 MiB"] == "EFBIG"


def test_refuses_once_threads_run() -> None:
    out = run_confined(
        """
        import threading, time
        before = status()["NoNewPrivs"]
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        try:
            confine()
            OUT["result"] = "confined"
        except C.ConfineError as exc:
            OUT["result"] = f"ConfineError: {exc}"
        OUT["untouched"] = status()["NoNewPrivs"] == before
        """
    )
    if KERNEL["landlock"] < 8 or IS_ROOT:
        assert out["result"].startswith("ConfineError") and "threads" in out["result"]
        assert out["untouched"]
    else:
        assert out["result"] == "confined"


def _cgroup_procs() -> str | None:
    """This process's own cgroup.procs file, when root could write it (a no-op move)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, rel = line.split(":", 2)
        for base in (["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] if controllers == ""
                     else [f"/sys/fs/cgroup/{c}" for c in controllers.split(",")]):  # fmt: skip
            procs = f"{base}{rel.rstrip('/')}/cgroup.procs"
            if os.path.exists(procs) and os.access(procs, os.W_OK):
                return procs
    return None


@pytest.mark.skipif(not IS_ROOT or _cgroup_procs() is None, reason="needs a writable cgroup")
def test_cannot_move_itself_between_cgroups() -> None:
    out = run_confined(
        """
        confine()
        attempt("cgroup.procs", lambda: open(ARGS["procs"], "w").write(str(os.getpid())))
        """,
        procs=_cgroup_procs(),
    )
    assert out["cgroup.procs"] == "EACCES"


JAX_BODY = """
import site, sys
cache, secret = ARGS["cache"], ARGS["secret"]
if ARGS["confine"]:
    OUT["enforced"] = C.confine(C.Policy(
        read=(sys.prefix, sys.base_prefix, *site.getsitepackages(), cache),
        write=tuple(ARGS["write"])))
import warnings
warnings.simplefilter("ignore")  # the read-only cache makes JAX warn on each new entry
import flax.linen as nn
import jax
import jax.monitoring
import jax.numpy as jnp
import numpy as np
events = []
jax.monitoring.register_event_listener(lambda name, **kw: events.append(name))
jax.config.update("jax_compilation_cache_dir", cache)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
model = nn.vmap(nn.Dense, variable_axes={"params": 0}, split_rngs={"params": True},
                in_axes=0, out_axes=0)(features=3)
OUT["sums"] = []
for shape in ARGS["shapes"]:
    x = jnp.ones(shape)
    params = jax.jit(model.init)(jax.random.PRNGKey(0), x)
    OUT["sums"].append(round(float(jax.jit(model.apply)(params, x).sum()), 4))
OUT["cache_hits"] = events.count("/jax/compilation_cache/cache_hits")

def leak(x):
    try:
        open(secret).read()
        OUT["callback"] = "read the secret"
    except OSError as exc:
        OUT["callback"] = errno.errorcode[exc.errno]
    return np.zeros((), np.float32)

# Queued behind other work, the callback runs on one of XLA's own threads.
heavy = jax.jit(lambda m: (m @ m @ m).sum())
queued = [heavy(jnp.ones((800, 800))) for _ in range(3)]
jax.jit(lambda v: jax.pure_callback(leak, jax.ShapeDtypeStruct((), jnp.float32), v))(
    queued[-1]).block_until_ready()
"""


@pytest.mark.slow
def test_jax_and_flax_compile_after_confinement(dirs, tmp_path: Path) -> None:
    cache = tmp_path / "xla-cache"
    cache.mkdir()
    common = dict(secret=str(dirs["secret"]), cache=str(cache), timeout=180)
    warm = run_confined(JAX_BODY, confine=False, shapes=[[2, 3, 4]], **common)
    assert warm["callback"] == "read the secret"  # the control: unconfined, the callback can
    shapes = [[2, 3, 4], [3, 1, 5], [1, 2, 2], [4, 2, 3]]
    out = run_confined(JAX_BODY, confine=True, shapes=shapes, write=[dirs["work"]], **common)
    assert out["enforced"]["threads"] == 1
    assert out["sums"][0] == warm["sums"][0] and len(out["sums"]) == 4
    assert out["cache_hits"] > 0  # read from the read-only cache; three shapes compiled anew
    assert out["callback"] == "EACCES"  # XLA's threads were started after confine(): confined


@pytest.mark.slow
def test_confining_after_jax_started_is_refused() -> None:
    out = run_confined(
        """
        import jax
        jax.devices()
        try:
            confine()
            OUT["result"] = "confined"
        except C.ConfineError as exc:
            OUT["result"] = str(exc)
        """,
        timeout=120,
    )
    if KERNEL["landlock"] < 8 or IS_ROOT:
        assert "threads already run" in out["result"]
    else:
        assert out["result"] == "confined"
