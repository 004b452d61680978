"""Values from a learner's process, made safe for every place the judge puts them.

A worker's reply is JSON the learner could have written byte by byte: its strings may hold lone
surrogates (which no UTF-8 file or terminal takes), escape sequences (which repaint a terminal),
and its containers may nest deeper than any renderer recurses, or hold millions of values.
Everything the judge keeps from a reply passes through here once, at the boundary, so nothing
downstream (reports, the batch store, the text, HTML and JSON renderers) has to be careful again.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from .runtime.wire import MAX_SAFE_TEXT, MAX_SAFE_VALUES

# The judge's budgets for what a worker sends are all in ``runtime.wire``'s limits, with why each
# is what it is. Besides them, per container and per string, whatever the budget left: renderers
# recurse, terminals wrap.
MAX_DEPTH = 6
MAX_ITEMS = 50
MAX_TEXT = 8000

# Where ``json_safe`` stopped: one marker, as the last item of the list or object it cut.
TRUNCATED = "... (more than the judge keeps)"
TRUNCATED_KEY = "..."


def clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """At most ``limit`` characters, valid UTF-8 (a lone surrogate becomes ``\\ud800``), and no
    control character but newline and tab (the others become visible escapes: ``\\x1b``).
    Cut again after escaping, so that cleaning a cleaned text changes nothing."""
    text = value[:limit]
    if text.isprintable():
        return text
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(
        c if c.isprintable() or c in "\t\n" else c.encode("unicode_escape").decode("ascii")
        for c in text
    )[:limit]


@dataclass
class _Budget:
    """What is left of ``json_safe``'s budget, its marker's share set aside."""

    values: int = MAX_SAFE_VALUES - 2
    text: int = MAX_SAFE_TEXT - len(TRUNCATED) - len(TRUNCATED_KEY)
    spent: bool = False  # the marker is placed: nothing more is added anywhere

    def take(self, values: int, text: int) -> bool:
        if self.spent or values > self.values or text > self.text:
            return False
        self.values -= values
        self.text -= text
        return True


def json_safe(value: Any) -> Any:
    """Any value as plain, bounded JSON: finite numbers, clean short strings, shallow containers,
    and at most ``MAX_SAFE_VALUES`` values and ``MAX_SAFE_TEXT`` characters in all (counted as
    ``runtime.wire.json_cost`` counts them), a ``TRUNCATED`` marker where it stopped. What
    ``json.dumps(allow_nan=False)``, a UTF-8 file and every renderer can take; made safe twice,
    it is the same."""
    budget = _Budget()
    safe = _safe(value, 0, budget)
    return TRUNCATED if safe is _NOTHING else safe


_NOTHING = object()  # a value that did not fit


def _safe(value: Any, depth: int, budget: _Budget) -> Any:
    """``value`` made safe within ``budget``, or ``_NOTHING``: it did not fit."""
    if isinstance(value, dict | list) and depth < MAX_DEPTH:
        if not budget.take(1, 0):
            return _NOTHING
        if isinstance(value, dict):
            return _safe_dict(value, depth, budget)
        return _safe_list(value, depth, budget)
    safe = _scalar(value)
    return safe if budget.take(1, len(safe) if isinstance(safe, str) else 0) else _NOTHING


def _scalar(value: Any) -> Any:
    """Anything but a container within depth, as a JSON scalar: a container too deep is None,
    a number JSON cannot hold exactly is text, any other object its short ``str``."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int):
        if abs(value) < 2**53:
            return value
        # Python refuses to print an int of more than 4300 digits (about 14,000 bits).
        return str(value) if value.bit_length() < 10_000 else "<an integer too large to print>"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return clean_text(str(value), 200)


def _safe_list(value: list[Any], depth: int, budget: _Budget) -> list[Any]:
    out: list[Any] = []
    for item in value[:MAX_ITEMS]:
        safe = _safe(item, depth + 1, budget)
        if safe is _NOTHING:
            if not budget.spent:
                budget.spent = True
                out.append(TRUNCATED)
            break
        out.append(safe)
    return out


def _safe_dict(value: dict[Any, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in itertools.islice(value.items(), MAX_ITEMS):
        key = clean_text(str(k), 200)
        safe = _safe(v, depth + 1, budget) if budget.take(1, len(key)) else _NOTHING
        if safe is _NOTHING:
            if not budget.spent:
                budget.spent = True
                out[TRUNCATED_KEY] = TRUNCATED
            break
        out[key] = safe
    return out
