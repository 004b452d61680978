"""What a worker recorded of how its code uses Flax, cleaned: the learner's worker may send
anything, and nothing malformed may reach the structure checks (``judge.structure``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .untrusted import clean_text, json_safe

Event = dict[str, Any]


@dataclass
class Observations:
    """What one side's worker recorded: at load time, and per case (by case key)."""

    load: list[Event] = field(default_factory=list)
    calls: dict[str, list[Event]] = field(default_factory=dict)

    def add(self, events: Any, case_key: str | None = None) -> None:
        """Keep the events that have the form the worker sends; drop the rest. The learner's
        worker may send anything: nothing malformed may reach the checks."""
        found = events[:MAX_EVENTS] if isinstance(events, list) else []
        valid = [e for e in map(_clean_event, found) if e is not None]
        if case_key is None:
            self.load.extend(valid)
        else:
            self.calls.setdefault(case_key, []).extend(valid)

    def all_events(self) -> Iterable[Event]:
        yield from self.load
        for events in self.calls.values():
            yield from events

    def lifted(
        self, api: str, applied: bool = False, during: str | None = None
    ) -> list[dict[str, Any]]:
        """Arguments of every recorded call of a lifted transform, first call first: the calls
        that built it (``nn.vmap(nn.Dense, ...)``), or with ``applied`` the distinct ways it
        ran (``during`` ``init``, ``apply`` or other code)."""
        return [
            e.get("arguments") or {}
            for e in self.all_events()
            if e.get("kind") == "lifted"
            and e.get("api") == api
            and e.get("applied") is applied
            and (during is None or e.get("during") == during)
        ]

    def collections(self) -> set[str]:
        """The variable collections (``params``, ...) of every ``init`` seen."""
        return {
            str(leaf.get("path", "")).split("/", 1)[0]
            for e in self.all_events()
            if e.get("kind") == "init"
            for leaf in e.get("variables") or []
            if isinstance(leaf, dict)
        }

    def _seen(self, kind: str) -> bool:
        return any(e.get("kind") == kind for e in self.all_events())

    def used_apply(self) -> bool:
        """Whether ``Module.apply`` ran outside ``init`` (not to create variables)."""
        return self._seen("apply")

    def variables(self, case_key: str) -> list[dict[str, Any]] | None:
        """The variables of the first ``init`` made while computing a case, if any."""
        for event in self.calls.get(case_key, []):
            if event.get("kind") == "init" and isinstance(event.get("variables"), list):
                return [v for v in event["variables"] if isinstance(v, dict)]
        return None

    def created_variables(self) -> bool:
        """Whether any ``init`` (or creating ``apply``) was seen: without one, a transform that
        never ran says nothing (the calls failed first)."""
        return self._seen("init")

    def used_jax_vmap(self) -> bool:
        return self._seen("jax_vmap")


MAX_EVENTS = 10_000


def _clean_event(event: Any) -> Event | None:
    """An observation reduced to the fields the checks read, each of the type they expect."""
    if not isinstance(event, dict):
        return None
    kind, arguments = event.get("kind"), event.get("arguments")
    # Bounded, finite, clean JSON: printed in messages, compared, stored.
    arguments = json_safe(arguments) if isinstance(arguments, dict) else {}
    if kind == "lifted" and isinstance(event.get("api"), str):
        during = event.get("during") if event.get("during") in ("init", "apply") else "other"
        return {"kind": kind, "api": clean_text(event["api"], 200), "arguments": arguments,
                "applied": event.get("applied") is True, "during": during}  # fmt: skip
    if kind == "apply":
        return {"kind": kind}
    if kind == "jax_vmap":
        return {"kind": kind, "arguments": arguments}
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
    return {"kind": kind, "module": clean_text(str(event.get("module")), 200), "variables": leaves}
