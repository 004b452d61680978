"""Replies from the learner's worker, reduced to the fields the judge reads, each of its type.

The learner's process wrote them and may have forged them: a string where a number belongs must
not crash the judge, and nothing unexpected may reach a diagnostic. Arrays are checked when
decoded, observations by ``structure.Observations``. Their sizes were bounded as the frame
arrived (``runtime.wire``'s limits), before any of it was built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..untrusted import clean_text, json_safe

_TEXT_FIELDS = {"kind": 40, "type": 200, "repr": 400, "message": 8000, "code": 60}
# The most seconds a reply may claim for one call or load (a day): no limit allows more.
MAX_SECONDS = 86400.0


def clean_evidence(evidence: dict[str, Any]) -> dict[str, Any]:
    """A load failure's evidence: bounded JSON, with the fields renderers read of their type."""
    clean: dict[str, Any] = json_safe(evidence)
    if "traceback" in clean:
        trace = clean["traceback"]
        clean["traceback"] = (
            [clean_text(str(t), 500) for t in trace] if isinstance(trace, list) else []
        )
    for name in ("line", "offset", "library_frames"):
        if name in clean and type(clean[name]) is not int:
            clean[name] = None
    for name in ("message", "type", "text", "module", "did_you_mean", "signature", "expected"):
        if name in clean and clean[name] is not None and not isinstance(clean[name], str):
            clean[name] = str(clean[name])
    if "defined" in clean:
        defined = clean["defined"]
        clean["defined"] = [str(d) for d in defined] if isinstance(defined, list) else []
    return clean


def clean_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """A learner worker's reply with every field the judge reads of the type it expects."""
    clean: dict[str, Any] = {"ok": reply.get("ok") is True}
    for name, limit in _TEXT_FIELDS.items():
        if name in reply:
            clean[name] = clean_text(str(reply[name]), limit)
    for name in ("elapsed_s", "load_s"):
        value = reply.get(name)
        number = (
            float(value) if isinstance(value, int | float) and type(value) is not bool else -1.0
        )
        # Bounded as well as finite: the judge adds these up, and 1.7e308 twice is inf, which
        # no JSON report can hold.
        clean[name] = min(number, MAX_SECONDS) if np.isfinite(number) and number >= 0 else 0.0
    line = reply.get("line")
    clean["line"] = line if type(line) is int else None
    trace = reply.get("traceback")
    clean["traceback"] = (
        [clean_text(str(t), 500) for t in trace[:50]] if isinstance(trace, list) else []
    )
    clean["global_random"] = reply.get("global_random") is True
    if isinstance(reply.get("library_frames"), int):
        clean["library_frames"] = reply["library_frames"]
    if isinstance(reply.get("array"), dict):
        clean["array"] = reply["array"]
    if isinstance(reply.get("observations"), list):
        clean["observations"] = reply["observations"]
    evidence = reply.get("evidence")
    if isinstance(evidence, dict):
        clean["evidence"] = clean_evidence(evidence)
    warnings = reply.get("warnings")
    if isinstance(warnings, list):
        clean["warnings"] = [
            {k: clean_text(str(w.get(k)), 300) for k in ("code", "signature", "expected")}
            for w in warnings[:10]
            if isinstance(w, dict)
        ]
    return clean
