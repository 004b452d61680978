"""The check of a lifted transform (``nn.vmap`` and friends): the one that computed the
graded answer, with the reference's arguments as Flax and JAX read them.

Attribution: only runs inside the graded calls are judged (``Observations.runs``); what code at
import, a self-test, another function or an earlier notebook definition ran is context. Meaning:
arguments are compared by ``judge.arguments.meaning`` (negative axes, per-argument specs, Flax
filters resolved against the collections the layer made), and worded with the learner's own
spelling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .arguments import meaning, named, show
from .catalogue import no_transform_code, unused_transform_code
from .observations import Observations
from .result import Diagnostic, Severity

if TYPE_CHECKING:
    from .problem import RubricItem


def _short(api: str) -> str:
    """``flax.linen.vmap`` -> ``nn.vmap``: how learners write it."""
    return "nn." + api.rsplit(".", 1)[-1]


def _mapped_only_in(axes: Any, other: Any) -> list[str]:
    """Collections that ``axes`` maps over an axis (an int) and ``other`` shares (None)."""
    mine = axes if isinstance(axes, dict) else {}
    theirs = other if isinstance(other, dict) else {}
    return sorted(
        k
        for k, v in mine.items()
        if isinstance(v, int) and not isinstance(v, bool) and theirs.get(k) is None
    )


def _variable_axes_diagnostic(
    said: str, meant: tuple[Any, Any], want: Any, evidence: dict
) -> Diagnostic:
    got, wanted = meant
    batched = _mapped_only_in(got, wanted)
    if batched:
        names = ", ".join(repr(k) for k in batched)
        return Diagnostic(
            "ensemble_params",
            Severity.ERROR,
            f"{said}. An axis on {names} gives every example its own copy of the layer: "
            "an ensemble of B layers, not one layer shared by the batch.",
            f"Use variable_axes={show(want)} so that one set of variables serves the whole batch.",
            evidence,
        )
    shared = _mapped_only_in(wanted, got)
    if shared:
        names = ", ".join(repr(k) for k in shared)
        return Diagnostic(
            "shared_params",
            Severity.ERROR,
            f"{said}. Without an axis on {names}, one layer is shared by the whole batch, "
            "where each example should have a layer of its own.",
            f"Use variable_axes={show(want)} so that each example gets its own variables.",
            evidence,
        )
    return Diagnostic(
        "wrong_variable_axes",
        Severity.ERROR,
        said + ".",
        f"Use variable_axes={show(want)}.",
        evidence,
    )


def _argument_diagnostic(
    api: str, name: str, got: Any, want: Any, meant: tuple[Any, Any]
) -> Diagnostic:
    """One argument that means something else than the reference's. ``meant``: both sides'
    meaning (``judge.arguments.meaning``), which decides the wording; the message quotes the
    learner's own spelling."""
    short = _short(api)
    evidence = {"api": api, "argument": name, "got": got, "reference": want,
                "meaning": meant[0], "reference_meaning": meant[1]}  # fmt: skip
    said = f"{short} got {name}={show(got)}; the reference uses {name}={show(want)}"
    if name == "variable_axes":
        return _variable_axes_diagnostic(said, meant, want, evidence)
    if name == "split_rngs":
        mine = meant[0] if isinstance(meant[0], dict) else {}
        splits = any(v is True for v in mine.values())
        effect = (
            "splitting the key gives every example its own initialisation"
            if splits
            else "one unsplit key makes every example's variables start out identical"
        )
        return Diagnostic(
            "split_rngs",
            Severity.ERROR,
            f"{said}: {effect}.",
            f"Use split_rngs={show(want)}.",
            evidence,
        )
    if name in ("in_axes", "out_axes"):
        side = "input" if name == "in_axes" else "output"
        axis = show(meant[1])
        return Diagnostic(
            f"wrong_{name}",
            Severity.ERROR,
            f"{said}: the batch is mapped over another axis of the {side} (axis "
            f"{show(meant[0])}, counted from 0, where the reference maps axis {axis}).",
            f"Use {name}={show(want)}: the batch is axis {axis} of the {side}.",
            evidence,
        )
    return Diagnostic(
        f"wrong_{name}", Severity.ERROR, said + ".", f"Use {name}={show(want)}.", evidence
    )


def check_transform(
    item: RubricItem, learner: Observations, reference: Observations
) -> list[Diagnostic]:
    """The transform that computed the graded answer must be ``item.api`` with the reference's
    values of ``item.arguments``, compared by what they mean (``judge.arguments``).

    Only runs inside the graded calls are judged (``Observations.runs``): a transform built or
    run at import, by another function or by an earlier definition is context. Among the runs,
    those that made the output: the ones inside ``apply`` when the code called apply, else
    those of an init that returned the output (``init_with_output``, a creating ``apply``)."""
    want_runs = _output_runs(reference, item.api)
    want_built = reference.built(item.api)
    if not want_runs and not want_built:
        return []  # the reference does not use it either: nothing to hold the learner to
    runs = learner.runs(item.api)
    short = _short(item.api)
    if not runs:
        # Code whose calls all failed before anything ran is not judged on this: the rubric
        # leaves such an item unproven (``rubric._structure_item``), with no code.
        if not _built_for_graded(learner, item.api):
            return [_never_run(item.api, short, want_built, learner)]
        return [_unused_transform(item.api, short)]
    computing = _output_runs(learner, item.api)
    if not computing:
        return [_unused_transform(item.api, short)]
    want = want_runs[0] if want_runs else want_built[0]
    for run in computing:
        found = _argument_differences(item, run, want, learner, reference)
        if found:
            return found
    return []


def _output_runs(side: Observations, api: str) -> list[dict[str, Any]]:
    """The runs that computed the answer: inside ``apply`` when apply ran, else those of an
    init that returns its output; none when only a plain ``init`` ran it (the output was
    then computed by something else: another layer, or arithmetic by hand)."""
    runs = side.runs(api)
    if side.used_apply():
        return [r for r in runs if r.get("during") == "apply"]
    if side.created_via() and side.created_via() <= {"init"}:
        return [r for r in runs if r.get("during") != "init"]
    return runs


def _built_for_graded(learner: Observations, api: str) -> bool:
    """Whether the graded function could have used a building call: one made in a graded
    call, or one made at import that import-time code did not run itself (a layer class
    defined at the top of the file), rather than one a self-test or another function ran."""
    ran_at_load = {
        e.get("build")
        for e in learner.load
        if e.get("kind") == "lifted" and e.get("api") == api and e.get("applied")
    }
    in_calls = any(
        e.get("kind") == "lifted" and e.get("api") == api and not e.get("applied")
        for e in learner.graded()
    )
    at_load = [
        e.get("build")
        for e in learner.load
        if e.get("kind") == "lifted" and e.get("api") == api and not e.get("applied")
    ]
    return in_calls or any(b is None or b not in ran_at_load for b in at_load)


def _never_run(
    api: str, short: str, want_built: list[dict[str, Any]], learner: Observations
) -> Diagnostic:
    target = show(want_built[0].get("target")) if want_built else "..."
    extra = " (it calls jax.vmap)" if learner.used_jax_vmap() else ""
    return Diagnostic(
        no_transform_code(api),
        Severity.ERROR,
        f"the graded function never runs {short}{extra}; the reference builds its layer with "
        f"{short}({target}, ...).",
        f"Build the layer with {short}({target}, ...) as the statement asks: the lifted "
        "transform is what the exercise is about.",
        {"api": api, "used_jax_vmap": learner.used_jax_vmap()},
    )


def _argument_differences(
    item: RubricItem,
    run: dict[str, Any],
    want: dict[str, Any],
    learner: Observations,
    reference: Observations,
) -> list[Diagnostic]:
    """The arguments of ``item.arguments`` whose meaning differs between a learner's run and
    the reference's, each worded with the learner's own spelling."""
    got_args, want_args = run.get("arguments") or {}, want.get("arguments") or want
    found = []
    for name in item.arguments:
        relevant = learner.collections() | reference.collections() | named(want_args.get(name))
        mine = meaning(name, got_args.get(name), run.get("ranks"), relevant)
        theirs = meaning(name, want_args.get(name), want.get("ranks"), relevant)
        if mine != theirs:
            said = (got_args.get(name), want_args.get(name))
            found.append(_argument_diagnostic(item.api, name, *said, (mine, theirs)))
    return found


def _unused_transform(api: str, short: str) -> Diagnostic:
    said = (
        f"your code builds a layer with {short}(...) but the graded function computes its "
        "output with something else (another layer, or the arithmetic by hand)"
    )
    hint = f"Initialise and apply the layer {short}(...) returns: it is what the exercise is about."
    return Diagnostic(unused_transform_code(api), Severity.ERROR, said + ".", hint, {"api": api})


def check_built(
    item: RubricItem, learner: Observations, reference: Observations
) -> list[Diagnostic]:
    """For code whose graded calls all failed before anything ran: the building calls they
    made (``nn.vmap(nn.Dense, ...)`` inside the function), held to the reference's arguments
    by meaning, since nothing else shows what the function meant to run. None built: nothing
    is known (the rubric leaves the item unproven)."""
    builds = [
        e
        for e in learner.graded()
        if e.get("kind") == "lifted" and e.get("api") == item.api and not e.get("applied")
    ]
    want_runs = _output_runs(reference, item.api) or reference.built(item.api)
    if not builds or not want_runs:
        return []
    built = {"arguments": builds[-1].get("arguments") or {}, "ranks": None}
    return _argument_differences(item, built, want_runs[0], learner, reference)
