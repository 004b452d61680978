"""What happened on one case, and the clock a grading runs against."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import catalogue
from ..cases import Case, json_values
from ..compare import Opaque
from ..result import Mismatch

MAX_JSON_VALUES = 1000
TIMING_FIELDS = (
    "plan_s",
    "startup_s",
    "load_s",
    "reference_s",
    "learner_s",
    "compare_s",
    "shrink_s",
    "confirm_s",
)
# Failures after which the learner's worker is gone (or must be): grading stops there.
FATAL_FAILURES = catalogue.FATAL_FAILURES


@dataclass
class Budget:
    """The grading's deadline and where its time went (the report's ``timing``)."""

    submission_s: float
    started: float = field(default_factory=time.monotonic)
    timing: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TIMING_FIELDS, 0.0))

    @property
    def deadline(self) -> float:
        return self.started + self.submission_s

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


@dataclass
class Outcome:
    """What happened on one case. ``failure`` is None when the case passed."""

    case: Case
    expected: np.ndarray | None = None
    got: np.ndarray | Opaque | None = None
    failure: str | None = None  # mismatch, exception, timeout, died, memory, disk, too_large
    mismatch: Mismatch | None = None
    reply: dict[str, Any] = field(default_factory=dict)
    informative: bool = False

    @property
    def passed(self) -> bool:
        return self.failure is None

    @property
    def signature(self) -> tuple[str, str]:
        """What shrinking must preserve: the same kind of failure."""
        if self.failure == "mismatch" and self.mismatch is not None:
            return ("mismatch", self.mismatch.code)
        if self.failure == "exception":
            return ("exception", str(self.reply.get("type")))
        return (str(self.failure), "")


def array_json(array: np.ndarray, original_dtype: str | None = None) -> dict[str, Any]:
    """An array as the report shows it: dtype, shape and at most MAX_JSON_VALUES values."""
    flat = array.reshape(-1)
    out: dict[str, Any] = {
        "dtype": original_dtype or str(array.dtype),
        "shape": list(array.shape),
        "values": json_values(flat[:MAX_JSON_VALUES]),
    }
    if flat.size > MAX_JSON_VALUES:
        out["truncated"] = True
    return out


def got_json(outcome: Outcome) -> dict[str, Any] | None:
    """What the learner's function returned on a case, as the report shows it."""
    if isinstance(outcome.got, Opaque):
        return {"type": outcome.got.type, "repr": outcome.got.repr}
    if isinstance(outcome.got, np.ndarray):
        return {"type": outcome.reply.get("type"), **array_json(outcome.got)}
    if outcome.failure == "exception":
        return {"exception": outcome.reply.get("type"), "message": outcome.reply.get("message")}
    return None
