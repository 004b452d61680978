"""Confining the current process with the kernel alone: no_new_privs, no capabilities, Landlock,
seccomp-BPF. Standard library only, so a worker can call it before it imports anything else.

Why each layer:

- no_new_privs: required by Landlock and seccomp for an unprivileged caller, and no setuid binary
  can hand privileges back.
- capabilities: the Python install lives under /root (mode 0700), so the worker cannot become
  ``nobody``; it stays uid 0 *without* capabilities. DAC owner bits still let it read its own
  install; CAP_DAC_OVERRIDE, CAP_SYS_ADMIN & co. are gone and cannot come back (securebits).
- Landlock: an allowlist of paths, no TCP, no signals or abstract sockets outside the domain.
  uid 0 still owns /etc/shadow and the cgroup files, so this is what keeps them out of reach.
- seccomp: what Landlock cannot express, as an allowlist (``syscalls``: the kernel's tables,
  each call allowed, checked on its arguments, or refused; any other number, a newer kernel's
  included, refused): no process start, no namespaces, no ptrace-like access, no sockets (but
  a socketpair), no io_uring/bpf/keyrings, no inotify/fanotify, no changes to modes, owners,
  times or attributes of files, nothing done to another pid (limits, priorities, signals), no
  change to the parent-death signal set before confine().

Threads: before Landlock ABI 8 (Linux 7.0, ``LANDLOCK_RESTRICT_SELF_TSYNC``),
``landlock_restrict_self`` and ``capset`` change the calling thread only. A thread started
earlier (XLA's pools once ``jax.devices()`` ran, OpenBLAS's once numpy is imported) would keep
root's capabilities and no Landlock domain, and ``jax.pure_callback`` runs learner code on such
threads. So :func:`confine` refuses (:class:`ConfineError`) when the process has more than one
thread, unless the kernel has Landlock TSYNC and the process is not root. Call it first thing
in the worker, before importing numpy or JAX; threads started afterwards inherit everything.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import stat
import struct
import time
from dataclasses import dataclass

try:
    from . import syscalls
except ImportError:  # loaded by its path alone, outside its package (tests/unit/test_confine.py)
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "_confine_syscalls", os.path.join(os.path.dirname(os.path.abspath(__file__)), "syscalls.py")
    )
    assert _spec is not None and _spec.loader is not None
    syscalls = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(syscalls)

__all__ = ["ConfineError", "Policy", "confine", "probe"]


class ConfineError(RuntimeError):
    """The minimum (Landlock filesystem allowlist + seccomp filter) could not be applied."""


@dataclass(frozen=True)
class Policy:
    """What the confined process may touch. Paths that do not exist are skipped."""

    read: tuple[str, ...]  # read-only (python install, site-packages, a compile cache...)
    write: tuple[str, ...]  # read-write (the worker's own folder)
    devices: tuple[str, ...] = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
    proc_self: bool = True  # /proc/<own pid> read-only (+ the few global files below)
    file_size_mb: int | None = None  # RLIMIT_FSIZE
    # The system's files read-only; None: SYSTEM_READ. A sandbox passes them with what the
    # worker must not read cut out (``sandbox.allowlist``: a judge installed under /usr).
    system_read: tuple[str, ...] | None = None
    listed: tuple[str, ...] = ()  # folders it may list, not read beneath (a carved one)


# Read-only system paths Python + JAX + Flax on CPU need once confined (found with strace):
# shared libraries (glibc, libstdc++, OpenSSL...) and zoneinfo/locale data live under /usr;
# the dynamic loader reads ld.so.cache on every dlopen; time.localtime() reads /etc/localtime;
# hashlib loads OpenSSL, which reads openssl.cnf; glibc's sysconf(_SC_NPROCESSORS_*) and XLA
# read /sys/devices/system/cpu/{online,possible}. Not /etc as a whole: /etc/shadow stays out.
SYSTEM_READ = (
    "/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime", "/etc/ssl/openssl.cnf",
    "/sys/devices/system/cpu",
)  # fmt: skip
PROC_READ = ("/proc/cpuinfo", "/proc/meminfo")  # no process's data in them; common in libraries

# --- Landlock (include/uapi/linux/landlock.h) ---------------------------------------------------
_LL_CREATE, _LL_ADD, _LL_RESTRICT = 444, 445, 446  # same numbers on x86_64 and aarch64
_LL_VERSION = 1  # LANDLOCK_CREATE_RULESET_VERSION
_LL_RULE_PATH, _LL_TSYNC = 1, 1 << 3  # LANDLOCK_RULE_PATH_BENEATH, LANDLOCK_RESTRICT_SELF_TSYNC
_X, _W, _R, _RDIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3  # EXECUTE, WRITE_FILE, READ_FILE, READ_DIR
_ABI1_FS = (1 << 13) - 1  # the 13 rights of ABI 1: execute ... make_sym
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3, 5
_FILE_ONLY = _X | _W | _R | _TRUNCATE | _IOCTL_DEV  # the rights a rule on a non-directory may hold
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

# --- seccomp (include/uapi/linux/seccomp.h, filter.h, audit.h) ----------------------------------
_RET_KILL_PROCESS, _RET_ERRNO, _RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
_LD_ABS_W, _JA, _JEQ, _JGE, _JSET, _RET = 0x20, 0x05, 0x15, 0x35, 0x45, 0x06
_SECCOMP_SET_MODE_FILTER, _SECCOMP_GET_ACTION_AVAIL, _FLAG_TSYNC = 1, 2, 1
_CLONE_THREAD = 0x00010000
_CLONE_NEW_NAMESPACES = 0x7E020080  # NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C  # inject input into / drive a terminal inherited as an fd
_X32_BIT = 0x40000000

_ARCHES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}  # AUDIT_ARCH_*
# prctl options a confined process may not use: PR_SET_PDEATHSIG (the worker dies with the
# judge: set before confine(), it must stay), PR_SET_PTRACER (Yama: who may trace it),
# PR_SCHED_CORE (acts on other pids); PR_SET_DUMPABLE only to 0 (SUID_DUMP_DISABLE).
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SCHED_CORE, _PR_SET_PTRACER = 1, 4, 62, 0x59616D61
# Allowed only on the caller itself: each (argument, values) must hold, where _SELF is this
# process's pid (known when the filter is built: no process starts afterwards), 0 the caller,
# and _OWN_GROUP kill's 0 (its process group) where the caller leads its group in a session of
# its own (a worker: no other process can join it), else its pid again.
# Root without capabilities may still renice, re-pin, re-limit or signal any other root process,
# the judge included (Landlock's signal scope needs ABI 6). setpriority and ioprio_set also
# choose *what* "who" names: 0 with PRIO_USER or IOPRIO_WHO_USER is every process of the
# caller's uid (every other worker), with a process group its group; only "a process"
# (PRIO_PROCESS 0, IOPRIO_WHO_PROCESS 1) is left.
_SELF, _OWN_GROUP = -1, -2
_SELF_ONLY: dict[str, tuple[tuple[int, tuple[int, ...]], ...]] = {
    "prlimit64": ((0, (0, _SELF)),), "sched_setaffinity": ((0, (0, _SELF)),),
    "sched_setscheduler": ((0, (0, _SELF)),), "sched_setparam": ((0, (0, _SELF)),),
    "sched_setattr": ((0, (0, _SELF)),), "setpriority": ((0, (0,)), (1, (0, _SELF))),
    "ioprio_set": ((0, (1,)), (1, (0, _SELF))), "migrate_pages": ((0, (0, _SELF)),),
    "move_pages": ((0, (0, _SELF)),), "kill": ((0, (_SELF, _OWN_GROUP)),),
    "tgkill": ((0, (_SELF,)),),
}  # fmt: skip

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int
# procfs makes a *new* inode each time a dropped dentry is looked up again (memory pressure,
# drop_caches), and Landlock rules hang on inodes: /proc/self would then be denied. The O_PATH
# fds of /proc rules stay open for the process's life so their dentries, and inodes, stay.
_PINNED: list[int] = []


def _syscall(nr: int, *args: int | ctypes.c_void_p | None) -> int:
    ctypes.set_errno(0)
    res = _libc.syscall(
        ctypes.c_long(nr), *(a if not isinstance(a, int) else ctypes.c_long(a) for a in args)
    )
    if res < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return res


def _prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    zero = ctypes.c_ulong(0)  # varargs: a bare 0 would leave a register's upper half undefined
    res = _libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), zero, zero)
    if res < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return res


def _arch() -> tuple[int, dict[str, int]] | None:
    """This machine's AUDIT_ARCH_* and syscall table; None where neither is known."""
    machine = platform.machine()
    return (_ARCHES[machine], syscalls.TABLES[machine]) if machine in _ARCHES else None


def _landlock_abi() -> int:
    try:
        return _syscall(_LL_CREATE, None, 0, _LL_VERSION)
    except OSError:
        return 0  # ENOSYS: not built in; EOPNOTSUPP: not enabled at boot


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1  # no /proc: unknown, which confine() treats as "more than one"


def probe() -> dict:
    """What the kernel offers, without changing anything (cheap: a few syscalls and reads)."""
    arch = _arch()
    abi = _landlock_abi()
    seccomp = False
    if arch is not None:
        action = ctypes.c_uint32(_RET_KILL_PROCESS)
        try:
            ptr = ctypes.cast(ctypes.byref(action), ctypes.c_void_p)
            seccomp = _syscall(arch[1]["seccomp"], _SECCOMP_GET_ACTION_AVAIL, 0, ptr) == 0
        except OSError:
            pass
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            userns = int(f.read()) > 0
    except (OSError, ValueError):
        userns = False
    return {"arch": platform.machine(), "landlock": abi, "landlock_tsync": abi >= 8,
            "seccomp": seccomp, "userns": userns, "euid": os.geteuid(),
            "threads": _thread_count()}  # fmt: skip


def _drop_capabilities(table: dict[str, int]) -> None:
    """Root without capabilities: bounding set, ambient set, then effective/permitted/inheritable;
    securebits first (needs CAP_SETPCAP) so that uid 0 never regains them (no exec does anyway)."""
    try:  # NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE, each locked; KEEP_CAPS off and locked
        _prctl(28, 0b11101111)  # PR_SET_SECUREBITS
    except OSError:
        pass  # in a user namespace without CAP_SETPCAP over it: the rest still holds
    for cap in range(64):
        try:
            _prctl(24, cap)  # PR_CAPBSET_DROP
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # past CAP_LAST_CAP
                break
            raise
    _prctl(47, 4)  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL
    # _LINUX_CAPABILITY_VERSION_3 for this thread, then two all-zero __user_cap_data_struct
    header = ctypes.create_string_buffer(struct.pack("=Ii", 0x20080522, 0), 8)
    data = ctypes.create_string_buffer(24)
    _syscall(
        table["capset"],
        ctypes.cast(header, ctypes.c_void_p),
        ctypes.cast(data, ctypes.c_void_p),
    )
    with open("/proc/thread-self/status") as f:
        caps = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
    if any(int(caps.get(k, "1"), 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")):
        raise ConfineError(f"capabilities remain after the drop: {caps}")


def _landlock(policy: Policy, abi: int, threads: int) -> dict:
    """Build and enforce the ruleset; return what it covers."""
    fs = _ABI1_FS | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    fs |= _IOCTL_DEV if abi >= 5 else 0
    net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0
    attr = struct.pack("=QQQ", fs, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _syscall(_LL_CREATE, ctypes.cast(buf, ctypes.c_void_p), len(attr), 0)
    read = _R | _RDIR | _X  # EXECUTE governs execve only (refused anyway); mmap needs READ_FILE
    system = SYSTEM_READ if policy.system_read is None else policy.system_read
    grants = [(p, read) for p in (*system, *policy.read)]
    grants += [(p, _RDIR) for p in policy.listed]
    grants += [(p, fs) for p in (*policy.write, *policy.devices)]
    if policy.proc_self:
        # /proc/self resolves to this process's own /proc/<pid> as this /proc mount numbers it.
        grants += [("/proc/self", _R | _RDIR), *((p, _R) for p in PROC_READ)]
    added, skipped = 0, []
    try:
        for path, rights in grants:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                skipped.append(path)
                continue
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                rights &= _FILE_ONLY
            rule = ctypes.create_string_buffer(struct.pack("=Qi", rights & fs, fd), 12)
            try:
                _syscall(_LL_ADD, ruleset, _LL_RULE_PATH, ctypes.cast(rule, ctypes.c_void_p), 0)
                added += 1
            finally:
                if path.startswith("/proc/"):
                    _PINNED.append(fd)
                else:
                    os.close(fd)
        _syscall(_LL_RESTRICT, ruleset, _LL_TSYNC if threads != 1 else 0)
    finally:
        os.close(ruleset)
    scopes = [n for n, bit in (("abstract_unix_socket", _SCOPE_ABSTRACT_UNIX),
                               ("signal", _SCOPE_SIGNAL)) if scoped & bit]  # fmt: skip
    return {
        "landlock": abi,
        "fs": "allowlist",
        "fs_rules": added,
        "skipped": skipped,
        "net": "tcp denied" if net else "not covered (ABI < 4)",
        "scopes": scopes,
    }


def _bpf(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


_Op = tuple[int, int, int | str, int | str] | str  # an instruction, or a label


def _assemble(ops: list[_Op]) -> list[bytes]:
    """Resolve the labels (strings) that jumps name into forward offsets."""
    at, count = {}, 0
    for op in ops:
        if isinstance(op, str):
            at[op] = count
        else:
            count += 1
    prog: list[bytes] = []
    for op in ops:
        if not isinstance(op, str):
            code, k, jt, jf = (at[j] - len(prog) - 1 if isinstance(j, str) else j for j in op)
            prog.append(_bpf(code, k, jt, jf))
    return prog


def _arg(i: int) -> _Op:
    return (_LD_ABS_W, 16 + 8 * i, 0, 0)  # seccomp_data.args[i], low word (little-endian)


def _checked(name: str, own: dict[int, int]) -> list[bytes]:
    """The block that decides one checked syscall from its arguments; it ends in returns.
    Arguments are compared on their low 32 bits: the ones checked are ints (pid_t, flags,
    options, ioctl cmd) the kernel truncates the same way."""
    allow, deny = (_RET, _RET_ALLOW, 0, 0), (_RET, _RET_ERRNO | errno.EPERM, 0, 0)
    ops: list[_Op]
    if name == "clone":  # threads only (CLONE_THREAD, no new namespace): no fork, no spawn
        ops = [_arg(0), (_JSET, _CLONE_THREAD, 0, "deny"),
               (_JSET, _CLONE_NEW_NAMESPACES, "deny", 0)]  # fmt: skip
    elif name == "ioctl":  # no input injected into a terminal inherited as a descriptor
        ops = [_arg(1), (_JEQ, _TIOCSTI, "deny", 0), (_JEQ, _TIOCLINUX, "deny", 0)]
    elif name == "prctl":
        refused = (_PR_SET_PDEATHSIG, _PR_SCHED_CORE, _PR_SET_PTRACER)
        ops = [_arg(0), *((_JEQ, option, "deny", 0) for option in refused),
               (_JEQ, _PR_SET_DUMPABLE, 0, "allow"), _arg(1),
               (_JEQ, 0, "allow", "deny")]  # fmt: skip
    else:
        ops = []
        for n, (i, values) in enumerate(_SELF_ONLY[name]):  # any value passes, else refused
            ops.append(_arg(i))
            for j, value in enumerate(values):
                last = j == len(values) - 1
                ops.append((_JEQ, own.get(value, value), f"ok{n}", "deny" if last else 0))
            ops.append(f"ok{n}")
    return _assemble([*ops, "allow", allow, "deny", deny])


def _tree(ranges: list[tuple[int, list[bytes]]]) -> list[bytes]:
    """A binary search over ``ranges`` (first number, code that ends in a return), sorted:
    JGE jumps only, each over one subtree, through a JA where it is longer than 255."""
    if len(ranges) == 1:
        return ranges[0][1]
    middle = len(ranges) // 2
    low, high = _tree(ranges[:middle]), _tree(ranges[middle:])
    if len(low) <= 255:
        return [_bpf(_JGE, ranges[middle][0], len(low), 0), *low, *high]
    return [_bpf(_JGE, ranges[middle][0], 0, 1), _bpf(_JA, len(low)), *low, *high]


def _seccomp_program(audit_arch: int, table: dict[str, int], x32: bool, pid: int) -> list[bytes]:
    """An allowlist (``syscalls``): each number of the table gets its class's action, any
    other number EPERM. Consecutive numbers with the same action make one range."""
    eperm = _RET_ERRNO | errno.EPERM
    prog = [_bpf(_LD_ABS_W, 4), _bpf(_JEQ, audit_arch, 1, 0), _bpf(_RET, _RET_KILL_PROCESS),
            _bpf(_LD_ABS_W, 0)]  # fmt: skip
    if x32:  # x32 syscalls share AUDIT_ARCH_X86_64 but have bit 30 set: none allowed
        prog += [_bpf(_JGE, _X32_BIT, 0, 1), _bpf(_RET, eperm)]
    action: dict[int, list[bytes]] = {}
    own = {_SELF: pid, _OWN_GROUP: 0 if os.getpgid(0) == pid == os.getsid(0) else pid}
    for name, nr in table.items():
        if name in syscalls.ALLOWED:
            action[nr] = [_bpf(_RET, _RET_ALLOW)]
        elif name in syscalls.CHECKED:
            action[nr] = _checked(name, own)
        elif name in syscalls.REFUSED_ENOSYS:
            action[nr] = [_bpf(_RET, _RET_ERRNO | errno.ENOSYS)]
    ranges: list[tuple[int, list[bytes]]] = []
    for nr in range(max(table.values()) + 2):  # the last: every number past the table
        code = action.get(nr, [_bpf(_RET, eperm)])
        if not ranges or code != ranges[-1][1] or len(code) > 1:
            ranges.append((nr, code))
    return prog + _tree(ranges)


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def _seccomp(arch: tuple[int, dict[str, int]]) -> str:
    x32 = arch[0] == _ARCHES["x86_64"]
    prog = _seccomp_program(arch[0], arch[1], x32, os.getpid())
    code = ctypes.create_string_buffer(b"".join(prog))
    fprog = _SockFprog(len(prog), ctypes.cast(code, ctypes.c_void_p))
    # TSYNC: every thread of the process gets the filter (and no_new_privs), not only this one.
    ptr = ctypes.cast(ctypes.byref(fprog), ctypes.c_void_p)
    tid = _syscall(arch[1]["seccomp"], _SECCOMP_SET_MODE_FILTER, _FLAG_TSYNC, ptr)
    if tid:
        raise ConfineError(f"seccomp: thread {tid} could not be synchronised")
    allowed = sum(name in syscalls.ALLOWED for name in arch[1])
    checked = sum(name in syscalls.CHECKED for name in arch[1])
    return (
        f"{len(prog)} instructions: {allowed} syscalls allowed, {checked} checked, the rest refused"
    )


def confine(policy: Policy) -> dict:
    """Apply every layer this kernel offers to the whole process, irreversibly; return what was
    enforced. Raises ConfineError if Landlock's filesystem allowlist or seccomp is unavailable,
    or if threads already run that the kernel cannot confine along with this one. After a
    ConfineError raised past the thread check the process may be partly confined: exit."""
    start = time.perf_counter()
    arch = _arch()
    if arch is None:
        raise ConfineError(f"unsupported architecture {platform.machine()!r}")
    abi = _landlock_abi()
    if abi < 1:
        raise ConfineError("Landlock is not available (kernel < 5.13 or not enabled at boot)")
    threads, euid = _thread_count(), os.geteuid()
    if threads != 1 and (abi < 8 or euid == 0):
        raise ConfineError(
            f"{threads if threads > 0 else 'an unknown number of'} threads already run: "
            f"Landlock ABI {abi} "
            f"{'has' if abi >= 8 else 'lacks'} TSYNC and capabilities are per thread; "
            "call confine() before importing numpy or JAX"
        )
    try:
        _prctl(38, 1)  # PR_SET_NO_NEW_PRIVS
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if policy.file_size_mb is not None:
            size = policy.file_size_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        if euid == 0:
            _drop_capabilities(arch[1])
        done = _landlock(policy, abi, threads)
        done["seccomp"] = _seccomp(arch)
    except OSError as exc:
        raise ConfineError(f"confinement failed: {exc}") from exc
    done.update(no_new_privs=True, uid=euid, threads=threads,
                capabilities="none" if euid == 0 else "unprivileged",
                ms=round((time.perf_counter() - start) * 1000, 2))  # fmt: skip
    return done
