"""Confirming a failure in a fresh learner worker before it is reported.

Shrinking and the fingerprints run in the worker that ran the whole plan, after dozens of
earlier calls. Code that keeps state between calls (a cache keyed on the seed alone, a call
counter, a global it appends to) fails there for reasons the smallest case alone does not show,
and its ``reproduce:`` line would not give the output the report shows. So the smallest failing
case runs once more, first, in a new worker:

1. it fails the same way: confirmed; the fresh run is what the report shows;
2. it does not: the failure depends on earlier calls. A new worker then runs the few earlier
   calls (of those the first worker made) that share most arguments with it, in their order,
   then the case; failing there, those calls are the sequence the report shows and its
   reproducer makes;
3. still not: a new worker replays the plan up to its first failing case, which is reported
   with that sequence;
   a sequence of several calls is then simplified: its smallest case twice, or as many times
   as the sequence has calls, when that fails the same way (what such a sequence reproduces
   is usually a count of calls);
4. still not: the failure is reported as not reproduced in a fresh process (it depends on
   something besides the calls: the time, a random source of the system's).

Every step is a fixed list of calls: the same file gets the same report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..cases import Case
from .evaluate import Evaluator
from .outcome import FATAL_FAILURES, Outcome

# How many earlier calls step 2 replays before the case.
EARLIER_TRIED = 3


@dataclass
class Confirmed:
    """What the fresh worker showed.

    ``outcome`` is what the report shows, ``earlier`` the calls made before it in that worker
    (empty when it failed alone), ``reproduced`` whether it failed in a fresh worker at all,
    ``alone`` how the case did as the first call of a fresh worker, and ``calls`` every outcome
    of the sequence shown, ``outcome`` last.
    """

    outcome: Outcome
    earlier: list[Case] = field(default_factory=list)
    reproduced: bool = True
    alone: Outcome | None = None
    calls: list[Outcome] = field(default_factory=list)

    @property
    def needs_earlier_calls(self) -> bool:
        return bool(self.earlier) or not self.reproduced

    @property
    def seeded(self) -> bool:
        """Whether a call of the sequence drew from a global random generator, which the
        worker seeds before each call: the reproducer must seed it too."""
        return any(o.reply.get("global_random") for o in self.calls)


def _shared(case: Case, other: Case, parameters: tuple[str, ...]) -> int:
    """How many of the function's arguments two cases have in common."""
    same = 0
    for name in parameters:
        a, b = case.values[name], other.values[name]
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            same += a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
        elif not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
            same += int(a) == int(b)
    return same


def _same_output(a: Outcome | None, b: Outcome) -> bool:
    return (
        a is not None
        and isinstance(a.got, np.ndarray)
        and isinstance(b.got, np.ndarray)
        and a.got.shape == b.got.shape
        and a.got.dtype == b.got.dtype
        and a.got.tobytes() == b.got.tobytes()
    )


def likeliest_earlier(
    shown: Outcome,
    history: list[Case],
    outcomes: dict[str, Outcome],
    parameters: tuple[str, ...],
    count: int = EARLIER_TRIED,
) -> list[Case]:
    """Of the calls the worker made before ``shown`` last ran, those most likely to have left
    the state it fails after, in the order they ran: the first whose output ``shown`` got
    back (a stale answer from a cache), else the ``count`` sharing most arguments with it (a
    cache keyed on those, a counter), the latest of equals."""
    case = shown.case
    last = max((k for k, c in enumerate(history) if c.key == case.key), default=len(history))
    ranked: dict[str, tuple[int, int, Case]] = {}
    for index, other in enumerate(history[:last]):
        if other.key == case.key:
            continue
        if _same_output(outcomes.get(other.key), shown):
            if count > 1:  # the first call that gave this output made it; later ones reused it
                ranked, count = {other.key: (len(parameters) + 1, index, other)}, 1
        elif count > 1:
            ranked[other.key] = (_shared(case, other, parameters), index, other)
    best = sorted(ranked.values(), key=lambda r: (r[0], r[1]), reverse=True)[:count]
    return [other for _, _, other in sorted(best, key=lambda r: r[1])]


class Confirmer:
    """Runs the steps above; each new worker replaces the learner's in ``evaluator.pair``."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator

    def _run_fresh(self, calls: list[Case]) -> list[Outcome] | None:
        """``calls`` in a new worker, in order; None when the file no longer loads. Stops at
        a call that ends the worker."""
        if not self.evaluator.restart():
            return None
        outcomes = []
        for case in calls:
            outcomes.append(self.evaluator.evaluate(case, reuse=False))
            if outcomes[-1].failure in FATAL_FAILURES:
                break
        return outcomes

    def _failed_last(
        self, outcomes: list[Outcome] | None, calls: list[Case], like: Outcome
    ) -> bool:
        return (
            outcomes is not None
            and len(outcomes) == len(calls)
            and self.evaluator.fails_like(outcomes[-1], like)
        )

    def _simplify(
        self, calls: list[Case], like: Outcome
    ) -> tuple[list[Case], list[Outcome]] | None:
        """A shorter-to-read sequence of as many calls that fails the same way, or None.

        What a sequence of several calls reproduces is usually a count (a counter, a list
        that grows), not particular inputs; so the sequence's smallest case is tried twice in
        a row, then in place of every call, then of every earlier call. Three workers at most,
        a fixed list of calls: the same file still gets the same report.
        """
        problem = self.evaluator.problem
        smallest = min(calls, key=lambda c: (c.size(problem), calls.index(c)))
        tried: list[list[Case]] = [calls]
        for candidate in (
            [smallest] * 2,
            [smallest] * len(calls),
            [smallest] * (len(calls) - 1) + [calls[-1]],
        ):
            if candidate in tried:
                continue
            tried.append(candidate)
            outcomes = self._run_fresh(candidate)
            if self._failed_last(outcomes, candidate, like):
                assert outcomes is not None
                return candidate, outcomes
        return None

    def confirm(
        self, shown: Outcome, first: Outcome, plan: list[Case], first_index: int
    ) -> Confirmed:
        """Steps 1 to 4 of the module's docstring, for the shrunk ``shown`` and the plan's
        ``first`` failing case (at ``first_index``)."""
        timing = self.evaluator.budget.timing
        started = time.monotonic()
        history = list(self.evaluator.history)  # what the worker ran before ``shown`` failed
        try:
            alone = self._run_fresh([shown.case])
            if self._failed_last(alone, [shown.case], shown):
                assert alone is not None
                return Confirmed(alone[-1], calls=alone)
            alone_outcome = alone[-1] if alone else None
            parameters = self.evaluator.problem.parameters
            earlier = likeliest_earlier(shown, history, self.evaluator.outcomes, parameters)
            if earlier:
                calls = [*earlier, shown.case]
                outcomes = self._run_fresh(calls)
                if self._failed_last(outcomes, calls, shown):
                    assert outcomes is not None
                    simpler = self._simplify(calls, shown) if len(earlier) > 1 else None
                    if simpler is not None:
                        calls, outcomes = simpler
                    return Confirmed(outcomes[-1], calls[:-1], True, alone_outcome, outcomes)
            prefix = plan[: first_index + 1]
            outcomes = self._run_fresh(prefix)
            if self._failed_last(outcomes, prefix, first):
                assert outcomes is not None
                simpler = self._simplify(prefix, first)
                if simpler is not None:
                    calls, outcomes = simpler
                    return Confirmed(outcomes[-1], calls[:-1], True, alone_outcome, outcomes)
                return Confirmed(outcomes[-1], prefix[:-1], True, alone_outcome, outcomes)
            return Confirmed(shown, [], False, alone_outcome, [shown])
        finally:
            timing["confirm_s"] = timing.get("confirm_s", 0.0) + time.monotonic() - started
