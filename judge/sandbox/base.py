"""The sandbox interface: how a worker's command line is wrapped, and what that enforces.

A sandbox is chosen by name (``--sandbox``); ``judge.sandbox`` keeps the registry. Adding one
is one module with a ``Sandbox`` subclass plus its line in the registry.
"""

from __future__ import annotations

import functools
import json
import os
import site
import subprocess
import sys
import sysconfig
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import judge.runtime

RUNTIME_DIR = Path(judge.runtime.__file__).resolve().parent

# Imports the runtime folder as the top-level package ``judge_runtime`` (whatever folder it is
# mounted at) and runs its entry point; argv: RUNTIME_DIR REQ RESP CONFIG.
BOOTSTRAP = (
    "import importlib.util as u,sys\n"
    "d=sys.argv.pop(1)\n"
    "s=u.spec_from_file_location('judge_runtime',d+'/__init__.py',submodule_search_locations=[d])\n"
    "m=u.module_from_spec(s);sys.modules['judge_runtime']=m;s.loader.exec_module(m)\n"
    "from judge_runtime.main import main\n"
    "sys.exit(main(sys.argv))\n"
)


@dataclass(frozen=True)
class Launch:
    """What a worker needs, before any sandbox wraps it."""

    python: str
    workdir: str
    backend: str
    fds: tuple[int, int]  # the request pipe's read end, the reply pipe's write end
    config: dict[str, Any]  # the WorkerConfig, before the sandbox adds to it
    hide: Sequence[str] = ()  # folders the learner must not see
    read_only: Sequence[str] = field(default_factory=tuple)  # extra folders it may read


class Sandbox(ABC):
    """One way of running a worker. Instances hold no state: one serves every worker."""

    name: str  # the --sandbox value
    label: str  # the report's environment.sandbox
    # Which zygote forks this sandbox's workers (``zygote``): "plain" (a process that confines
    # each child itself after the fork), "bwrap" (a zygote inside bubblewrap), or "" (none:
    # every worker a fresh interpreter).
    zygote_kind = ""

    @classmethod
    @abstractmethod
    def problem(cls) -> str | None:
        """Why this sandbox cannot be used on this machine; None when it can."""

    @abstractmethod
    def command(self, launch: Launch) -> list[str]:
        """The full command line of a worker run under this sandbox."""

    def prepare(self, workdir: str) -> None:
        """Make the worker's new folder ready for this sandbox (its owner, say); nothing to do
        by default."""
        return None

    def confinement(self, launch: Launch) -> dict[str, Any] | None:
        """What the worker must confine itself to, first thing (``runtime.confine``); None for
        a sandbox that needs no in-process confinement."""
        return None

    def confines(self) -> bool:
        """Whether its workers confine themselves (Landlock and seccomp: ``runtime.confine``)."""
        return False

    def backend_problem(self, backend: str) -> str | None:
        """Why this sandbox cannot run ``backend``'s workers; None when it can.

        Measured on an H200 (jax 0.11, CUDA 13): under the in-process confinement cuInit fails
        (CUDA_ERROR_OPERATING_SYSTEM) unless the worker may create an AF_UNIX socket and write
        under /proc/self; past that, XLA starts ptxas, a new process, to compile each kernel,
        and the confinement refuses every process start. Until a GPU policy allows those (an
        exec allowlist of ptxas alone), a confining sandbox says so here instead of failing as
        "backend not available". TPUs were never tried: not refused.
        """
        if backend in ("cpu", "tpu", "") or not self.confines():
            return None
        return (
            f"the {self.name} sandbox cannot start CUDA yet: its confinement refuses what CUDA "
            "and XLA need (an AF_UNIX socket, writes under /proc/self, and starting ptxas to "
            "compile each kernel); grade on the CPU, or pass --sandbox none for trusted code "
            "only (docs/backends.md: GPU)"
        )

    def forks(self) -> bool:
        """Whether this sandbox's workers may be forked by a zygote here."""
        return bool(self.zygote_kind)

    def zygote_command(
        self, python: str, backend: str, root: str, read_only: Sequence[str], argv: list[str]
    ) -> list[str]:
        """The zygote's command line (``argv``: its bootstrap, after ``python -I -B -c``);
        ``root`` holds the folders of the workers it forks. A plain process by default."""
        return [python, "-I", "-B", "-c", *argv]

    def exit_code(self, code: int | None) -> int | None:
        """The worker's own exit status, as ``subprocess`` reports it (negative: a signal)."""
        return code

    @staticmethod
    def python_command(launch: Launch, runtime_dir: str | Path = RUNTIME_DIR) -> list[str]:
        """``python -I -B -c BOOTSTRAP RUNTIME REQ RESP CONFIG``: no project tree, no user
        site-packages, no bytecode written."""
        return [
            launch.python,
            "-I",
            "-B",
            "-c",
            BOOTSTRAP,
            str(runtime_dir),
            str(launch.fds[0]),
            str(launch.fds[1]),
            json.dumps(launch.config),
        ]


# Asked of the worker's interpreter, as the worker starts it: where it imports from (the
# folders ``.pth`` files add included), and its installation.
_ASK_PATHS = (
    "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]))"
)


def _interpreter_paths(python: str) -> list[str]:
    """The folders ``python -I`` imports from; none when it cannot be asked."""
    try:
        done = subprocess.run(
            [python, "-I", "-c", _ASK_PATHS], capture_output=True, text=True, timeout=60
        )
        found = json.loads(done.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return []
    return [p for p in found if isinstance(p, str)] if isinstance(found, list) else []


@functools.cache
def python_paths(python: str) -> list[str]:
    """Folders the worker's Python needs to see: its installation, its site-packages and every
    folder on its ``sys.path``. Computed once per interpreter: callers must not change the
    list."""
    found = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.dirname(os.path.realpath(python))),
        *site.getsitepackages(),
        *(sysconfig.get_paths().get(k, "") for k in ("stdlib", "platstdlib", "purelib", "platlib")),
        *_interpreter_paths(python),
    }
    paths = sorted(os.path.realpath(p) for p in found if p and p != "/" and os.path.isdir(p))
    return [p for p in paths if not any(p.startswith(q + os.sep) for q in paths if q != p)]
