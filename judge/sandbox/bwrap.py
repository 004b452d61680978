"""``--sandbox bwrap``: the worker inside bubblewrap.

A PID namespace (killing the sandbox kills everything in it), no network, a read-only system, a
private /tmp, and the problem, the reference, the project and the judge's working folder
replaced by empty folders.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from .base import Launch, Sandbox, python_paths

# Where the runtime package is mounted inside the sandbox (a private /tmp).
RUNTIME_INSIDE = "/tmp/.judge/judge_runtime"


def _namespaces() -> list[str]:
    # Every namespace, and no capability left inside (root included): nothing in the sandbox
    # may mount, unmount (to uncover a hidden folder) or trace.
    return ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]


@functools.cache
def bwrap_problem() -> str | None:
    """Why ``--sandbox bwrap`` cannot be used here, or None when it can."""
    path = shutil.which("bwrap")
    if path is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        done = subprocess.run(
            [path, *_namespaces(), "--ro-bind", "/", "/", "--proc", "/proc", "true"],
            capture_output=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap did not run: {exc}"
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        return f"bubblewrap cannot create namespaces here: {' '.join(detail) or 'failed'}"
    return None


class BwrapSandbox(Sandbox):
    name = "bwrap"
    label = "bwrap"

    @classmethod
    def problem(cls) -> str | None:
        return bwrap_problem()

    def command(self, launch: Launch) -> list[str]:
        """Order matters: the system read-only first, then empty folders over what must stay
        hidden, then the Python installation and ``read_only`` folders again (they may live
        under a hidden folder, e.g. a project's .venv), then the worker's own folder, the only
        writable one."""
        from .base import RUNTIME_DIR

        bwrap = shutil.which("bwrap") or "bwrap"
        argv = [bwrap, *_namespaces(), "--ro-bind", "/", "/"]
        # CPU needs no device; GPUs and TPUs need theirs.
        argv += ["--dev", "/dev"] if launch.backend == "cpu" else ["--dev-bind", "/dev", "/dev"]
        argv += ["--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run"]
        for path in sorted({os.path.realpath(p) for p in launch.hide}):
            if path != "/" and os.path.isdir(path):
                argv += ["--tmpfs", path]
        for path in [*python_paths(launch.python), *launch.read_only]:
            if os.path.isdir(path):
                argv += ["--ro-bind", path, path]
        workdir = launch.workdir
        argv += ["--bind", workdir, workdir, "--ro-bind", str(RUNTIME_DIR), RUNTIME_INSIDE]
        argv += ["--chdir", workdir]
        return argv + self.python_command(launch, RUNTIME_INSIDE)

    def exit_code(self, code: int | None) -> int | None:
        """bubblewrap reports a worker killed by signal N as 128 + N."""
        if code is not None and 128 < code < 128 + 65:
            return -(code - 128)
        return code
