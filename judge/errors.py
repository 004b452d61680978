"""The judge's own exceptions: faults of the command line, the problem package or the judge.

A learner's mistake is never an exception here: it is a verdict in a Report. These are raised
only when the judge cannot grade at all, and the CLI turns each into one line and an exit code::

    JudgeError                      base; exit 3 unless a subclass says otherwise
    ├── UsageError                  bad command-line input: exit 2
    │   ├── SubmissionNotFound      the learner file does not exist or cannot be read
    │   ├── ProblemNotFound         no problem package of that name, or none could be inferred
    │   ├── BackendUnavailable      the requested JAX backend cannot start on this machine
    │   └── SandboxUnavailable      --sandbox bwrap asked for, and bubblewrap cannot run
    ├── ProblemError                an invalid problem package (every error listed): exit 2
    └── WorkerError                 a judge-side worker fault (the reference failed, a broken
                                    protocol from the reference): verdict judge_error, exit 3
"""

from __future__ import annotations

from collections.abc import Sequence


class JudgeError(Exception):
    """Base of every exception the judge raises on purpose."""

    exit_code = 3


class UsageError(JudgeError):
    """The command line asked for something the judge cannot do. Fix the command and rerun."""

    exit_code = 2


class SubmissionNotFound(UsageError, FileNotFoundError):
    """The submission path does not exist, is a folder, or cannot be read."""


class ProblemNotFound(UsageError, LookupError):
    """No problem package matches. Pass ``--problem NAME`` or ``--problems DIR``."""


class BackendUnavailable(UsageError, RuntimeError):
    """The requested backend (cpu, gpu, tpu) cannot start here; the message names those that can."""

    def __init__(self, backend: str, available: Sequence[str], detail: str = "") -> None:
        self.backend = backend
        self.available = list(available)
        names = ", ".join(self.available) or "none"
        extra = f" ({detail})" if detail else ""
        super().__init__(f"backend {backend!r} is not available here{extra}; available: {names}")


class SandboxUnavailable(UsageError, RuntimeError):
    """``--sandbox bwrap`` was asked for and bubblewrap cannot run here; the message says why."""


class ProblemError(JudgeError, ValueError):
    """A problem package is invalid. ``errors`` holds every (field, message) found, not just one.

    Common causes: a typo in a key (the message suggests the closest valid one), a range whose
    ``min`` exceeds its ``max``, a shape naming an input that is not an integer.
    """

    exit_code = 2

    def __init__(self, path: str, errors: Sequence[tuple[str, str]]) -> None:
        self.path = path
        self.errors = list(errors)
        lines = [
            f"{path}: {field}: {message}" if field else f"{path}: {message}"
            for field, message in self.errors
        ]
        super().__init__("\n".join(lines))


class WorkerError(JudgeError):
    """A worker failed in a way that is the judge's fault, never the learner's (exit 3)."""
