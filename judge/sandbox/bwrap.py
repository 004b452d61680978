"""``--sandbox bwrap``: the worker inside bubblewrap, with an allowlist of mounts.

Nothing of the host is visible but what the worker needs: the system's libraries (``/usr``
and the few files of ``/etc`` the dynamic loader, time and OpenSSL read), the Python
installation, the runtime package and the compilation cache, read-only; its own folder,
read-write; a private /tmp, /proc and /dev. Every namespace is new (a PID namespace: killing
the sandbox kills everything in it; no network), no capability is left, and the worker runs as
``nobody`` (uid 65534) inside its user namespace. Where the kernel has Landlock and seccomp,
the worker also confines itself inside (``runtime.confine``), as with ``--sandbox landlock``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

from ..runtime import confine
from .allowlist import judge_package_data
from .base import RUNTIME_DIR, Launch, Sandbox, python_paths
from .landlock import landlock_problem, readable

# Where the runtime package is mounted inside the sandbox (a private /tmp).
RUNTIME_INSIDE = "/tmp/.judge/judge_runtime"
NOBODY = 65534


def _namespaces() -> list[str]:
    # Every namespace, and no capability left inside: nothing in the sandbox may mount,
    # unmount (to uncover a hidden folder) or trace.
    return ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]


def _inside_uid() -> list[str]:
    """``nobody`` inside the sandbox's user namespace. Outside, that namespace maps to the
    judge's own uid (bubblewrap can map no other), so when the judge is root the allowlist of
    mounts, the dropped capabilities and Landlock are what keep the host out of reach."""
    return ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]


def _system_mounts() -> list[str]:
    """The system, read-only: links kept as links (a merged /usr), the rest bound."""
    argv: list[str] = []
    for path in confine.SYSTEM_READ:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            argv += ["--ro-bind", path, path]
    return argv


@functools.cache
def bwrap_problem() -> str | None:
    """Why ``--sandbox bwrap`` cannot be used here, or None when it can."""
    path = shutil.which("bwrap")
    if path is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    argv = [path, *_namespaces(), *_inside_uid(), *_system_mounts(), "--proc", "/proc", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap did not run: {exc}"
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        return f"bubblewrap cannot create namespaces here: {' '.join(detail) or 'failed'}"
    return None


def _covered(mounted: Sequence[str], hide: Sequence[str], keep: Sequence[str]) -> list[str]:
    """The hidden folders that lie strictly inside a mounted one (those the mounts would show),
    but for one that holds a folder granted on purpose (``keep``: the compilation cache)."""
    inside = {os.path.realpath(h) for h in hide if h}
    roots = [os.path.realpath(m) for m in mounted]
    kept = [os.path.realpath(k) for k in keep]
    return sorted(
        h
        for h in inside
        if os.path.isdir(h)
        and any(h.startswith(r + os.sep) for r in roots)
        and not any(k == h or k.startswith(h + os.sep) for k in kept)
    )


class BwrapSandbox(Sandbox):
    name = "bwrap"
    label = "bwrap"

    @classmethod
    def problem(cls) -> str | None:
        return bwrap_problem()

    zygote_kind = "bwrap"

    def forks(self) -> bool:
        """One bubblewrap holds the zygote and every worker it forks, so the workers' folders
        are kept apart by Landlock alone, inside: without Landlock, a fresh bubblewrap each."""
        return landlock_problem() is None

    @staticmethod
    def _wrap(
        python: str, backend: str, read_only: Sequence[str], workdir: str, hide: Sequence[str]
    ) -> list[str]:
        """bubblewrap's arguments around one process whose writable folder is ``workdir``;
        each folder of ``hide`` under a mounted one covered by an empty read-only tmpfs."""
        bwrap = shutil.which("bwrap") or "bwrap"
        argv = [bwrap, *_namespaces(), *_inside_uid(), *_system_mounts()]
        # CPU needs no device; GPUs and TPUs need theirs. The nodes --dev binds are the host's
        # own inodes: their modes, times and attributes are kept by the seccomp filter inside
        # (no chmod, utime or xattr call), which needs Landlock to be applied; a read-only bind
        # would make them unusable (bubblewrap remounts read-only with nodev).
        argv += ["--dev", "/dev"] if backend == "cpu" else ["--dev-bind", "/dev", "/dev"]
        argv += ["--proc", "/proc", "--tmpfs", "/tmp"]
        mounted = [*confine.SYSTEM_READ, *python_paths(python), *read_only]
        for path in [*python_paths(python), *read_only]:
            if os.path.isdir(path):
                argv += ["--ro-bind", path, path]
        for path in _covered(mounted, hide, read_only):
            argv += ["--tmpfs", path, "--remount-ro", path]
        argv += ["--bind", workdir, workdir, "--ro-bind", str(RUNTIME_DIR), RUNTIME_INSIDE]
        return [*argv, "--chdir", workdir]

    def command(self, launch: Launch) -> list[str]:
        hide = [*launch.hide, *judge_package_data()]
        wrap = self._wrap(launch.python, launch.backend, launch.read_only, launch.workdir, hide)
        return wrap + self.python_command(launch, RUNTIME_INSIDE)

    def zygote_command(
        self, python: str, backend: str, root: str, read_only: Sequence[str], argv: list[str]
    ) -> list[str]:
        """The zygote inside one bubblewrap whose writable folder is ``root`` (each worker's
        folder is made in it); the runtime where workers see it, ``RUNTIME_INSIDE``."""
        inside = [argv[0], RUNTIME_INSIDE, *argv[2:]]  # the bootstrap, then the runtime
        wrap = self._wrap(python, backend, read_only, root, judge_package_data())
        return [*wrap, python, "-I", "-B", "-c", *inside]

    def confines(self) -> bool:
        return landlock_problem() is None

    def confinement(self, launch: Launch) -> dict[str, Any] | None:
        if landlock_problem() is not None:
            return None
        return readable(launch, RUNTIME_INSIDE)

    def exit_code(self, code: int | None) -> int | None:
        """bubblewrap reports a worker killed by signal N as 128 + N."""
        if code is not None and 128 < code < 128 + 65:
            return -(code - 128)
        return code
