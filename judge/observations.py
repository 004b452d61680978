"""What a worker recorded of how its code uses Flax, cleaned: the learner's worker may send
anything, and nothing malformed may reach the structure checks (``judge.structure``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .runtime.wire import MAX_GRADING_OBSERVED_TEXT, MAX_GRADING_OBSERVED_VALUES, json_cost
from .untrusted import clean_text, json_safe

Event = dict[str, Any]
LOAD = "(load)"  # in ``dropped``: the observations of loading the file


@dataclass
class Observations:
    """What one side's worker recorded: at load time, and per case (by case key).

    Only what happened inside the graded calls is judged (``graded``): a transform run by code
    at import, by a self-test, by another function of the file or by an earlier definition of
    the function in a notebook is context, never the answer's structure. The load-time record
    still tells what a run's building call was (``nn.vmap(...)`` at the top of the file).
    """

    load: list[Event] = field(default_factory=list)
    calls: dict[str, list[Event]] = field(default_factory=dict)
    # The grading's budget (``runtime.wire``: values, characters of text) and what is spent of it.
    limit: tuple[int, int] = (MAX_GRADING_OBSERVED_VALUES, MAX_GRADING_OBSERVED_TEXT)
    spent: tuple[int, int] = (0, 0)
    # The cases (``LOAD`` for the load) whose observations were not kept, the budget spent.
    dropped: list[str] = field(default_factory=list)

    def add(self, events: Any, case_key: str | None = None) -> None:
        """Keep the events that have the form the worker sends; drop the rest. The learner's
        worker may send anything: nothing malformed may reach the checks.

        Within the grading's budget only, counted on the events as sent: once a message does not
        fit, neither it nor any later one is kept (what is kept is the grading's first calls,
        whole), and its case is unobserved from then on (``dropped``)."""
        found = events[:MAX_EVENTS] if isinstance(events, list) else []
        values, text = json_cost(found, self.limit[0], self.limit[1])
        spent = (self.spent[0] + values, self.spent[1] + text)
        if found and (self.dropped or spent[0] > self.limit[0] or spent[1] > self.limit[1]):
            self.dropped.append(LOAD if case_key is None else case_key)
            return
        self.spent = spent
        valid = [e for e in map(_clean_event, found) if e is not None]
        if case_key is None:
            self.load.extend(valid)
        else:
            self.calls.setdefault(case_key, []).extend(valid)

    @property
    def exhausted(self) -> bool:
        """Whether some observations were not kept: every fact of the record then comes from
        the calls before that, and the cases in ``dropped`` are unknown."""
        return bool(self.dropped)

    def all_events(self) -> Iterable[Event]:
        yield from self.load
        yield from self.graded()

    def graded(self) -> Iterable[Event]:
        """The events of the graded calls, case by case in the order they ran."""
        for events in self.calls.values():
            yield from events

    def built(self, api: str) -> list[dict[str, Any]]:
        """Every building call of a lifted transform (``nn.vmap(nn.Dense, ...)``), wherever it
        was made, first first, each with its ``build`` number."""
        return [
            {**(e.get("arguments") or {}), "build": e.get("build")}
            for e in self.all_events()
            if e.get("kind") == "lifted" and e.get("api") == api and not e.get("applied")
        ]

    def runs(self, api: str) -> list[Event]:
        """The distinct runs of a lifted transform inside the graded calls, first first: its
        arguments as Flax's core got them, ``during`` (``init``, ``apply``, ``other``), the
        ``ranks`` of what it mapped, and ``target`` from the building call when known."""
        targets = {b["build"]: b.get("target") for b in self.built(api) if b.get("build")}
        seen: dict[str, Event] = {}
        for e in self.graded():
            if e.get("kind") == "lifted" and e.get("api") == api and e.get("applied"):
                run = {**e, "target": targets.get(e.get("build"))}
                seen.setdefault(repr(sorted(run.items())), run)
        return list(seen.values())

    def collections(self) -> set[str]:
        """The variable collections (``params``, ...) of every ``init`` seen in graded calls."""
        return {
            str(leaf.get("path", "")).split("/", 1)[0]
            for e in self.graded()
            if e.get("kind") == "init"
            for leaf in e.get("variables") or []
            if isinstance(leaf, dict)
        }

    def _seen(self, kind: str) -> bool:
        return any(e.get("kind") == kind for e in self.graded())

    def used_apply(self) -> bool:
        """Whether ``Module.apply`` ran outside ``init`` (not to create variables) in a graded
        call."""
        return self._seen("apply")

    def created_via(self) -> set[str]:
        """How graded calls created variables: ``init``, ``init_with_output``, ``apply``."""
        return {str(e.get("via")) for e in self.graded() if e.get("kind") == "init"}

    def _case(self, case_key: str) -> list[Event]:
        """A case's events; none when some of them were not kept (a run of it past the budget):
        what the checks would read there is unknown, never a mismatch."""
        return [] if case_key in self.dropped else self.calls.get(case_key, [])

    def variables(self, case_key: str) -> list[dict[str, Any]] | None:
        """The variables of the first ``init`` made while computing a case, if any."""
        for event in self._case(case_key):
            if event.get("kind") == "init" and isinstance(event.get("variables"), list):
                return [v for v in event["variables"] if isinstance(v, dict)]
        return None

    def outputs(self, case_key: str) -> list[dict[str, Any]]:
        """The layers' own outputs while computing a case (encoded arrays, decoded and checked
        when compared), outermost ``apply`` or ``init_with_output`` first to last."""
        return [
            e["value"]
            for e in self._case(case_key)
            if e.get("kind") == "output" and isinstance(e.get("value"), dict)
        ]

    def created_variables(self) -> bool:
        """Whether any ``init`` (or creating ``apply``) was seen in a graded call: without one,
        a transform that never ran says nothing (the calls failed first)."""
        return self._seen("init")

    def ran_anything(self) -> bool:
        """Whether the graded calls got as far as running anything the worker watches: a
        lifted transform, an init, an apply, a ``jax.vmap`` of the file's own."""
        return any(
            e.get("kind") in ("init", "apply", "jax_vmap", "output")
            or (e.get("kind") == "lifted" and e.get("applied"))
            for e in self.graded()
        )

    def used_jax_vmap(self) -> bool:
        return self._seen("jax_vmap")


MAX_EVENTS = 10_000
MAX_RANKS = 64


def _clean_event(event: Any) -> Event | None:
    """An observation reduced to the fields the checks read, each of the type they expect."""
    if not isinstance(event, dict):
        return None
    kind, arguments = event.get("kind"), event.get("arguments")
    # Bounded, finite, clean JSON: printed in messages, compared, stored.
    arguments = json_safe(arguments) if isinstance(arguments, dict) else {}
    if kind == "lifted" and isinstance(event.get("api"), str):
        during = event.get("during") if event.get("during") in ("init", "apply") else "other"
        build = event.get("build")
        return {"kind": kind, "api": clean_text(event["api"], 200), "arguments": arguments,
                "applied": event.get("applied") is True, "during": during,
                "build": build if type(build) is int else None,
                "ranks": _clean_ranks(event.get("ranks"))}  # fmt: skip
    if kind == "apply":
        return {"kind": kind}
    if kind == "jax_vmap":
        return {"kind": kind, "arguments": arguments}
    if kind == "output" and isinstance(event.get("value"), dict):
        return {"kind": kind, "value": event["value"]}
    if kind != "init" or not isinstance(event.get("variables"), list):
        return None
    leaves = []
    for leaf in event["variables"][:MAX_EVENTS]:
        if not isinstance(leaf, dict) or not isinstance(leaf.get("path"), str):
            continue
        shape = leaf.get("shape")
        if not (
            isinstance(shape, list)
            and len(shape) <= 32
            and all(type(d) is int and 0 <= d < 2**40 for d in shape)
        ):
            continue
        clean = {
            "path": clean_text(leaf["path"], 500),
            "shape": shape,
            "dtype": clean_text(str(leaf.get("dtype")), 40),
        }
        if isinstance(leaf.get("value"), dict):
            clean["value"] = leaf["value"]  # decoded, and checked, only when compared
        leaves.append(clean)
    via = event.get("via") if event.get("via") in ("init_with_output", "apply") else "init"
    module = clean_text(str(event.get("module")), 200)
    return {"kind": kind, "module": module, "via": via, "variables": leaves}


def _rank_list(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(type(r) is int and 0 <= r <= 64 for r in value):
        return value[:MAX_RANKS]
    return None


def _clean_ranks(ranks: Any) -> dict[str, Any] | None:
    """The ranks of what a lifted transform mapped: ``in`` per positional argument, ``out`` of
    the result's arrays; None when malformed (axes are then compared as written)."""
    if not isinstance(ranks, dict) or not isinstance(ranks.get("in"), list):
        return None
    inputs = [_rank_list(r) for r in ranks["in"][:MAX_RANKS]]
    out = _rank_list(ranks.get("out"))
    if out is None or any(r is None for r in inputs):
        return None
    return {"in": inputs, "out": out}
