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
- seccomp: what Landlock cannot express: no process start, no namespaces, no ptrace-like
  access, no sockets, no io_uring/bpf/keyrings, no acting on other pids' limits or priorities.

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
_LD_ABS_W, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_SECCOMP_SET_MODE_FILTER, _SECCOMP_GET_ACTION_AVAIL, _FLAG_TSYNC = 1, 2, 1
_CLONE_THREAD = 0x00010000
_CLONE_NEW_NAMESPACES = 0x7E020080  # NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C  # inject input into / drive a terminal inherited as an fd
_X32_BIT = 0x40000000

# Syscall numbers: x86_64 (asm/unistd_64.h), aarch64 (asm-generic/unistd.h); None: absent there.
_ARCHES = {"x86_64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1)}  # AUDIT_ARCH_*, column
_NR: dict[str, tuple[int | None, int | None]] = {
    "execve": (59, 221), "execveat": (322, 281), "fork": (57, None), "vfork": (58, None),
    "clone": (56, 220), "clone3": (435, 435), "ptrace": (101, 117),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "kcmp": (312, 272),
    "pidfd_getfd": (438, 438), "process_madvise": (440, 440), "prlimit64": (302, 261),
    "socket": (41, 198), "memfd_create": (319, 279), "memfd_secret": (447, 447),
    "shmget": (29, 194), "shmat": (30, 196), "shmctl": (31, 195), "msgget": (68, 186),
    "semget": (64, 190), "io_uring_setup": (425, 425), "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427), "bpf": (321, 280), "perf_event_open": (298, 241),
    "userfaultfd": (323, 282), "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41),
    "chroot": (161, 51), "unshare": (272, 97), "setns": (308, 268), "move_mount": (429, 429),
    "open_tree": (428, 428), "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432),
    "fspick": (433, 433), "mount_setattr": (442, 442), "open_tree_attr": (467, 467),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "reboot": (169, 142),
    "swapon": (167, 224), "swapoff": (168, 225), "acct": (163, 89), "quotactl": (179, 60),
    "quotactl_fd": (443, 443), "setuid": (105, 146), "setgid": (106, 144),
    "setreuid": (113, 145), "setregid": (114, 143), "setgroups": (116, 159),
    "setresuid": (117, 147), "setresgid": (119, 149), "setfsuid": (122, 151),
    "setfsgid": (123, 152), "personality": (135, 92), "iopl": (172, None),
    "ioperm": (173, None), "uselib": (134, None), "name_to_handle_at": (303, 264),
    "open_by_handle_at": (304, 265), "syslog": (103, 116), "fanotify_init": (300, 262),
    "ioctl": (16, 29), "sched_setaffinity": (203, 122), "sched_setscheduler": (144, 119),
    "sched_setparam": (142, 118), "sched_setattr": (314, 274), "setpriority": (141, 140),
    "ioprio_set": (251, 30), "migrate_pages": (256, 238), "move_pages": (279, 239),
    "capset": (126, 91), "seccomp": (317, 277),
    # Metadata: Landlock governs reading and writing data, not modes, owners, times or
    # extended attributes, and the worker (root without capabilities, or bwrap's nobody mapped
    # to root) owns root's files: without these, a learner could chmod /dev/null or /tmp.
    "chmod": (90, None), "fchmod": (91, 52), "fchmodat": (268, 53), "fchmodat2": (452, 452),
    "chown": (92, None), "fchown": (93, 55), "lchown": (94, None), "fchownat": (260, 54),
    "utime": (132, None), "utimes": (235, None), "futimesat": (261, None),
    "utimensat": (280, 88), "setxattr": (188, 5), "lsetxattr": (189, 6), "fsetxattr": (190, 7),
    "removexattr": (197, 14), "lremovexattr": (198, 15), "fremovexattr": (199, 16),
    "setxattrat": (463, 463), "removexattrat": (466, 466),
    # POSIX message queues and the rest of SysV IPC: host-wide names, a channel between
    # submissions that outlives them.
    "mq_open": (240, 180), "mq_unlink": (241, 181), "mq_timedsend": (242, 182),
    "mq_timedreceive": (243, 183), "mq_notify": (244, 184), "mq_getsetattr": (245, 185),
    "msgsnd": (69, 189), "msgrcv": (70, 188), "msgctl": (71, 187), "semop": (65, 193),
    "semctl": (66, 191), "semtimedop": (220, 192), "shmdt": (67, 197),
}  # fmt: skip
# Allowed only on the caller itself: each (argument, value) must hold, a pid or "who" of 0.
# Root without capabilities may still renice, re-pin or re-limit any other root process, the
# judge included. setpriority and ioprio_set also choose *what* "who" names: 0 with PRIO_USER
# or IOPRIO_WHO_USER is every process of the caller's uid (every other worker), with a process
# group its group; only "a process" (PRIO_PROCESS 0, IOPRIO_WHO_PROCESS 1) is left.
_SELF_ONLY: dict[str, tuple[tuple[int, int], ...]] = {
    "prlimit64": ((0, 0),), "sched_setaffinity": ((0, 0),), "sched_setscheduler": ((0, 0),),
    "sched_setparam": ((0, 0),), "sched_setattr": ((0, 0),), "setpriority": ((0, 0), (1, 0)),
    "ioprio_set": ((0, 1), (1, 0)), "migrate_pages": ((0, 0),), "move_pages": ((0, 0),),
}  # fmt: skip
# Refused outright with EPERM: process starts, other processes' memory, kernel attack surface
# (io_uring, bpf, userfaultfd, perf), namespaces and mounts, keyrings, modules, identity changes,
# file handles (open_by_handle_at walks around paths), sockets (nothing in Python/JAX/Flax needs
# one; Landlock below ABI 9 does not cover connect() to a *pathname* UNIX socket, nor UDP),
# SysV IPC a sibling worker could attach to, the kernel log.
_DENIED = tuple(n for n in _NR if n not in {"clone", "clone3", "ioctl", "capset", "seccomp"}
                and n not in _SELF_ONLY)  # fmt: skip

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


def _arch() -> tuple[int, int] | None:
    return _ARCHES.get(platform.machine())


def _num(name: str, col: int) -> int:
    nr = _NR[name][col]
    if nr is None:
        raise ConfineError(f"no syscall {name} on {platform.machine()}")
    return nr


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
            seccomp = _syscall(_num("seccomp", arch[1]), _SECCOMP_GET_ACTION_AVAIL, 0, ptr) == 0
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


def _drop_capabilities(col: int) -> None:
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
        _num("capset", col),
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
    grants = [(p, read) for p in (*SYSTEM_READ, *policy.read)]
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


def _seccomp_program(audit_arch: int, col: int, x32: bool) -> list[bytes]:
    """Allow by default; refuse the syscalls above. Each block ends in a return, so every jump
    is short (BPF offsets are 8 bits). Arguments are compared on their low 32 bits: the ones
    checked are ints (pid_t, flags, ioctl cmd) the kernel truncates the same way."""
    eperm = _RET_ERRNO | errno.EPERM
    prog = [_bpf(_LD_ABS_W, 4), _bpf(_JEQ, audit_arch, 1, 0), _bpf(_RET, _RET_KILL_PROCESS),
            _bpf(_LD_ABS_W, 0)]  # fmt: skip
    if x32:  # x32 syscalls share AUDIT_ARCH_X86_64 but have bit 30 set: none allowed
        prog += [_bpf(_JGE, _X32_BIT, 0, 1), _bpf(_RET, eperm)]

    def nr(name: str) -> int:
        return _num(name, col)

    def arg(i: int) -> bytes:
        return _bpf(_LD_ABS_W, 16 + 8 * i)  # seccomp_data.args[i], low word (little-endian)

    for name in _DENIED:
        if _NR[name][col] is not None:  # fork, vfork, iopl... do not exist on aarch64
            prog += [_bpf(_JEQ, nr(name), 0, 1), _bpf(_RET, eperm)]
    # clone3 hides its flags in memory BPF cannot read: ENOSYS makes glibc fall back to clone.
    prog += [_bpf(_JEQ, nr("clone3"), 0, 1), _bpf(_RET, _RET_ERRNO | errno.ENOSYS)]
    # clone: threads only (CLONE_THREAD, no new namespace); fork, vfork, posix_spawn refused.
    block = [arg(0), _bpf(_JSET, _CLONE_THREAD, 0, 2), _bpf(_JSET, _CLONE_NEW_NAMESPACES, 1, 0),
             _bpf(_RET, _RET_ALLOW), _bpf(_RET, eperm)]  # fmt: skip
    prog += [_bpf(_JEQ, nr("clone"), 0, len(block)), *block]
    block = [arg(1), _bpf(_JEQ, _TIOCSTI, 2, 0), _bpf(_JEQ, _TIOCLINUX, 1, 0),
             _bpf(_RET, _RET_ALLOW), _bpf(_RET, eperm)]  # fmt: skip
    prog += [_bpf(_JEQ, nr("ioctl"), 0, len(block)), *block]
    for name, conditions in _SELF_ONLY.items():
        block = []
        for k, (i, value) in enumerate(conditions):  # a mismatch jumps to the refusal
            block += [arg(i), _bpf(_JEQ, value, 0, 2 * (len(conditions) - k) - 1)]
        block += [_bpf(_RET, _RET_ALLOW), _bpf(_RET, eperm)]
        prog += [_bpf(_JEQ, nr(name), 0, len(block)), *block]
    return [*prog, _bpf(_RET, _RET_ALLOW)]


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def _seccomp(arch: tuple[int, int]) -> str:
    prog = _seccomp_program(arch[0], arch[1], x32=arch[1] == 0)
    code = ctypes.create_string_buffer(b"".join(prog))
    fprog = _SockFprog(len(prog), ctypes.cast(code, ctypes.c_void_p))
    # TSYNC: every thread of the process gets the filter (and no_new_privs), not only this one.
    ptr = ctypes.cast(ctypes.byref(fprog), ctypes.c_void_p)
    tid = _syscall(_num("seccomp", arch[1]), _SECCOMP_SET_MODE_FILTER, _FLAG_TSYNC, ptr)
    if tid:
        raise ConfineError(f"seccomp: thread {tid} could not be synchronised")
    filtered = sum(_NR[n][arch[1]] is not None for n in _NR if n not in ("capset", "seccomp"))
    return f"{len(prog)} instructions, {filtered} syscalls filtered"


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
