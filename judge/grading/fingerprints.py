"""Naming a known mistake: the problem's fingerprints (known-wrong variants of the reference)
run on the failing case, and the one whose output equals the learner's names the mistake."""

from __future__ import annotations

import time

import numpy as np

from .. import wording
from ..compare import compare
from ..errors import WorkerError
from ..result import Diagnostic, Severity
from ..runtime import wire
from ..runtime.wire import decode_array
from ..sandbox import WorkerDied, WorkerTimeout
from . import memo
from .evaluate import Evaluator, wire_args
from .outcome import Outcome


def identify(evaluator: Evaluator, shown: Outcome, first: Outcome) -> Diagnostic | None:
    """Name the known mistake whose output equals the learner's, on the failing cases."""
    if shown.failure != "mismatch" or not isinstance(shown.got, np.ndarray):
        return None
    problem = evaluator.problem
    # Matching on the shrunk case and on the first failing one guards against a tiny case
    # that two variants happen to agree on.
    checked = [shown] + [first] * (first.case != shown.case and isinstance(first.got, np.ndarray))
    for number, fingerprint in enumerate(problem.fingerprints):
        if all(_matches(evaluator, f"fingerprint_{number}", o) for o in checked):
            evidence = {"case": shown.case.describe(problem), "matched": "output"}
            named = Diagnostic(
                fingerprint.code, Severity.ERROR, fingerprint.message, fingerprint.hint, evidence
            )
            return wording.hinted(problem, named)
    return None


def shows(evaluator: Evaluator, code: str, outcome: Outcome) -> bool:
    """Whether the learner's output on ``outcome``'s case is that of a fingerprint named
    ``code``: the rubric's partial credit for a slip such as ``wrong_flatten_order``, which
    only a fingerprint can tell from wrong numbers."""
    if outcome.failure != "mismatch" or not isinstance(outcome.got, np.ndarray):
        return False
    return any(
        _matches(evaluator, f"fingerprint_{number}", outcome)
        for number, fingerprint in enumerate(evaluator.problem.fingerprints)
        if fingerprint.code == code
    )


def variant_output(evaluator: Evaluator, slot: str, outcome: Outcome) -> np.ndarray | None:
    """The variant's output on the outcome's case, from ``memo`` or its worker."""
    rid, key = evaluator.pair.rid, outcome.case.key
    if memo.has_variant(rid, slot, key):
        return memo.variant(rid, slot, key)
    args = wire_args(evaluator.problem, outcome.case)
    reference = evaluator.pair.ensure_reference()
    reference.send(wire.call_request(args, slot))
    try:
        reply = reference.receive(evaluator.limits.reference_call_s)
    except (WorkerTimeout, WorkerDied) as exc:
        raise WorkerError(f"the fingerprint {slot} failed: {exc}") from None
    ok = reply.get("ok") and reply.get("kind") == "array"
    variant = decode_array(reply["array"]) if ok else None
    observed = reply.get("observations")
    memo.remember_variant(rid, slot, key, variant, observed if isinstance(observed, list) else [])
    evaluator.computed = True
    return variant


def variant_observed(evaluator: Evaluator, slot: str, outcome: Outcome) -> list:
    """What the variant's worker recorded on the outcome's case (after ``variant_output``)."""
    return memo.variant_observed(evaluator.pair.rid, slot, outcome.case.key)


def _matches(evaluator: Evaluator, slot: str, outcome: Outcome) -> bool:
    rid, key = evaluator.pair.rid, outcome.case.key
    if not memo.has_variant(rid, slot, key) and time.monotonic() > evaluator.budget.deadline - 1.0:
        return False
    variant = variant_output(evaluator, slot, outcome)
    if variant is None:
        return False
    assert isinstance(outcome.got, np.ndarray) and outcome.expected is not None
    tol = evaluator.tolerance(str(outcome.expected.dtype))
    if variant.shape != outcome.got.shape or compare(outcome.expected, variant, tol) is None:
        return False  # a variant that agrees with the reference here names nothing
    # The variant's numbers in another dtype are still that mistake (and a dtype one beside),
    # unless the reference's numbers in that dtype are the learner's as well: then the cast
    # hides which (an int32 output of small values is all zeros for both).
    found = compare(variant, outcome.got, tol)
    if found is None or found.code != "wrong_output_dtype":
        return found is None
    against_reference = compare(outcome.expected, outcome.got, tol)
    return against_reference is not None and against_reference.code != "wrong_output_dtype"
