"""Structure credit that must be earned: the rubric's structural items withheld when the
worker's records disagree with the source or with the numbers (``structure_evidence``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import structure_evidence, wording
from ..result import Diagnostic, RubricResult
from ..source_reading import read_source, transform_of
from . import fingerprints
from .outcome import Outcome
from .stages import formats_of, layer_outputs_agree

if TYPE_CHECKING:
    from .evaluate import Evaluator

# Failing cases tried for a known mistake's output when nothing else shows the structure.
_VARIANT_TRIES = 3


def withhold_unverified(
    evaluator: Evaluator, source: str, results: list[Outcome], rubric: list[RubricResult]
) -> list[Diagnostic]:
    """Check the structure the structural items credited against the source and the outputs;
    on a disagreement, withhold those items (in ``rubric``, in place) and return the finding."""
    credited = [e for e in rubric if e.check != "outputs" and e.passed]
    if not credited:
        return []
    problem, learner = evaluator.problem, evaluator.learner_seen
    apis = [i.api for i in problem.rubric if i.check == "transform" and i.api]
    reading = read_source(source, [transform_of(a) for a in apis])
    found = structure_evidence.source_disagreement(reading, learner, apis)
    # Only outputs can deny the structure: calls that all raised give none, and their
    # building call alone is what the items judged (``rubric._unproven``).
    answered = any(o.failure == "mismatch" for o in results)
    if found is None and answered:
        found = structure_evidence.outputs_disagreement(
            learner.ran_anything(), _shown_at_work(evaluator, results)
        )
    if found is None:
        return []
    note = f"not earned: {structure_evidence.CODE} (the records of how it is built disagree "
    note += "with the file)" if found.evidence.get("reason") != "outputs" else "with the numbers)"
    for entry in credited:
        entry.passed, entry.score, entry.codes = False, 0.0, [structure_evidence.CODE]
        entry.note = note
    return [wording.hinted(problem, found)]


def _shown_at_work(evaluator: Evaluator, results: list[Outcome]) -> bool:
    """Whether some number bears the recorded structure out: an informative case passed; or
    on a failing case the layer's recorded output is the reference layer's (a wrong step
    after a right layer), or is what the function returned in some format (a right layer
    with other initial values), or the output is a known mistake's."""
    if any(o.passed and o.informative for o in results):
        return True
    tol = evaluator.tolerance(evaluator.problem.output_dtype)
    learner, reference = evaluator.learner_seen, evaluator.reference_seen
    for o in results:
        if layer_outputs_agree(learner, reference, o.case.key, tol):
            return True
        if isinstance(o.got, np.ndarray) and formats_of(learner.outputs(o.case.key), o.got, tol):
            return True
    codes = {f.code for f in evaluator.problem.fingerprints}
    mismatches = [o for o in results if o.failure == "mismatch"][:_VARIANT_TRIES]
    return any(fingerprints.shows(evaluator, code, o) for o in mismatches for code in codes)
