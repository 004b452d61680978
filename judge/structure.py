"""How a submission is built, compared with how the reference is built.

Outputs alone cannot tell some wrong solutions from the right one: an ``nn.vmap`` with
``variable_axes={"params": 0}`` and one init key gives exactly the reference's numbers while
holding B copies of the layer. The workers record what the code did (see ``runtime.observer``):
the arguments of Flax's lifted transforms and the variables ``init`` returned. This module
compares the learner's record with the reference's, case by case, and words the differences.
Pure data in, Diagnostics out; it knows Flax's concepts, never a particular exercise.

Every structural check and their registry live here: adding a structural pitfall touches this
file and the worker's ``runtime/observer.py`` (and ``observations.py`` only for a new kind of
record). The records themselves are cleaned in ``observations.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .result import Diagnostic, Severity
from .runtime.wire import decode_array

if TYPE_CHECKING:  # annotations only: the problem loader never imports this module
    from .problem import RubricItem, Tolerance

from .observations import Observations
from .transform_check import check_transform

# --- variables --------------------------------------------------------------------------------


def _in_collection(leaves: list[dict[str, Any]], collection: str) -> dict[str, dict[str, Any]]:
    prefix = collection + "/"
    return {str(v.get("path")): v for v in leaves if str(v.get("path", "")).startswith(prefix)}


def _leaf_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def check_variable_paths(
    item: RubricItem,
    learner: list[dict[str, Any]] | None,
    reference: list[dict[str, Any]],
    where: str,
) -> list[Diagnostic]:
    """The learner's variables must sit at the reference's paths."""
    want = _in_collection(reference, item.collection)
    if learner is None:
        return []  # not seen is unknown, never a mismatch (``variables_unobserved``)
    got = _in_collection(learner, item.collection)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if not missing and not extra:
        return []
    evidence = {
        "collection": item.collection,
        "got": sorted(got),
        "reference": sorted(want),
        "missing": missing,
        "extra": extra,
        "case": where,
    }
    if not extra and missing and all(_leaf_name(p) == "bias" for p in missing):
        return [
            Diagnostic(
                "missing_bias",
                Severity.ERROR,
                f"your layer has no bias: the reference's variables include {', '.join(missing)}, "
                f"yours are {', '.join(sorted(got)) or 'none'}. With a zero-initialised bias the "
                "outputs still match, so only the parameters show it.",
                "Keep the layer's bias (leave use_bias at its default, True).",
                evidence,
            )
        ]
    return [
        Diagnostic(
            "param_tree_mismatch",
            Severity.ERROR,
            f"your {item.collection} are at {', '.join(sorted(got)) or 'no path'}; the reference's "
            f"are at {', '.join(sorted(want))}. The layer sits at another place in the module tree "
            "(wrapped in a module of your own?), which also changes the key Flax derives for it.",
            "Apply the lifted layer itself at the top level, not inside a module of your own.",
            evidence,
        )
    ]


def _shape_diagnostic(
    item: RubricItem, path: str, shape: list[int], ref_shape: list[int], evidence: dict
) -> Diagnostic:
    """A variable of another shape: a missing batch axis, an extra one, or another size."""
    if len(ref_shape) == len(shape) + 1 and ref_shape[1:] == shape:
        return Diagnostic(
            "shared_params",
            Severity.ERROR,
            f"your {_leaf_name(path)} has shape {tuple(shape)} where the "
            f"reference's is {tuple(ref_shape)}: without the leading axis of size "
            f"{ref_shape[0]}, all examples share one layer instead of one each.",
            "Give each example its own variables: variable_axes={'"
            f"{item.collection}': 0}} in nn.vmap.",
            evidence,
        )
    if len(shape) == len(ref_shape) + 1 and shape[1:] == ref_shape:
        return Diagnostic(
            "ensemble_params",
            Severity.ERROR,
            f"your {_leaf_name(path)} has shape {tuple(shape)} where the "
            f"reference's is {tuple(ref_shape)}: a leading axis of size {shape[0]} "
            f"means each example got its own layer (an ensemble of {shape[0]}), "
            "not one shared layer.",
            "Share the variables across the batch: variable_axes={'"
            f"{item.collection}': None}} in nn.vmap.",
            evidence,
        )
    return Diagnostic(
        "wrong_param_shape",
        Severity.ERROR,
        f"your {path} has shape {tuple(shape)}; the reference's is {tuple(ref_shape)}: the "
        "layer was built for inputs or outputs of another size.",
        "Check the layer's size arguments (features), the input it is initialised with, and "
        "which axis nn.vmap maps (a Dense sees one example's features).",
        evidence,
    )


def check_variable_shapes(
    item: RubricItem,
    learner: list[dict[str, Any]] | None,
    reference: list[dict[str, Any]],
    where: str,
) -> list[Diagnostic]:
    """The learner's variables must have the reference's shapes and dtypes, path by path."""
    want = _in_collection(reference, item.collection)
    if learner is None:
        return []  # not seen is unknown, never a mismatch (``variables_unobserved``)
    got = _in_collection(learner, item.collection)
    found: list[Diagnostic] = []
    for path in sorted(set(want) & set(got)):
        shape, ref_shape = list(got[path].get("shape", [])), list(want[path].get("shape", []))
        evidence = {"path": path, "shape": shape, "reference_shape": ref_shape, "case": where}
        if shape != ref_shape:
            found.append(_shape_diagnostic(item, path, shape, ref_shape, evidence))
        elif got[path].get("dtype") != want[path].get("dtype"):
            found.append(
                Diagnostic(
                    "wrong_param_dtype",
                    Severity.ERROR,
                    f"your {path} is {got[path].get('dtype')}; the reference's is "
                    f"{want[path].get('dtype')}.",
                    "Leave param_dtype (and dtype) at their defaults.",
                    {
                        **evidence,
                        "dtype": got[path].get("dtype"),
                        "reference_dtype": want[path].get("dtype"),
                    },
                )
            )
    return _first_per_code(found)


def check_variable_values(
    collection: str,
    learner: list[dict[str, Any]] | None,
    reference: list[dict[str, Any]],
    tol: Tolerance,
    where: str,
) -> Diagnostic | None:
    """Same shapes but other initial values: the key or the initializer differs."""
    if learner is None:
        return None
    want = _in_collection(reference, collection)
    got = _in_collection(learner, collection)
    differing = []
    for path in sorted(set(want) & set(got)):
        a, b = got[path].get("value"), want[path].get("value")
        if not (isinstance(a, dict) and isinstance(b, dict)):
            continue
        if got[path].get("dtype") != want[path].get("dtype"):
            continue  # another dtype is its own finding (wrong_param_dtype), not another key
        try:
            mine, theirs = decode_array(a), decode_array(b)
        except ValueError:
            continue
        if mine.shape == theirs.shape and not np.allclose(
            mine.astype(np.float64),
            theirs.astype(np.float64),
            rtol=tol.rtol,
            atol=tol.atol,
            equal_nan=False,
        ):
            differing.append(path)
    if not differing:
        return None
    return Diagnostic(
        "wrong_param_values",
        Severity.ERROR,
        f"your initial {', '.join(differing)} differ from the reference's although their "
        "shapes agree: the layer was initialised with another key or another initializer.",
        "Initialise with jax.random.PRNGKey(seed) itself, unsplit, and keep the default "
        "initializers.",
        {"paths": differing, "case": where},
    )


def unobserved(collections: list[str]) -> Diagnostic:
    """A note: no variables were seen being created on any case, so the checks of
    ``collections`` could not look at them; they count as passed, not as mismatches."""
    names = ", ".join(collections)
    return Diagnostic(
        "variables_unobserved",
        Severity.INFO,
        f"the judge saw no variables being created while your function ran (it watches "
        f"Module.init, init_with_output, lazy_init and apply with mutable), so your {names} "
        "could not be compared with the reference's; those checks count as passed.",
        "Nothing to fix if your outputs are right; create the variables with model.init(key, x) "
        "to have them checked.",
        {"collections": collections},
    )


def _first_per_code(found: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic per code (the first), with the paths of the others in its evidence."""
    out: dict[str, Diagnostic] = {}
    for diagnostic in found:
        if diagnostic.code in out:
            also = out[diagnostic.code].evidence.setdefault("also", [])
            also.append(diagnostic.evidence.get("path"))
        else:
            out[diagnostic.code] = diagnostic
    return list(out.values())


# --- the registry ------------------------------------------------------------------------------
# Adding a structural pitfall: a check (or a new code from an existing one) here, and, when it
# needs a fact not yet recorded, the worker's ``runtime/observer.py``; a new code is also an
# entry in ``catalogue.py`` (its title, rank and hint). Nothing else in the engine names a check.

Variables = list[dict[str, Any]]


@dataclass(frozen=True)
class StructureCheck:
    """A rubric check on how the code is built.

    ``per_case`` checks compare the variables ``init`` made on one case (the learner's, or None
    when none was seen, and the reference's) and are tried on each observed case until one
    finds a difference; the others compare the whole record.
    """

    per_case: bool
    whole: Callable[[RubricItem, Observations, Observations], list[Diagnostic]] | None = None
    case: Callable[[RubricItem, Variables | None, Variables, str], list[Diagnostic]] | None = None


RUBRIC_CHECKS: dict[str, StructureCheck] = {
    "transform": StructureCheck(per_case=False, whole=check_transform),
    "variable_paths": StructureCheck(per_case=True, case=check_variable_paths),
    "variable_shapes": StructureCheck(per_case=True, case=check_variable_shapes),
}

# The codes these checks emit, and which of them are structural, are the catalogue's
# (``catalogue.CODES``): a new code is an entry there, with its title and rank.
