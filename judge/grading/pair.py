"""The two workers of a grading: the learner's (limited, guarded, sandboxed) and the
reference's (trusted; it also holds the problem's fingerprints, one slot each).

The reference's worker starts only when a case or a fingerprint is not known yet
(``memo``); when it is needed from the start, it starts beside the learner's so that their JAX
start-ups overlap.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .. import cache
from ..constants import STARTUP_TIMEOUT_S
from ..errors import BackendUnavailable, SandboxUnavailable, WorkerError
from ..limits import Limits
from ..problem import Problem
from ..runtime import wire
from ..sandbox import (
    Sandbox,
    Worker,
    WorkerDied,
    WorkerTimeout,
    probe_backends,
    resolve_sandbox,
    zygote,
)
from ..submission import Submission
from . import memo
from .options import GradeOptions


class WorkerPair:
    """Starts, loads, restarts and closes the two workers; talks to the reference's."""

    def __init__(
        self,
        submission: Submission,
        problem: Problem,
        options: GradeOptions,
        limits: Limits,
        sandbox: Sandbox,
        hidden: list[str],
        rid: memo.ReferenceId,
    ) -> None:
        self.submission = submission
        self.problem = problem
        self.options = options
        self.limits = limits
        self.sandbox = sandbox
        self.hidden = hidden
        self.rid = rid
        self.learner: Worker | None = None
        self.reference: Worker | None = None
        self.reference_ready = False
        self.reference_device: str | None = None  # as the reference's worker saw it
        self.earlier_output: list[dict[str, Any]] = []  # of learner workers restarted
        self.spare: Worker | None = None  # the next learner's worker, started ahead
        self.own_zygote: zygote.Zygote | None = None  # when no command started a shared one
        self.deadline: float | None = None  # the grading's end (monotonic): the learner's waits

    def forker(self, role: str) -> zygote.Zygote | None:
        """The zygote that forks this grading's workers of ``role``: the run's shared one
        (``judge grade`` and ``judge batch`` start it first thing), else one of this grading's
        own, ended with it (nothing outlives a grading). None for a fresh interpreter, as
        before: the zygote is off (``--no-zygote``), the learner's sandbox cannot fork here,
        or the reference's worker of a grading whose zygote is inside bubblewrap and whose
        command started no plain zygote beside it (the reference is trusted and runs outside
        any sandbox)."""
        if not zygote.enabled() or not self.sandbox.forks():
            return None
        python, backend = self.options.python or sys.executable, self.options.backend
        if role != "learner" and self.sandbox.zygote_kind != "plain":
            # The reference's plain zygote, where the command started one beside bubblewrap's
            # (``judge batch``, ``judge check``); else a fresh interpreter.
            return zygote.shared(python, backend, resolve_sandbox("none", backend))
        found = zygote.shared(python, backend, self.sandbox)
        if found is None:
            if self.own_zygote is None or not self.own_zygote.alive:
                if self.own_zygote is not None:
                    self.own_zygote.close()
                xla = cache.xla_dir()
                try:
                    self.own_zygote = zygote.Zygote(
                        python, backend, self.sandbox, (str(xla),) if xla else ()
                    )
                except OSError:
                    return None
            found = self.own_zygote
        return found

    def worker(self, role: str) -> Worker:
        """A worker for ``role``. Only the learner's is limited, guarded and sandboxed: the
        reference is trusted, and must see its own file."""
        learner = role == "learner"
        return Worker(
            role=role,
            backend=self.options.backend,
            precision=self.problem.precision,
            limits=self.limits,
            python=self.options.python,
            observe=True,
            sandbox=self.sandbox if learner else "none",
            hide=self.hidden if learner else (),
            guard=learner,
            compile_cache=cache.xla_dir(),
            device=self.options.device,
            zygote=self.forker(role),
            # The learner's every wait ends with the grading, and a worker that stops taking
            # requests is one whose call timed out.
            deadline=self.deadline if learner else None,
            send_s=self.limits.call_s if learner else STARTUP_TIMEOUT_S,
        )

    def hello(self, worker: Worker) -> dict[str, Any]:
        """The worker's first message; a backend it cannot start is the caller's usage error."""
        try:
            hello = worker.receive(STARTUP_TIMEOUT_S)
        except (WorkerTimeout, WorkerDied) as exc:
            detail = worker.output()["stderr"].strip().splitlines()[-1:]
            raise WorkerError(
                f"the {worker.role} worker did not start: {exc} {' '.join(detail)}".strip()
            ) from None
        if not hello.get("ok"):
            if hello.get("error") == "backend_unavailable":
                raise BackendUnavailable(
                    self.options.backend,
                    probe_backends(self.options.python),
                    str(hello.get("message", ""))[:200],
                )
            if hello.get("error") == "sandbox_failed":
                raise SandboxUnavailable(
                    f"--sandbox {self.sandbox.name}: the worker could not confine itself: "
                    f"{str(hello.get('message', ''))[:300]}"
                )
            raise WorkerError(f"the {worker.role} worker failed to start: {hello}")
        return hello

    def start_reference(self) -> None:
        self.reference = self.worker("reference")
        self.reference.start()

    def ensure_reference(self) -> Worker:
        """The reference's worker, started, with the reference and the fingerprints loaded."""
        if self.reference is not None and self.reference_ready:
            return self.reference
        if self.reference is None:
            self.start_reference()
        assert self.reference is not None
        self.reference_device = self.hello(self.reference).get("device")
        reply = self.reference.request(
            self._load_request(self.problem.reference), STARTUP_TIMEOUT_S
        )
        if not reply.get("ok"):
            raise WorkerError(
                f"the reference {self.problem.reference} failed to load: "
                f"{reply.get('code')}: {reply.get('message')}"
            )
        observed = reply.get("observations")
        memo.remember_load(self.rid, observed if isinstance(observed, list) else [])
        self._load_fingerprints(self.reference)
        self.reference_ready = True
        return self.reference

    def _load_request(
        self, path: Path | str, slot: str | None = None, learner: bool = False
    ) -> wire.LoadRequest:
        """Load ``path`` into a slot; the learner's function may be renamed (an assignment's
        ``entry_point:``), the reference's and the fingerprints' never."""
        problem = self.problem
        entry = problem.entry_point if learner else problem.reference_entry_point
        parameters = list(problem.parameters)
        return wire.load_request(str(path), entry or problem.entry_point, parameters, slot)

    def _load_fingerprints(self, reference: Worker) -> None:
        """Known-wrong variants go into the reference's worker, one slot each."""
        for number, fingerprint in enumerate(self.problem.fingerprints):
            reference.send(self._load_request(fingerprint.file, f"fingerprint_{number}"))
        for fingerprint in self.problem.fingerprints:
            reply = reference.receive(STARTUP_TIMEOUT_S)
            if not reply.get("ok"):
                raise WorkerError(
                    f"the fingerprint {fingerprint.file} failed to load: "
                    f"{reply.get('code')}: {reply.get('message')}"
                )

    def send_load(self) -> None:
        """Write the learner's file into its worker's folder and ask the worker to load it."""
        assert self.learner is not None
        path = Path(self.learner.directory) / self.submission.module_filename
        path.write_text(self.submission.source, encoding="utf-8")
        self.learner.send(self._load_request(path, learner=True))

    def restart_learner(self) -> bool:
        """A new learner's worker in place of the current one, its file loaded: nothing earlier
        calls left behind survives (a candidate killed the worker while shrinking, or a failure
        is to be confirmed). Whether the file loaded again."""
        if self.learner is not None:
            self.learner.close()
            self.earlier_output.append(self.learner.output())
        if self.spare is not None:
            self.learner, self.spare = self.spare, None
        else:
            self.learner = self.worker("learner")
            self.learner.start()
        try:  # every wait here ends with the grading (``deadline``): the time is the learner's
            self.hello(self.learner)
            self.send_load()
            return self.learner.receive(self.limits.call_s).get("ok") is True
        except (WorkerTimeout, WorkerDied, WorkerError):
            return False

    def start_spare_learner(self) -> None:
        """Start the next learner's worker now (its file is loaded only when it takes over),
        so that its start-up overlaps what the current one still does."""
        if self.spare is None:
            self.spare = self.worker("learner")
            self.spare.start()

    def memory_confirmed(self, reply: dict[str, Any]) -> bool:
        """Whether a "memory" reply makes a memory verdict. Python's own ``MemoryError`` (an
        allocation the kernel refused) does; an exception whose *text* says out of memory
        (XLA's RESOURCE_EXHAUSTED) does only when the kernel saw the pressure too: the
        learner's memory cgroup reached its limit. Without a memory cgroup there is no such
        fact, and the worker's classification stands."""
        if reply.get("type") == "MemoryError":
            return True
        learner = self.learner
        if learner is None or learner.memory_cgroup is None:
            return True
        return learner.memory_cgroup.pressed()

    def learner_output(self) -> dict[str, Any]:
        """What the learner's code printed, across every worker it ran in."""
        parts = [*self.earlier_output, *([self.learner.output()] if self.learner else [])]
        return {
            "stdout": "".join(p["stdout"] for p in parts),
            "stderr": "".join(p["stderr"] for p in parts),
            "truncated": any(p["truncated"] for p in parts),
            "bytes": {s: sum(p["bytes"][s] for p in parts) for s in ("stdout", "stderr")},
        }

    def close(self) -> None:
        """End both workers side by side: signal both, then reap and clean up each."""
        workers = [w for w in (self.reference, self.learner, self.spare) if w is not None]
        for worker in workers:
            worker.signal_end()
        for worker in workers:
            worker.close()
        if self.own_zygote is not None:
            self.own_zygote.close()
            self.own_zygote = None
