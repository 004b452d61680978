"""Running cases on both sides and comparing them; shrinking a failing case.

Each case runs at most once per side per grading: the reference's answer comes from ``memo``
when known, the learner's outcome from ``outcomes``.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import numpy as np

from ..cases import Case, shrink_candidates
from ..compare import Opaque, compare, is_informative
from ..errors import WorkerError
from ..limits import Limits
from ..problem import Problem, Tolerance
from ..runtime.wire import decode_array, encode_array
from ..sandbox import WorkerDied, WorkerTimeout
from ..structure import Observations
from . import memo
from .outcome import FATAL_FAILURES, Budget, Outcome
from .pair import WorkerPair
from .replies import clean_reply


def wire_value(value: Any) -> Any:
    """A case's argument as it travels: arrays encoded, integers as ints."""
    return encode_array(value) if isinstance(value, np.ndarray) else int(value)


class Evaluator:
    """Evaluates cases for one grading; keeps each outcome and both sides' observations."""

    def __init__(
        self, pair: WorkerPair, problem: Problem, limits: Limits, backend: str, budget: Budget
    ) -> None:
        self.pair = pair
        self.problem = problem
        self.limits = limits
        self.backend = backend
        self.budget = budget
        self.outcomes: dict[str, Outcome] = {}
        self.learner_seen = Observations()
        self.reference_seen = Observations()
        self.computed = False  # did this grading add to the reference's known results?

    def tolerance(self, dtype: str) -> Tolerance:
        problem = self.problem
        tol = problem.tolerance_for(dtype, self.backend) or problem.tolerance_for(
            problem.output_dtype, self.backend
        )
        if tol is None:
            raise WorkerError(
                f"{problem.name}: no tolerance declared for {dtype} on {self.backend}"
            )
        return tol

    def _expected(self, case: Case) -> memo.Expected:
        """Receive the reference's answer to a case already sent; validate it."""
        reference = self.pair.reference
        assert reference is not None
        where = case.describe(self.problem)
        try:
            reply = reference.receive(max(self.limits.call_s * 3, 60.0))
        except (WorkerTimeout, WorkerDied) as exc:
            raise WorkerError(f"the reference failed on {where}: {exc}") from None
        self.budget.timing["reference_s"] += float(reply.get("elapsed_s") or 0.0)
        if not reply.get("ok") or reply.get("kind") != "array":
            detail = reply.get("message") or reply.get("repr") or reply.get("type")
            raise WorkerError(f"the reference failed on {where}: {detail}")
        array = decode_array(reply["array"])
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise WorkerError(f"the reference returned NaN or inf on {where}")
        observations = reply.get("observations")
        return memo.Expected(
            array,
            reply["array"]["__ndarray__"].get("original_dtype"),
            observations if isinstance(observations, list) else [],
        )

    def evaluate(self, case: Case) -> Outcome:
        """Run one case on both sides (each at most once per case) and compare."""
        if case.key in self.outcomes:
            return self.outcomes[case.key]
        learner, rid = self.pair.learner, self.pair.rid
        assert learner is not None
        args = [wire_value(v) for v in case.args(self.problem)]
        known = memo.expected(rid, case.key)
        if known is None:
            self.pair.ensure_reference().send({"op": "call", "args": args})
        remaining = self.budget.remaining()
        learner.send({"op": "call", "args": args})
        if known is None:
            known = self._expected(case)
            memo.remember_expected(rid, case.key, known)
            self.computed = True
        self.reference_seen.add(known.observed, case.key)
        tol = self.tolerance(known.original_dtype or str(known.array.dtype))
        outcome = Outcome(case, known.array, informative=is_informative(known.array, tol))
        limit = min(self.limits.call_s, max(remaining, 0.0))
        try:
            reply = clean_reply(learner.receive(limit))
        except WorkerTimeout:
            learner.kill()
            outcome.failure = "timeout"
            which = "call" if limit >= self.limits.call_s else "submission"
            outcome.reply = {"limit_s": limit, "which": which}
            return self._remember(outcome)
        except WorkerDied as exc:
            outcome.failure, outcome.reply = self.death(exc)
            return self._remember(outcome)
        self._judge_reply(outcome, reply, tol)
        return self._remember(outcome)

    def _judge_reply(self, outcome: Outcome, reply: dict[str, Any], tol: Tolerance) -> None:
        """Fill ``outcome`` from the learner's cleaned reply: its failure, or its comparison."""
        outcome.reply = reply
        self.learner_seen.add(reply.pop("observations", None), outcome.case.key)
        self.budget.timing["learner_s"] += float(reply.get("elapsed_s") or 0.0)
        started = time.perf_counter()
        if not reply.get("ok"):
            outcome.failure = {"memory": "memory", "too_large": "too_large"}.get(
                str(reply.get("kind")), "exception"
            )
        else:
            try:
                outcome.got = (
                    decode_array(reply["array"])
                    if reply.get("kind") == "array"
                    else Opaque(str(reply.get("type"))[:200], str(reply.get("repr"))[:300])
                )
            except (ValueError, KeyError, TypeError) as exc:
                outcome.got = Opaque("invalid", f"malformed reply: {exc}"[:300])
            assert outcome.expected is not None
            outcome.mismatch = compare(outcome.expected, outcome.got, tol)
            if outcome.mismatch is not None:
                outcome.failure = "mismatch"
        self.budget.timing["compare_s"] += time.perf_counter() - started

    def death(self, exc: WorkerDied) -> tuple[str, dict[str, Any]]:
        """Why the learner's process died: the CPU limit (SIGXCPU, or the SIGKILL that
        follows it), an allocation that failed under the memory limit, or anything else."""
        learner = self.pair.learner
        assert learner is not None
        code = exc.returncode
        if learner.disk_used_mb is not None:
            return "disk", {"returncode": code, "used_mb": learner.disk_used_mb}
        if code is not None and code != 0 and learner.ran_out_of_memory():
            return "memory", {"returncode": code}
        if code == -signal.SIGXCPU or (
            code == -signal.SIGKILL and learner.cpu_seconds() >= self.limits.cpu_s - 0.5
        ):
            return "timeout", {"limit_s": self.limits.cpu_s, "which": "cpu", "returncode": code}
        return "died", {"returncode": code}

    def _remember(self, outcome: Outcome) -> Outcome:
        self.outcomes[outcome.case.key] = outcome
        return outcome

    def shrink(self, failing: Outcome, budget_s: float) -> tuple[Outcome, int]:
        """Greedy: take the first simpler candidate that fails the same way; repeat."""
        started = time.monotonic()
        budget_end = min(started + budget_s, self.budget.deadline - 1.0)
        steps = 0
        current = failing
        improved = True
        while improved and time.monotonic() < budget_end:
            improved = False
            for candidate in shrink_candidates(self.problem, current.case):
                if time.monotonic() >= budget_end:
                    break
                outcome = self.evaluate(candidate)  # a case met before comes from its cache
                if outcome.failure in FATAL_FAILURES:
                    learner = self.pair.learner
                    if not (learner and learner.alive):  # not for a cached outcome
                        self.pair.restart_learner()
                    continue
                if (
                    not outcome.passed
                    and outcome.signature == failing.signature
                    and (outcome.informative or not failing.informative)
                ):
                    current, steps, improved = outcome, steps + 1, True
                    break
        self.budget.timing["shrink_s"] += time.monotonic() - started
        return current, steps
