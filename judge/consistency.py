"""A report that contradicts itself is a judge bug: the checks of that, on any report.

``judge check`` runs them on every example, and the test suite on every generated mistake:

- a rubric item whose own check passed (✓) while a root cause names a mistake that check
  covers (a ✓ for the param tree beside ``param_tree_mismatch`` as an error);
- a mistake named from the output alone (a fingerprint) whose code is structural, while every
  structure item found nothing: the recorded structure says otherwise;
- a code a rubric item holds that no diagnostic carries: the learner sees a ✗ with no words.
"""

from __future__ import annotations

from . import catalogue
from .problem import Problem, RubricItem
from .result import Report, Severity

# The codes each argument of a lifted transform can be reported under.
_ARGUMENT_CODES = {
    "variable_axes": ("ensemble_params", "shared_params", "wrong_variable_axes"),
    "split_rngs": ("split_rngs",),
    "in_axes": ("wrong_in_axes",),
    "out_axes": ("wrong_out_axes",),
}
_CHECK_CODES = {
    "variable_paths": ("missing_bias", "param_tree_mismatch"),
    "variable_shapes": ("ensemble_params", "shared_params", "wrong_param_shape",
                        "wrong_param_dtype"),
}  # fmt: skip


def covered(item: RubricItem) -> set[str]:
    """The codes a rubric item's check reports a mistake under."""
    if item.check == "transform":
        codes = {catalogue.no_transform_code(item.api), catalogue.unused_transform_code(item.api)}
        for name in item.arguments:
            codes.update(_ARGUMENT_CODES.get(name, (f"wrong_{name}",)))
        return codes
    return set(_CHECK_CODES.get(item.check, ()))


def contradictions(report: Report, problem: Problem) -> list[str]:
    """What in ``report`` contradicts something else in it; empty when nothing does."""
    found = []
    roots = {d.code for d in report.diagnostics if d.severity is Severity.ERROR}
    carried = {d.code for d in report.diagnostics}
    items = {i.id: i for i in problem.rubric}
    for entry in report.rubric:
        item = items.get(entry.id)
        if item is not None and entry.passed and not entry.codes:
            clash = sorted(roots & covered(item))
            if clash:
                found.append(f"rubric item {item.id} passed its check beside root cause {clash}")
        missing = sorted(set(entry.codes) - carried)
        if missing:
            found.append(f"rubric item {entry.id} holds {missing}, which no diagnostic says")
    structure = [e for e in report.rubric if e.check in catalogue.STRUCTURE_CHECKS]
    quiet = bool(structure) and all(not e.codes for e in structure)
    for diagnostic in report.diagnostics:
        by_output = diagnostic.evidence.get("matched") == "output"
        if by_output and quiet and catalogue.is_structural(diagnostic.code):
            found.append(
                f"{diagnostic.code} named from the output while the recorded structure is "
                "the reference's"
            )
    return found
