"""The parameter stage (see ``stages``): the learner's initial variables, on their own.

Three facts, each independent of what the function does with the layer's output afterwards:

1. equal to a fingerprint variant's variables on the same case (and not the reference's): that
   variant's mistake, named from the variables (a fixed key, another initializer);
2. the same variables for two calls that differ in one argument only, where the reference's
   differ: that argument is ignored (``argument_ignored``; shapes need not be the reference's,
   so this holds beside an ensemble too);
3. other values than the variant built like the learner's (same paths and shapes, such as the
   ensemble fingerprint for an ensemble): a values mistake beyond the structure
   (``wrong_param_values``), which the structure cannot explain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from .. import wording
from ..cases import Case
from ..observations import Observations
from ..problem import Fingerprint, Problem, Tolerance
from ..result import Diagnostic, Severity
from ..runtime.wire import decode_array

Variables = list[dict[str, Any]]
# The variables a fingerprint variant made on a case (None: it made none, or failed).
VariantVariables = Callable[[int, Case], Variables | None]


@dataclass(frozen=True)
class Candidate:
    """A known mistake of the initial variables, or two composed: fingerprint ``base`` run on
    the case, or on the case with the inputs of fingerprint ``inputs`` (one that declares
    itself the reference with other inputs: ``inputs: {seed: 0}``). A fixed key and another
    initializer together are the initializer's variant run with seed 0."""

    numbers: tuple[int, ...]
    base: int
    inputs: int | None = None

    def made(self, problem: Problem, variant: VariantVariables, case: Case) -> Variables | None:
        if self.inputs is None:
            return variant(self.base, case)
        changed = problem.fingerprints[self.inputs].apply_inputs(case.values)
        return variant(self.base, case.replace(changed, case.origin)) if changed else None


def candidates(problem: Problem) -> list[Candidate]:
    """Every fingerprint alone, then every file variant with every input variant."""
    prints = problem.fingerprints
    alone = [Candidate((n,), n) for n in range(len(prints))]
    composed = [
        Candidate((base, moved), base, moved)
        for moved, t in enumerate(prints)
        if t.inputs
        for base, v in enumerate(prints)
        if not v.inputs and base != moved
    ]
    return alone + composed


def _values(leaves: Variables, collection: str) -> dict[str, np.ndarray]:
    out = {}
    for leaf in leaves:
        path = str(leaf.get("path", ""))
        if path.startswith(collection + "/") and isinstance(leaf.get("value"), dict):
            try:
                out[path] = decode_array(leaf["value"])
            except (ValueError, KeyError, TypeError):
                continue
    return out


def same_values(a: Variables, b: Variables, collection: str, tol: Tolerance, whole: bool) -> bool:
    """Whether the paths both hold (all of them, with ``whole``) have equal shapes and values;
    False when they share no path."""
    mine, theirs = _values(a, collection), _values(b, collection)
    common = set(mine) & set(theirs)
    if not common or (whole and set(mine) != set(theirs)):
        return False
    return all(
        mine[p].shape == theirs[p].shape
        and np.allclose(
            mine[p].astype(np.float64), theirs[p].astype(np.float64), rtol=tol.rtol, atol=tol.atol
        )
        for p in common
    )


def _shapes(leaves: Variables, collection: str) -> dict[str, tuple[int, ...]]:
    prefix = collection + "/"
    return {
        str(v.get("path")): tuple(v.get("shape") or ())
        for v in leaves
        if str(v.get("path", "")).startswith(prefix)
    }


def param_stage(
    problem: Problem,
    cases: list[Case],
    every_case: dict[str, Case],
    learner: Observations,
    reference: Observations,
    variant: VariantVariables,
    tol: Tolerance,
) -> list[Diagnostic]:
    """The parameter stage's root causes, on ``cases`` (the failing cases shown, smallest
    first) and, for ignored arguments, on every case both sides initialised (``every_case``:
    the cases run, by key)."""
    collections = dict.fromkeys(
        i.collection for i in problem.rubric if i.check.startswith("variable_")
    )
    found: list[Diagnostic] = []
    for collection in collections or ("params",):
        named = _named_by_variant(problem, cases, learner, reference, variant, collection, tol)
        ignored = _ignored_argument(problem, every_case, learner, reference, collection, tol)
        if named is not None:
            found += named[0]
        if ignored is not None and not (
            named is not None
            and _ignores_too(problem, variant, named[1], ignored[1:], collection, tol)
        ):
            found.append(ignored[0])
        if named is None:
            beyond = _beyond_structure(problem, cases, learner, reference, variant, collection, tol)
            found += [d for d in beyond if ignored is None or d.code != "wrong_param_values"]
    return found


def _ignores_too(
    problem: Problem, variant: VariantVariables, named: Candidate, pair: tuple[Case, Case],
    collection: str, tol: Tolerance,
) -> bool:  # fmt: skip
    """Whether the named mistake makes the same variables for both cases of ``pair`` too: then
    the ignored argument is that mistake's own doing, not a second one."""
    first, second = (named.made(problem, variant, case) for case in pair)
    return (
        first is not None
        and second is not None
        and same_values(first, second, collection, tol, True)
    )


def _named_by_variant(
    problem: Problem,
    cases: list[Case],
    learner: Observations,
    reference: Observations,
    variant: VariantVariables,
    collection: str,
    tol: Tolerance,
) -> tuple[list[Diagnostic], Candidate] | None:
    """The first candidate (a fingerprint, or two composed) whose variables are the learner's
    (where the reference's are not) on every one of ``cases`` that shows a difference. Only a
    candidate built like the reference (its paths and shapes) names values: another key,
    another initializer; another shape is the structure's to name."""
    for candidate in candidates(problem):
        shown = []
        for case in cases:
            mine, theirs = learner.variables(case.key), reference.variables(case.key)
            if mine is None or theirs is None or same_values(mine, theirs, collection, tol, False):
                continue
            made = candidate.made(problem, variant, case)
            if (
                made is None
                or _shapes(made, collection) != _shapes(theirs, collection)
                or same_values(made, theirs, collection, tol, False)
                or not same_values(mine, made, collection, tol, False)
            ):
                break
            shown.append(case)
        else:
            if shown:
                return _variant_diagnostics(
                    problem, candidate, shown, learner, collection
                ), candidate
    return None


def _variant_diagnostics(
    problem: Problem, candidate: Candidate, shown: list[Case], learner: Observations,
    collection: str, beside: str = "",
) -> list[Diagnostic]:  # fmt: skip
    """One diagnostic per mistake the candidate stands for, each saying the whole finding."""
    paths = sorted(_shapes(learner.variables(shown[0].key) or [], collection))
    prints = [problem.fingerprints[n] for n in candidate.numbers]
    evidence = {"case": shown[0].describe(problem), "matched": "params", "paths": paths}
    found: dict[str, Diagnostic] = {}
    for k, fingerprint in enumerate(prints):
        if fingerprint.code in found:
            continue
        # Each mistake in its own words, the others by their codes: nothing said twice.
        others = [f.code for f in prints if f.code != fingerprint.code]
        message = f"{beside}your initial {', '.join(paths)} are exactly the ones made when "
        message += _cause(fingerprint) + "".join(f", together with {c}" for c in others)
        if k == 0:
            message += (
                f" (on {shown[0].describe(problem)}), whatever your function does with the "
                "layer's output"
            )
        named = Diagnostic(fingerprint.code, Severity.ERROR, message, fingerprint.hint, evidence)
        found[fingerprint.code] = wording.hinted(problem, named)
    return list(found.values())


def _cause(fingerprint: Fingerprint) -> str:
    return fingerprint.cause or f"the known mistake '{fingerprint.code}'"


def _ignored_argument(
    problem: Problem,
    cases: dict[str, Case],
    learner: Observations,
    reference: Observations,
    collection: str,
    tol: Tolerance,
) -> tuple[Diagnostic, Case, Case] | None:
    """Two cases that differ in one input only, with the learner's variables (all of them,
    same shapes) equal where the reference's differ."""
    seen = [
        (key, mine, theirs)
        for key in learner.calls
        if (mine := learner.variables(key)) is not None
        and (theirs := reference.variables(key)) is not None
    ]
    by_input: dict[str, list[tuple[Case, Case, bool, bool]]] = {}
    for (k1, mine1, theirs1), (k2, mine2, theirs2) in combinations(seen, 2):
        a, b = cases.get(k1), cases.get(k2)
        if a is None or b is None:
            continue
        differ = [n for n in problem.parameters if not _equal(a.values[n], b.values[n])]
        # One input of the same shape on both: another shape is the structure's to explain (a
        # layer built on another axis does not depend on in_dim, and ignores nothing).
        if len(differ) == 1 and np.shape(a.values[differ[0]]) == np.shape(b.values[differ[0]]):
            same = same_values(mine1, mine2, collection, tol, True)
            theirs_same = same_values(theirs1, theirs2, collection, tol, True)
            by_input.setdefault(differ[0], []).append((a, b, same, theirs_same))
    for name, pairs in by_input.items():
        # Ignored: the same variables on every pair that differs in it alone (a seed cut to
        # 16 bits agrees on some pairs only, and ignores nothing), where the reference's
        # differ on some.
        if all(same for _, _, same, _ in pairs) and not all(t for *_, t in pairs):
            a, b = next((a, b) for a, b, _, t in pairs if not t)
            return _ignored_diagnostic(problem, name, a, b, collection, len(pairs)), a, b
    return None


def _equal(x: Any, y: Any) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return bool(np.shape(x) == np.shape(y) and np.array_equal(x, y))
    return bool(x == y)


def _ignored_diagnostic(
    problem: Problem, name: str, a: Case, b: Case, collection: str, pairs: int
) -> Diagnostic:
    values = (
        f"{name}={a.values[name]} and {name}={b.values[name]}"
        if not isinstance(a.values[name], np.ndarray)
        else f"two different {name}"
    )
    also = f" (and on all {pairs} such pairs of calls)" if pairs > 1 else ""
    message = (
        f"your initial {collection} are the same for {values}, all else equal{also}, where "
        f"the reference's differ: your function ignores {name} when it makes them"
    )
    evidence = {"argument": name, "cases": [a.describe(problem), b.describe(problem)],
                "matched": "params"}  # fmt: skip
    hint = wording.hint(problem, "argument_ignored")
    return wording.hinted(
        problem, Diagnostic("argument_ignored", Severity.ERROR, message, hint, evidence)
    )


def _copies(mine: Variables, theirs: Variables, collection: str, tol: Tolerance) -> bool:
    """Whether each of the learner's variables is the reference's, repeated along a leading
    axis: B copies of the reference's layer (an ensemble made with one key) have no values
    mistake, whatever else is wrong."""
    own, ref = _values(mine, collection), _values(theirs, collection)
    if not own or set(own) != set(ref):
        return False
    return all(
        own[p].shape[1:] == ref[p].shape
        and np.allclose(
            own[p].astype(np.float64), ref[p].astype(np.float64)[None], rtol=tol.rtol, atol=tol.atol
        )
        for p in own
    )


def _beyond_structure(
    problem: Problem,
    cases: list[Case],
    learner: Observations,
    reference: Observations,
    variant: VariantVariables,
    collection: str,
    tol: Tolerance,
) -> list[Diagnostic]:
    """Variables whose shapes are not the reference's but a variant's (the structure is that
    variant's mistake, named by the structure checks): with that variant's values, nothing
    more; with those it makes on other inputs (an ensemble keyed by seed + 1), that input
    variant's mistake too; with other values still, a mistake in the key or the initializer
    (``wrong_param_values``)."""
    for case in cases:
        mine, theirs = learner.variables(case.key), reference.variables(case.key)
        if (
            mine is None
            or theirs is None
            or _shapes(mine, collection) == _shapes(theirs, collection)
        ):
            continue
        if not _values(mine, collection) or _copies(mine, theirs, collection, tol):
            continue
        twins = [
            c for c in candidates(problem)
            if (made := c.made(problem, variant, case)) is not None
            and _shapes(made, collection) == _shapes(mine, collection)
            and _values(made, collection)
        ]  # fmt: skip
        for candidate in twins:
            made = candidate.made(problem, variant, case) or []
            if same_values(mine, made, collection, tol, True):
                if candidate.inputs is None:
                    return []  # the structure's own values: nothing beyond it
                moved = Candidate((candidate.inputs,), candidate.inputs)
                beside = "besides how the layer is built, "
                return _variant_diagnostics(problem, moved, [case], learner, collection, beside)
        if not twins:
            continue
        message = (
            f"your initial {collection} differ from what a layer built like yours would "
            f"start from (on {case.describe(problem)}): besides how the layer is built, "
            "it was initialised with another key or another initializer"
        )
        evidence = {"case": case.describe(problem), "beyond_structure": True}
        hint = (
            "Initialise with jax.random.PRNGKey(seed) itself, unsplit, and keep the "
            "default initializers."
        )
        found = Diagnostic("wrong_param_values", Severity.ERROR, message, hint, evidence)
        return [wording.hinted(problem, found)]
    return []
