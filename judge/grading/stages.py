"""The answer taken apart, stage by stage: the initial variables, then the format.

A learner's answer is made in stages: the variables ``init`` makes (key, initializer, tree), the
layer's forward on them, and what the function does with the layer's output before returning it
(flatten, order, cast). A mistake in one stage is independent of a mistake in another, so each is
found on its own facts, never from the final numbers alone:

- **format**: the learner's return against the learner's *own* layer output (recorded by the
  worker): ``out``, ``out.reshape(-1)`` or ``out.reshape(-1, order="F")``, maybe cast. The
  reference's return against its layer output says which format is asked. A wrong key cannot
  hide a missing flatten this way, nor the other way round.
- **parameters**: the learner's initial variables against the reference's and against each
  fingerprint variant's on the same case (values equal to a variant's name that mistake,
  whatever the output became), against the variant built like the learner's (same paths and
  shapes: a values mistake beyond the structure), and across the plan's cases (the same
  variables for two calls that differ in one argument only, where the reference's differ:
  that argument is ignored).

Each finding is a root cause; ``Stages.supported`` says which causes the facts support as the
reason for a wrong output (``judge.decide``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import wording
from ..observations import Observations
from ..problem import Problem, Tolerance
from ..result import Diagnostic, Severity
from ..runtime.wire import decode_array
from .outcome import Outcome

FORMATS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as_is": lambda a: a,
    "row_major": lambda a: a.reshape(-1),
    "column_major": lambda a: a.reshape(-1, order="F"),
}
# (the reference's format, the learner's) -> the code that names the difference
FORMAT_MISTAKES = {
    ("row_major", "as_is"): "not_flattened",
    ("column_major", "as_is"): "not_flattened",
    ("row_major", "column_major"): "wrong_flatten_order",
    ("column_major", "row_major"): "wrong_flatten_order",
}
# The format causes a wrong output may follow from; the others are upstream (params, structure).
FORMAT_CODES = ("not_flattened", "wrong_flatten_order", "wrong_output_dtype")
Variables = list[dict[str, Any]]


@dataclass
class Stages:
    """What the stages found: root causes, and which causes explain a wrong output."""

    findings: list[Diagnostic] = field(default_factory=list)
    # The learner's return is a known format of its own layer output on the telling cases.
    format_explained: bool = False
    # The learner's layer output equals the reference's on the failing cases (None: unseen).
    layer_output_right: bool | None = None


def _decode(encoded: Any) -> np.ndarray | None:
    try:
        return decode_array(encoded) if isinstance(encoded, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def _close(a: np.ndarray, b: np.ndarray, tol: Tolerance) -> bool:
    if a.shape != b.shape or not (np.issubdtype(a.dtype, np.number) and b.dtype.kind in "fiub"):
        return False
    x, y = a.astype(np.float64), b.astype(np.float64)
    return bool(np.allclose(x, y, rtol=tol.rtol, atol=tol.atol, equal_nan=False))


def formats_of(layer_outputs: Iterable[Any], returned: np.ndarray, tol: Tolerance) -> set[str]:
    """The formats that turn one of the layer's outputs into ``returned`` (cast to its dtype
    first, so a cast is no other format)."""
    found: set[str] = set()
    for encoded in layer_outputs:
        raw = _decode(encoded)
        if raw is None or raw.size != returned.size:
            continue
        for name, shape in FORMATS.items():
            candidate = shape(raw)
            cast = candidate.astype(returned.dtype) if returned.dtype != candidate.dtype else None
            if _close(candidate, returned, tol) or (
                cast is not None and _close(cast, returned, tol)
            ):
                found.add(name)
    return found


def format_stage(
    problem: Problem,
    failing: list[Outcome],
    learner: Observations,
    reference: Observations,
    tol: Tolerance,
    stages: Stages,
) -> None:
    """The format the learner gives its layer's output, against the reference's, on every
    failing case where both layer outputs were recorded. A mistake is named only when every
    case that can tell (where the two formats differ in effect) shows the same one."""
    telling: list[tuple[Outcome, str, tuple[str, str]]] = []
    explained = right = 0
    everywhere: tuple[set[str], set[str]] | None = None  # the formats every telling case shows
    for outcome in failing:
        got, expected = outcome.got, outcome.expected
        if not isinstance(got, np.ndarray) or expected is None:
            continue
        mine = formats_of(learner.outputs(outcome.case.key), got, tol)
        theirs = formats_of(reference.outputs(outcome.case.key), expected, tol)
        if not mine or not theirs:
            continue
        explained += 1
        right += layer_outputs_agree(learner, reference, outcome.case.key, tol)
        if mine & theirs:
            continue
        pairs = sorted((t, m) for t in theirs for m in mine)
        codes = {FORMAT_MISTAKES.get(pair, "") for pair in pairs}
        if len(codes) == 1 and "" not in codes:
            telling.append((outcome, codes.pop(), pairs[0]))
            everywhere = (
                (theirs, mine)
                if everywhere is None
                else (everywhere[0] & theirs, everywhere[1] & mine)
            )
        else:
            return  # no format the catalogue names: say nothing of the format
    stages.format_explained = explained > 0
    stages.layer_output_right = (right == explained) if explained else None
    codes = {code for _, code, _ in telling}
    if len(codes) == 1 and everywhere is not None and all(everywhere):
        # Worded with the formats every telling case shows: on a 1 x F case both orders fit
        # the reference, and only the other cases say which it is.
        pair = (_only(everywhere[0]), _only(everywhere[1]))
        stages.findings.append(_format_diagnostic(problem, telling, codes.pop(), pair))


def _only(formats: set[str]) -> str:
    """The one format a set holds; "" when several fit (then no order is claimed)."""
    return next(iter(formats)) if len(formats) == 1 else ""


def layer_outputs_agree(
    learner: Observations, reference: Observations, key: str, tol: Tolerance
) -> bool:
    mine = [a for a in map(_decode, learner.outputs(key)) if a is not None]
    theirs = [a for a in map(_decode, reference.outputs(key)) if a is not None]
    return bool(mine and theirs and _close(mine[-1], theirs[-1], tol))


ORDERS = {
    "row_major": "row by row (C order: `out.reshape(-1)`)",
    "column_major": "column by column (Fortran order: `out.T.reshape(-1)`, `order='F'`)",
}


def _format_diagnostic(
    problem: Problem,
    telling: list[tuple[Outcome, str, tuple[str, str]]],
    code: str,
    formats: tuple[str, str],
) -> Diagnostic:
    theirs, mine = formats
    outcome = max((o for o, _, _ in telling), key=lambda o: o.case.size(problem))
    shape = tuple(outcome.got.shape) if isinstance(outcome.got, np.ndarray) else ()
    if code == "not_flattened":
        what = (
            f"your function returns its layer's output as it is (shape {shape}), where the "
            f"reference flattens it {ORDERS.get(theirs, '')}"
        ).rstrip()
    elif mine and theirs:
        what = (
            f"your function flattens its layer's output {ORDERS[mine]}, where the reference "
            f"flattens it {ORDERS[theirs]}"
        )
    else:
        what = "your function flattens its layer's output in another order than the reference"
    count = len(telling)
    message = (
        f"{what}; seen on {count} failing case{'s' if count != 1 else ''}, from your layer's "
        "own output, whatever its values"
    )
    evidence = {"case": outcome.case.describe(problem), "cases": count, "stage": "format",
                "format": mine, "reference_format": theirs}  # fmt: skip
    found = Diagnostic(code, Severity.ERROR, message, wording.hint(problem, code), evidence)
    return wording.hinted(problem, found)
