"""The audit-hook guard: a tripwire that explains, in plain words, what graded code may not do.

It is not the boundary (code that reaches native calls another way is out of its sight; the
kernel's sandbox is the boundary): it turns the common attempts into a clear
``forbidden_operation`` instead of a bare permission error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

# Audit events a graded function has no business raising: starting or signalling processes,
# the network, native code loaded by hand. Denied while the learner's code runs.
DENIED_EVENTS = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.startfile",
        "subprocess.Popen",
        "pty.spawn",
        "os.killpg",
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.dlsym/handle",
        "os.link",
        "os.chroot",
        "os.setuid",
        "os.setgid",
    }
)
# Events whose first argument is a path to be changed: allowed inside the worker's own folder.
_WRITE_EVENTS = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.utime",
        "os.symlink",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.move",
    }
)
_READ_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "os.chdir", "glob.glob"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _disarm_fork_exec(deny: Callable[[str], NoReturn]) -> None:
    """Replace the one way to start a process that raises no audit event.

    ``_posixsubprocess.fork_exec`` (behind ``subprocess`` and ``multiprocessing``) forks and
    execs without an audit event of its own; ``subprocess`` also keeps it as ``_fork_exec``.
    Both names now refuse, and importing the extension again for a fresh copy is refused by
    the hook (a cached module raises no import event, so only such a re-import is refused).
    """
    import _posixsubprocess
    import subprocess

    def refuse(*args: Any, **kwargs: Any) -> None:
        deny("starting processes")

    _posixsubprocess.fork_exec = refuse  # type: ignore[assignment]
    subprocess._fork_exec = refuse  # type: ignore[attr-defined]


class GuardDenied(PermissionError):
    """What the learner's code gets for a denied operation."""


def _deny(what: str) -> NoReturn:
    raise GuardDenied(f"the judge does not allow {what} in graded code")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _resolve(target: Any) -> str | None:
    if isinstance(target, int):
        return None  # an open file descriptor: it was checked when it was opened
    try:
        raw = os.fsdecode(target)
    except (TypeError, ValueError):
        return None
    return os.path.realpath(os.path.join(os.getcwd(), raw) if not os.path.isabs(raw) else raw)


def _readable_rule(
    home: str, protected: Sequence[str], allowed: Sequence[str]
) -> Callable[[str], bool]:
    """Whether graded code may read a path: its own folder, /proc of itself, and what no
    protected root covers. The deepest matching root decides: the Python installation stays
    readable inside a hidden project (a .venv), a problem folder stays hidden inside
    site-packages."""
    temp_root = os.path.dirname(home)
    roots = sorted(
        [(os.path.realpath(p), False) for p in protected if p]
        + [(os.path.realpath(p), True) for p in allowed if p],
        key=lambda root: -len(root[0]),
    )
    own_pid = os.getpid()

    def readable(path: str) -> bool:
        if _inside(path, home):
            return True
        if path.startswith("/proc/"):  # another process's memory, environment, files
            part = path.split("/")[2]
            return not part.isdigit() or int(part) == own_pid
        for root, allow in roots:
            if _inside(path, root):
                return allow
        # other workers' folders (judge-learner-..., judge-reference-...) are not this one's
        if _inside(path, temp_root) and path != temp_root:
            return not os.path.relpath(path, temp_root).split(os.sep)[0].startswith("judge-")
        return True

    return readable


_WRITABLE_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")


def install_guard(workdir: str, protected: Sequence[str], allowed: Sequence[str] = ()) -> None:
    """Deny, from now on, what graded code must not do: read the judge's files (the problem,
    the reference, the project, other workers' folders), write outside ``workdir``, start or
    signal processes, use the network, or load native code by hand.

    An audit hook (PEP 578) cannot be removed once added, and this one keeps no state a learner
    could flip: its rules live in a closure over immutable values.
    """
    home = os.path.realpath(workdir)
    readable = _readable_rule(home, protected, allowed)
    own_pid = os.getpid()
    # Everything the hook uses is bound here, as locals of the closure: replacing this
    # module's globals afterwards changes nothing.
    deny, inside, resolve = _deny, _inside, _resolve
    denied, read_events, write_events = DENIED_EVENTS, _READ_EVENTS, _WRITE_EVENTS
    write_flags, devices = _WRITE_FLAGS, _WRITABLE_DEVICES

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in denied:
            deny(event)
        if event == "import" and args and args[0] == "_posixsubprocess":
            deny("importing _posixsubprocess again")
        if event == "os.kill":
            if args and args[0] not in (own_pid, 0):
                deny("signalling other processes")
            return
        if event in read_events:
            path = resolve(args[0]) if args else None
            if path is None:
                return
            if not readable(path):
                deny(f"access to {path}")
            mode, flags = (args[1], args[2]) if event == "open" and len(args) >= 3 else (None, 0)
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags
            )
            if writes and not inside(path, home) and path not in devices:
                deny(f"writing {path} (only the current folder is writable)")
            return
        if event in write_events:
            for target in args[:2] if event in ("os.rename", "shutil.move") else args[:1]:
                path = resolve(target)
                if path is not None and not inside(path, home):
                    deny(f"changing {path} (only the current folder is writable)")

    _disarm_fork_exec(_deny)  # first: it imports what the hook then refuses to import again
    sys.addaudithook(hook)
