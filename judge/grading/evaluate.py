"""Running cases on both sides and comparing them; shrinking a failing case.

The reference's answer to a case comes from ``memo`` when known: it is computed once. The
learner's runs every time the plan lists it (a repeat is how state kept between calls shows);
while shrinking, a case met before is not run again (``outcomes``).
"""

from __future__ import annotations

import signal
import time
from typing import Any

import numpy as np

from ..cases import Case, ShrinkStopped, shrink
from ..compare import Opaque, compare, is_informative
from ..errors import WorkerError
from ..limits import Limits
from ..observations import Observations
from ..problem import Problem, Tolerance
from ..runtime import wire
from ..runtime.wire import (
    MAX_GRADING_OBSERVED_TEXT,
    MAX_GRADING_OBSERVED_VALUES,
    MAX_OUTPUT_RATIO,
    MAX_REPLY_OBSERVED_TEXT,
    MAX_REPLY_OBSERVED_VALUES,
    MIN_OUTPUT_BYTES,
    decode_array,
    encode_array,
    is_float,
)
from ..sandbox import WorkerDied, WorkerTimeout
from . import memo
from .outcome import FATAL_FAILURES, Budget, Outcome
from .pair import WorkerPair
from .replies import clean_reply


def wire_args(problem: Problem, case: Case) -> list[Any]:
    """A case's arguments as they travel: arrays encoded (with ``"kind": "jax"`` for one the
    function gets as a jax.Array), integers as ints."""
    out: list[Any] = []
    for name in problem.parameters:
        value = case.values[name]
        if not isinstance(value, np.ndarray):
            out.append(int(value))
            continue
        encoded: dict[str, Any] = dict(encode_array(value))
        if case.kinds.get(name) == "jax":
            encoded["kind"] = "jax"
        out.append(encoded)
    return out


def observation_limit(problem: Problem) -> tuple[int, int]:
    """The grading's budget for observations (``runtime.wire``), raised where the problem's plan
    is longer than the budget holds at one full reply a call: the load's and every planned
    call's observations are always kept, so the rubric (scored on the plan) never misses one."""
    replies = problem.cases.count + 1
    return (
        max(MAX_GRADING_OBSERVED_VALUES, replies * MAX_REPLY_OBSERVED_VALUES),
        max(MAX_GRADING_OBSERVED_TEXT, replies * MAX_REPLY_OBSERVED_TEXT),
    )


def too_large(encoded: Any, expected: np.ndarray) -> str | None:
    """Why a learner's output is too large to keep, or None: more bytes than
    ``MAX_OUTPUT_RATIO`` times the reference's, or ``MIN_OUTPUT_BYTES`` (``runtime.wire``).
    Read from the length of its data before decoding it: the judge keeps every case's output
    for the whole grading, and the worker's own limit is the learner's to lift."""
    payload = encoded.get("__ndarray__") if isinstance(encoded, dict) else None
    data = payload.get("data") if isinstance(payload, dict) else None
    size = len(data) * 3 // 4 if isinstance(data, str) else 0
    limit = max(MAX_OUTPUT_RATIO * expected.nbytes, MIN_OUTPUT_BYTES)
    if size <= limit:
        return None
    return (
        f"output of about {size} bytes, more than the judge keeps: {MAX_OUTPUT_RATIO} times "
        f"the reference's {expected.nbytes} bytes, or {MIN_OUTPUT_BYTES}"
    )


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
        # The cases the current learner's worker has run, in order (what state it may keep).
        self.history: list[Case] = []
        limit = observation_limit(problem)
        self.learner_seen = Observations(limit=limit)
        self.reference_seen = Observations(limit=limit)
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
            reply = reference.receive(self.limits.reference_call_s)
        except (WorkerTimeout, WorkerDied) as exc:
            raise WorkerError(f"the reference failed on {where}: {exc}") from None
        self.budget.timing["reference_s"] += float(reply.get("elapsed_s") or 0.0)
        if not reply.get("ok") or reply.get("kind") != "array":
            detail = reply.get("message") or reply.get("repr") or reply.get("type")
            raise WorkerError(f"the reference failed on {where}: {detail}")
        array = decode_array(reply["array"])
        if is_float(array.dtype) and not np.all(np.isfinite(array)):
            raise WorkerError(f"the reference returned NaN or inf on {where}")
        observations = reply.get("observations")
        return memo.Expected(
            array,
            reply["array"]["__ndarray__"].get("original_dtype"),
            observations if isinstance(observations, list) else [],
        )

    def evaluate(self, case: Case, reuse: bool = True) -> Outcome:
        """Run one case on both sides and compare: the reference's side at most once per case,
        the learner's again only when ``reuse`` is False."""
        if reuse and case.key in self.outcomes:
            return self.outcomes[case.key]
        learner, rid = self.pair.learner, self.pair.rid
        assert learner is not None
        args = wire_args(self.problem, case)
        known = memo.expected(rid, case.key)
        if known is None:
            self.pair.ensure_reference().send(wire.call_request(args))
        remaining = self.budget.remaining()
        learner.send(wire.call_request(args))
        self.history.append(case)
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
            if outcome.failure == "memory" and not self.pair.memory_confirmed(reply):
                # An exception whose text says "out of memory" while the kernel saw no
                # pressure: the learner's text chose no verdict; an exception like any other.
                outcome.failure = "exception"
        else:
            assert outcome.expected is not None
            # Decoded, the array is kept as ``got``: its base64 is not kept as well.
            encoded = reply.pop("array", None)
            large = too_large(encoded, outcome.expected) if reply.get("kind") == "array" else None
            if large is not None:
                outcome.failure, reply["message"] = "too_large", large
                self.budget.timing["compare_s"] += time.perf_counter() - started
                return
            try:
                outcome.got = (
                    decode_array(encoded)
                    if reply.get("kind") == "array"
                    else Opaque(str(reply.get("type"))[:200], str(reply.get("repr"))[:300])
                )
            except (ValueError, KeyError, TypeError) as exc:
                outcome.got = Opaque("invalid", f"malformed reply: {exc}"[:300])
            got_tol = (
                self.problem.tolerance_for(str(outcome.got.dtype), self.backend)
                if isinstance(outcome.got, np.ndarray)
                else None
            )
            outcome.mismatch = compare(outcome.expected, outcome.got, tol, got_tol)
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
        # The cause kept beside the status: a protocol violation (a reply over the judge's
        # limits, ``runtime.wire``) is the judge's finding, not the process's.
        return "died", {"returncode": code, "message": str(exc)[:500]}

    def _remember(self, outcome: Outcome) -> Outcome:
        self.outcomes.setdefault(outcome.case.key, outcome)
        return outcome

    def shrink(self, failing: Outcome, max_calls: int) -> tuple[Outcome, int]:
        """The smallest case that fails the way ``failing`` does (``cases.shrink``: bisection,
        then plainer values, at most ``max_calls`` cases tried), and the steps to it."""
        started = time.monotonic()

        def fails(candidate: Case) -> bool:
            if time.monotonic() > self.budget.deadline - 1.0:
                raise ShrinkStopped  # only ever near the submission's time limit
            outcome = self.evaluate(candidate)
            if outcome.failure in FATAL_FAILURES:
                learner = self.pair.learner
                if not (learner and learner.alive):
                    self.restart()
                return False
            return self.fails_like(outcome, failing)

        shrunk = shrink(self.problem, failing.case, fails, max_calls)
        self.budget.timing["shrink_s"] += time.monotonic() - started
        if shrunk.case.key == failing.case.key:
            return failing, 0
        return self.outcomes[shrunk.case.key], shrunk.steps

    def restart(self) -> bool:
        """A fresh learner's worker in place of the current one (``WorkerPair``), with no
        history."""
        self.history = []
        return self.pair.restart_learner()

    @staticmethod
    def fails_like(outcome: Outcome, failing: Outcome) -> bool:
        """Whether ``outcome`` fails the way ``failing`` did: the same kind of failure, and
        informative when that one was."""
        return (
            not outcome.passed
            and outcome.signature == failing.signature
            and (outcome.informative or not failing.informative)
        )
