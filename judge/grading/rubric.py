"""The rubric: each item of the problem's rubric scored, and what the structure checks found.

``outputs`` earns the fraction of informative cases passed, where a case that fails only by a
slip its ``partial:`` names (right values, wrong format) earns that fraction of a case; every
other item is a structural check from ``structure.RUBRIC_CHECKS``, all or nothing. An item
whose ``requires`` were not all earned earns nothing, whatever its own check found: a check of
how ``nn.vmap`` maps the params passes trivially for code that never calls ``nn.vmap``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import structure, wording
from ..catalogue import RIGHT_VALUE_CODES
from ..consistency import covered
from ..problem import Problem, RubricItem, Tolerance
from ..problem.rubric_section import order
from ..result import Diagnostic, RubricResult, Severity
from ..structure import Observations, Variables
from ..transform_check import check_built
from .outcome import Outcome

# (where, the learner's variables or None when unseen, the reference's), one per observed case
ObservedPair = tuple[str, Variables | None, Variables]
# Whether the learner's output on a case equals that of a fingerprint with this code.
FingerprintMatch = Callable[[str, Outcome], bool]
UNPROVEN = "not earned: nothing of it was seen while the calls ran and no case passed"


def observed_pairs(
    problem: Problem, results: list[Outcome], learner: Observations, reference: Observations
) -> list[ObservedPair]:
    """Every case on which both sides initialised variables (under jax.jit the learner's
    init runs only when a new shape is traced); a mistake may show on some cases only, such as
    a wrong size that agrees when in_dim == features."""
    pairs: list[ObservedPair] = [
        (o.case.describe(problem), learner.variables(o.case.key), theirs)
        for o in results
        if (theirs := reference.variables(o.case.key)) is not None
    ]
    return [p for p in pairs if p[1] is not None] or pairs[:1]


def _slip(item: RubricItem, outcome: Outcome, matches: FingerprintMatch | None) -> str | None:
    """The code of the best-paid slip in ``item.partial`` that this failing case shows: a
    comparator code whose evidence says the values are right, or a fingerprint whose output
    the learner's equals. Tried best-paid first, so no fingerprint runs that cannot raise the
    credit."""
    mismatch = outcome.mismatch
    if outcome.failure != "mismatch" or mismatch is None:
        return None
    for code, _ in sorted(item.partial, key=lambda p: -p[1]):
        if code in RIGHT_VALUE_CODES:
            if mismatch.code == code and mismatch.evidence.get(RIGHT_VALUE_CODES[code]) is True:
                return code
        elif matches is not None and isinstance(outcome.got, np.ndarray) and matches(code, outcome):
            return code
    return None


def _outputs_credit(
    item: RubricItem, results: list[Outcome], planned: int, matches: FingerprintMatch | None
) -> tuple[bool, float, dict[str, int]]:
    """Informative cases passed, cases failing by a slip ``item.partial`` pays for at its
    fraction; cases that never ran count as failed. Also: how many cases each slip paid for."""
    passed = all(o.passed for o in results) and len(results) == planned
    informative = [o for o in results if o.informative]
    denominator = len(informative) + planned - len(results)
    fractions = dict(item.partial)
    failing = [o for o in informative if not o.passed]
    found = [_slip(item, o, matches) for o in failing] if item.partial else []
    slips: dict[str, int] = {}
    if found and None not in found:
        # "Right values in the wrong format" only when true of every failing case: one case
        # with wrong values (a fixed key agrees with the reference on seed 0 alone) and no
        # case earns it.
        for code in found:
            assert code is not None
            slips[code] = slips.get(code, 0) + 1
    earned = len(informative) - len(failing) + sum(fractions[c] * n for c, n in slips.items())
    return passed, (earned / denominator if denominator else 0.0), slips


def _note(item: RubricItem, own_passed: bool, blocked: list[str], slips: dict[str, int]) -> str:
    """Why an item earned what it did, when its codes alone do not say. ``blocked``: the
    titles of the items it requires that were not earned."""
    if blocked and own_passed:
        names = " and ".join(f"'{title}'" for title in blocked)
        return (
            f"not earned: it counts only once {names} {'is' if len(blocked) == 1 else 'are'} earned"
        )
    if slips and not blocked:
        fractions = dict(item.partial)
        return "; ".join(
            f"{n} failing {'case earns' if n == 1 else 'cases earn'} {fractions[code]:g} of a "
            f"case's credit: right values in the wrong format ({code})"
            for code, n in slips.items()
        )
    return ""


def _structural(
    item: RubricItem, learner: Observations, reference: Observations, observed: list[ObservedPair]
) -> list[Diagnostic]:
    check = structure.RUBRIC_CHECKS[item.check]
    if not check.per_case:
        assert check.whole is not None
        return check.whole(item, learner, reference)
    assert check.case is not None
    per_case = [check.case(item, mine, theirs, where) for where, mine, theirs in observed]
    # The most telling case, not the first: a mistake shown on a batch of 1 ("an ensemble of
    # 1") reads as no mistake at all. The first of the largest, so reports stay deterministic.
    return max((found for found in per_case if found), key=_size_shown, default=[])


def _size_shown(found: list[Diagnostic]) -> int:
    """How much of the variables a case's findings show: the elements of the shapes named."""
    total = 0
    for diagnostic in found:
        shape = diagnostic.evidence.get("shape")
        if isinstance(shape, list) and all(isinstance(n, int) for n in shape):
            total += math.prod(shape)
    return total


def _unproven(
    item: RubricItem, results: list[Outcome], observed: list[ObservedPair], learner: Observations
) -> bool:
    """A structure check that saw nothing to judge, of code that passed no case: what is not
    seen is never a mismatch, but without a single right answer nothing shows the structure
    either, so the item earns nothing (code that dies at every call is not paid for params it
    never made, nor for an nn.vmap it never reached)."""
    if any(o.passed and o.informative for o in results):
        return False
    if structure.RUBRIC_CHECKS[item.check].per_case:
        return bool(observed) and all(mine is None for _, mine, _ in observed)
    return not learner.ran_anything()


def score(
    problem: Problem,
    results: list[Outcome],
    planned: int,
    learner: Observations,
    reference: Observations,
    matches: FingerprintMatch | None = None,
) -> tuple[list[RubricResult], list[Diagnostic], list[ObservedPair]]:
    """Each rubric item's entry for the report (in the problem's order), the structural
    diagnostics, and the observed variable pairs they were found on. ``matches`` tells whether
    a case's output is a fingerprint's, for the slips an outputs item's ``partial`` names.

    Items are scored after those they require. A blocked item's own check still runs: what it
    finds is true of the code and is reported, but it earns nothing.
    """
    observed = observed_pairs(problem, results, learner, reference)
    entries: dict[str, RubricResult] = {}
    findings: list[Diagnostic] = []
    built = _transform_codes(problem, learner, reference, observed)
    for item in order(problem.rubric):
        blocked = [r for r in item.requires if not entries[r].passed]
        slips: dict[str, int] = {}
        note = ""
        inherited: list[str] = []
        if item.check == "outputs":
            diagnostics: list[Diagnostic] = []
            own_passed, credit, slips = _outputs_credit(
                item, results, planned, None if blocked else matches
            )
        else:
            diagnostics, own_passed, note, inherited = _structure_item(
                problem, item, results, (learner, reference), observed, built
            )
            credit = 1.0 if own_passed else 0.0
        findings += diagnostics
        titles = [entries[r].title for r in blocked]
        entries[item.id] = RubricResult(
            id=item.id,
            title=item.title,
            check=item.check,
            weight=item.weight,
            required=item.required,
            passed=own_passed and not blocked,
            score=0.0 if blocked else round(item.weight * credit, 4),
            codes=[d.code for d in diagnostics] or (inherited if item.check != "outputs" else []),
            requires=list(item.requires),
            blocked_by=blocked,
            partial=slips,
            note=note or _note(item, own_passed, titles, slips),
        )
    collections = [i.collection for i in problem.rubric if i.check.startswith("variable_")]
    # Said only where it is true: the checks count as passed when some case passed.
    passed_some = any(o.passed and o.informative for o in results)
    if collections and observed and passed_some and all(mine is None for _, mine, _ in observed):
        findings.append(wording.hinted(problem, structure.unobserved(sorted(set(collections)))))
    return [entries[i.id] for i in problem.rubric], findings, observed


def initial_values(
    problem: Problem, observed: list[ObservedPair], tol: Tolerance
) -> Diagnostic | None:
    """Initial values that differ, in the collections the rubric compares."""
    collections = dict.fromkeys(
        i.collection for i in problem.rubric if i.check.startswith("variable_")
    )
    found = (
        structure.check_variable_values(c, mine, theirs, tol, where)
        for c in collections
        for where, mine, theirs in observed
    )
    values = next((v for v in found if v is not None), None)
    return wording.hinted(problem, values) if values is not None else None


def output_dtype(problem: Problem, results: list[Outcome]) -> list[Diagnostic]:
    """A warning when the function returns an array of another dtype than the reference;
    none when a failure already names the dtype as its reason."""
    if any(o.mismatch is not None and o.mismatch.code == "wrong_output_dtype" for o in results):
        return []
    for outcome in results:
        got, expected = outcome.got, outcome.expected
        if (
            isinstance(got, np.ndarray)
            and expected is not None
            and outcome.reply.get("type") != "list"
            and got.dtype != expected.dtype
        ):
            return [
                wording.hinted(
                    problem,
                    Diagnostic(
                        "wrong_output_dtype",
                        Severity.ERROR
                        if _narrower(got.dtype, expected.dtype)
                        else Severity.WARNING,
                        f"your function returns {got.dtype} where the reference returns "
                        f"{expected.dtype}.",
                        "Return the layer's output as it comes, without casting it.",
                        {
                            "dtype": str(got.dtype),
                            "reference_dtype": str(expected.dtype),
                            "case": outcome.case.describe(problem),
                        },
                    ),
                )
            ]
    return []


def _narrower(got: np.dtype, expected: np.dtype) -> bool:
    """Whether ``got`` holds less than ``expected``: fewer bytes, or integers for floats. A
    narrower output is a mistake of its own (precision lost), whatever else is wrong; a wider
    one (float64 for float32) is only worth a warning."""
    if expected.kind == "f" and got.kind != "f":
        return True
    return bool(got.itemsize < expected.itemsize)


def _structure_item(
    problem: Problem,
    item: RubricItem,
    results: list[Outcome],
    sides: tuple[Observations, Observations],
    observed: list[ObservedPair],
    built: list[str],
) -> tuple[list[Diagnostic], bool, str, list[str]]:
    """A structure item's own findings, whether its check passed, why not when that is not
    in its codes, and a code inherited from the transform items."""
    learner, reference = sides
    if _unproven(item, results, observed, learner):
        if not _built_in_calls(item, learner):
            return [], False, UNPROVEN, []
        made = [wording.hinted(problem, d) for d in check_built(item, learner, reference)]
        return made, not made, "", []
    found = _structural(item, learner, reference, observed)
    diagnostics = [wording.hinted(problem, d) for d in found]
    if diagnostics:
        return diagnostics, False, "", []
    inherited = _inherited(item, built, observed)
    if inherited:
        return [], False, f"not earned: {inherited[0]} is seen in how the layer is built", inherited
    return [], True, "", []


def _built_in_calls(item: RubricItem, learner: Observations) -> bool:
    """Whether the graded calls built the item's transform (before failing)."""
    return item.check == "transform" and any(
        e.get("kind") == "lifted" and e.get("api") == item.api and not e.get("applied")
        for e in learner.graded()
    )


def _transform_codes(
    problem: Problem, learner: Observations, reference: Observations, observed: list[ObservedPair]
) -> list[str]:
    """The codes the transform items find, known before any item is scored."""
    return [
        d.code
        for item in problem.rubric
        if item.check == "transform"
        for d in _structural(item, learner, reference, observed)
    ]


def _inherited(item: RubricItem, built: list[str], observed: list[ObservedPair]) -> list[str]:
    """A variable item whose variables were never seen passes as unknown, unless a transform
    item already names what it covers (``variable_axes={"params": 0}``: a batch axis on the
    params). Then it fails with that code: no ✓ beside a root cause on the same concept."""
    if not item.check.startswith("variable_") or not observed:
        return []
    if any(mine is not None for _, mine, _ in observed):
        return []
    return [code for code in built if code in covered(item)][:1]
