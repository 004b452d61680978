"""Values from a learner's process, made safe for every place the judge puts them.

A worker's reply is JSON the learner could have written byte by byte: its strings may hold lone
surrogates (which no UTF-8 file or terminal takes), escape sequences (which repaint a terminal),
and its containers may nest deeper than any renderer recurses. Everything the judge keeps from a
reply passes through here once, at the boundary, so nothing downstream (reports, the batch
store, the text, HTML and JSON renderers) has to be careful again.
"""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 6
MAX_ITEMS = 50
MAX_TEXT = 8000


def clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """At most ``limit`` characters, valid UTF-8 (a lone surrogate becomes ``\\ud800``), and no
    control character but newline and tab (the others become visible escapes: ``\\x1b``)."""
    text = value[:limit]
    if text.isprintable():
        return text
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(
        c if c.isprintable() or c in "\t\n" else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


def json_safe(value: Any, depth: int = 0) -> Any:
    """Any value as plain, bounded JSON: finite numbers, clean short strings, shallow containers.
    What ``json.dumps(allow_nan=False)``, a UTF-8 file and every renderer can take."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {clean_text(str(k), 200): json_safe(v, depth + 1) for k, v in items}
    if isinstance(value, list):
        return [json_safe(v, depth + 1) for v in value[:MAX_ITEMS]]
    return clean_text(str(value), 200)
