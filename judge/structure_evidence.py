"""Whether the structure the worker recorded is borne out by what the learner cannot forge.

Structure credit rests on the worker's records (``observations``), which come from the
learner's own process: a file can patch the worker and claim an ``nn.vmap`` it never built. So
a structural rubric item counts only when the records agree with the two facts the judge
establishes itself:

- the source (``source_reading``): every transform the records say the graded calls built is
  named in the file, and some call of it in the file writes arguments that could have made the
  recorded ones (a literal that differs is a contradiction; anything not literal is not);
- the outputs: when outputs came back and no informative case passed, the structure the
  records describe must still show in the numbers: on some case the layer's own output equals
  the reference layer's (a wrong step after a right layer), or is what the function returned
  in some format (a right layer with other initial values), or the output is a known
  variant's. Records of a layer whose output neither is right nor is what was returned earn
  none. Calls that all raised give no output to deny anything.

What a forger can still do is written in docs/grading-a-file.md ("What the structure checks
trust").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .observations import Observations
from .result import Diagnostic, Severity
from .runtime.recording import arguments_as_data
from .source_reading import DEFAULTS, OPEN, Named, Reading, Site, transform_of

CODE = "structure_unverified"
HINT = (
    "Build the layer in your function with an ordinary call, such as nn.vmap(nn.Dense, ...), "
    "and return what it computes: the judge reads your file and checks the numbers as well as "
    "watching the code run."
)


def _comparable(name: str, value: Any) -> Any:
    """A value as the worker records it, filter mappings without their spellings."""
    data = arguments_as_data({name: value})[name]
    return _meaning(data)


def _meaning(data: Any) -> Any:
    if isinstance(data, dict) and isinstance(data.get("__filters__"), list):
        return [e[1:] for e in data["__filters__"] if isinstance(e, list)]
    return data


def _same_target(shown: Any, recorded: Any) -> bool:
    if not isinstance(shown, Named):
        return shown is OPEN
    qualified = recorded.get("__class__") if isinstance(recorded, dict) else None
    return not isinstance(qualified, str) or qualified.rsplit(".", 1)[-1] == shown.name


def differs(site: Site, transform: str, record: dict[str, Any]) -> str | None:
    """The first recorded argument ``site`` could not have passed; None when it could have."""
    defaults = DEFAULTS.get(transform, {})
    for name, recorded in record.items():
        if name == "build":
            continue
        if name in site.arguments:
            shown = site.arguments[name]
            if shown is OPEN:
                continue
            if isinstance(shown, Named) or name == "target":
                if not _same_target(shown, recorded):
                    return name
            elif _comparable(name, shown) != _meaning(recorded):
                return name
        elif (
            not site.open
            and name in defaults
            and _comparable(name, defaults[name]) != _meaning(recorded)
        ):
            return name
    return None


def _claimed(learner: Observations, api: str) -> tuple[bool, list[dict[str, Any]]]:
    """Whether the graded calls claim ``api`` ran or was built, and the building records their
    runs name (every graded building record when no run names one)."""
    runs = learner.runs(api)
    built_in_calls = [
        {**(e.get("arguments") or {}), "build": e.get("build")}
        for e in learner.graded()
        if e.get("kind") == "lifted" and e.get("api") == api and not e.get("applied")
    ]
    used = {r.get("build") for r in runs if r.get("build") is not None}
    records = [b for b in learner.built(api) if b.get("build") in used] if used else built_in_calls
    return bool(runs or built_in_calls), records


def source_disagreement(
    reading: Reading, learner: Observations, apis: Iterable[str]
) -> Diagnostic | None:
    """The first way the records contradict the source, as a ``structure_unverified``
    diagnostic; None when they agree (or the source could not be read: nothing to go on)."""
    if not reading.parsed:
        return None
    for api in apis:
        transform = transform_of(api)
        claimed, records = _claimed(learner, api)
        if not claimed:
            continue
        shown = f"nn.{transform}"
        if not reading.names(transform):
            return _diagnostic(
                f"the judge's records of your calls say they ran {shown} ({api}), but your file "
                f"never names {shown}",
                {"api": api, "reason": "not_in_source"},
            )
        sites = reading.sites.get(transform, [])
        for record in records:
            found = [differs(site, transform, record) for site in sites]
            argument = found[0] if found else None
            if argument is not None and None not in found:
                line = sites[0].line
                return _diagnostic(
                    f"the judge's records say {shown} was built with {argument} = "
                    f"{_show(record.get(argument))}, but no call of {shown} in your file "
                    f"(line {line} is the first) writes that",
                    {"api": api, "reason": "arguments_differ", "argument": argument,
                     "line": line},
                )  # fmt: skip
    return None


def outputs_disagreement(api_claimed: bool, shown_at_work: bool) -> Diagnostic | None:
    """Records that claim a structure no number bears out: no informative case passed, no
    case's layer output was the reference layer's, no output was a known variant's."""
    if not api_claimed or shown_at_work:
        return None
    return _diagnostic(
        "no case shows the recorded structure at work: no case passed, and on none was your "
        "layer's own output the reference layer's, or what your function returned, nor was "
        "the output that of a known mistake",
        {"reason": "outputs"},
        severity=Severity.WARNING,
    )


def _show(value: Any) -> str:
    meaning = _meaning(value)
    if isinstance(meaning, list) and all(isinstance(e, list) and len(e) == 2 for e in meaning):
        return "{" + ", ".join(f"{_selects(e[0])}: {e[1]!r}" for e in meaning) + "}"
    return repr(meaning)[:200]


def _selects(spec: Any) -> str:
    if isinstance(spec, dict) and isinstance(spec.get("names"), list):
        return ", ".join(repr(n) for n in spec["names"]) or "nothing"
    if isinstance(spec, dict) and spec.get("all") is True:
        return "True"
    return repr(spec)


def _diagnostic(
    message: str, evidence: dict[str, Any], severity: Severity = Severity.ERROR
) -> Diagnostic:
    text = f"Structure not verified: {message}. The structure items earn nothing."
    return Diagnostic(CODE, severity, text, HINT, evidence)
