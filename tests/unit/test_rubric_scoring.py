"""Scoring the rubric: items that depend on others, and partial credit for a formatting slip.

Pure data, no worker: outcomes and observations are made here as the grading would make them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from judge.cases import Case
from judge.grading import rubric
from judge.grading.outcome import Outcome
from judge.problem import Problem, RubricItem, load_problem
from judge.result import Mismatch, RubricResult
from judge.structure import Observations

BASE = load_problem("nn_vmap_forward")
VMAP_ARGS = {
    "target": {"__class__": "flax.linen.linear.Dense"},
    "variable_axes": {"params": None},
    "split_rngs": {"params": False},
    "in_axes": 0,
    "out_axes": 0,
}
TREE = [
    {"path": "params/bias", "shape": [2], "dtype": "float32"},
    {"path": "params/kernel", "shape": [1, 2], "dtype": "float32"},
]

OUTPUTS = RubricItem("outputs_match", "outputs match", "outputs", 0.25, True)
VMAP = RubricItem(
    "built_with_nn_vmap", "built with nn.vmap", "transform", 0.1, True, "flax.linen.vmap"
)
ARGS = dataclasses.replace(
    VMAP,
    id="vmap_arguments",
    title="nn.vmap's arguments",
    weight=0.25,
    arguments=("variable_axes", "split_rngs", "in_axes", "out_axes"),
    requires=("built_with_nn_vmap",),
)
SHARED = RubricItem(
    "params_shared",
    "params shared",
    "variable_shapes",
    0.25,
    True,
    requires=("built_with_nn_vmap",),
)
TREE_ITEM = RubricItem(
    "param_tree", "params at their paths", "variable_paths", 0.15, True, requires=("params_shared",)
)
SLIPS = (("not_flattened", 0.75), ("wrong_flatten_order", 0.5), ("wrong_output_dtype", 0.5))


def problem(*items: RubricItem) -> Problem:
    return dataclasses.replace(BASE, rubric=items)


def case(k: int) -> Case:
    x = np.full((2, 1), k + 1, dtype=np.float32)
    return Case({"seed": k, "batch": 2, "in_dim": 1, "features": 2, "x_batch": x})


def seen(lifted: dict | None, cases: list[Case]) -> Observations:
    """A side's record: its nn.vmap call (None: never called) and its variables per case."""
    record = Observations()
    event = {"kind": "lifted", "api": "flax.linen.vmap", "arguments": lifted, "build": 1}
    if lifted is not None:  # built at import, then run by init and apply in each call
        record.add([event])
    for c in cases:
        record.add(
            [{"kind": "init", "module": "Dense", "variables": TREE}, {"kind": "apply"}], c.key
        )
        if lifted is not None:
            runs = [{**event, "applied": True, "during": during} for during in ("init", "apply")]
            record.add(runs, c.key)
    return record


def passed(c: Case) -> Outcome:
    return Outcome(c, np.zeros(4, np.float32), np.zeros(4, np.float32), informative=True)


def failed(c: Case, code: str = "values_mismatch", **evidence: object) -> Outcome:
    mismatch = Mismatch(code, "differs", dict(evidence))
    return Outcome(
        c, np.zeros(4, np.float32), np.ones(4, np.float32), "mismatch", mismatch, informative=True
    )


def scored(
    items: tuple[RubricItem, ...], results: list[Outcome], lifted: dict | None, matches=None
):
    cases = [o.case for o in results]
    entries, _, _ = rubric.score(
        problem(*items), results, len(results), seen(lifted, cases), seen(VMAP_ARGS, cases), matches
    )
    return {e.id: e for e in entries}


def test_an_item_whose_requirement_failed_earns_nothing_and_says_why() -> None:
    """A plain nn.Dense: its params are trivially shared, but it never calls nn.vmap."""
    results = [passed(case(k)) for k in range(3)]
    entries = scored((OUTPUTS, VMAP, ARGS, SHARED), results, lifted=None)
    assert entries["built_with_nn_vmap"].codes == ["no_nn_vmap"]
    shared = entries["params_shared"]
    assert (shared.passed, shared.score, shared.codes) == (False, 0.0, [])
    assert shared.blocked_by == ["built_with_nn_vmap"]
    assert "'built with nn.vmap'" in shared.note and shared.note.startswith("not earned")
    # The blocked item's own check ran: what it found is still reported.
    assert entries["vmap_arguments"].codes == ["no_nn_vmap"]
    assert entries["vmap_arguments"].note == ""  # its own codes say why
    assert entries["outputs_match"].score == 0.25


def test_dependencies_are_transitive_and_scored_in_any_declared_order() -> None:
    results = [passed(case(0))]
    # Declared before what it requires: scored after it all the same.
    entries = scored((TREE_ITEM, SHARED, OUTPUTS, VMAP), results, lifted=None)
    assert [e for e in entries] == [
        "param_tree",
        "params_shared",
        "outputs_match",
        "built_with_nn_vmap",
    ]
    assert entries["param_tree"].blocked_by == ["params_shared"]
    assert entries["param_tree"].score == 0.0


def test_met_requirements_block_nothing() -> None:
    results = [passed(case(k)) for k in range(2)]
    entries = scored((OUTPUTS, VMAP, ARGS, SHARED, TREE_ITEM), results, lifted=VMAP_ARGS)
    assert all(e.passed and not e.blocked_by and not e.note for e in entries.values())
    assert sum(e.score for e in entries.values()) == sum(
        i.weight for i in (OUTPUTS, VMAP, ARGS, SHARED, TREE_ITEM)
    )


def test_a_slip_with_right_values_earns_its_fraction() -> None:
    outputs = dataclasses.replace(OUTPUTS, partial=SLIPS)
    results = [
        passed(case(0)),
        failed(case(1), "not_flattened", values_match_when_flattened=True),
        failed(case(2), "not_flattened", values_match_when_flattened=False),  # wrong numbers too
        failed(case(3)),
    ]
    # Two failing cases with wrong numbers: "right values, wrong format" is not true of this
    # code, so the one case with right values earns nothing either.
    entry = scored((outputs,), results, lifted=VMAP_ARGS)["outputs_match"]
    assert entry.passed is False
    assert entry.score == round(0.25 * 1 / 4, 4)
    assert entry.partial == {} and entry.note == ""
    # Every failing case right once flattened: each earns the slip's fraction.
    slips = [
        results[0],
        results[1],
        failed(case(4), "not_flattened", values_match_when_flattened=True),
    ]
    entry = scored((outputs,), slips, lifted=VMAP_ARGS)["outputs_match"]
    assert entry.score == round(0.25 * (1 + 0.75 + 0.75) / 3, 4)
    assert entry.partial == {"not_flattened": 2}
    assert "not_flattened" in entry.note and "0.75" in entry.note


def test_a_slip_the_problem_does_not_list_earns_nothing() -> None:
    results = [failed(case(0), "not_flattened", values_match_when_flattened=True)]
    entry = scored((OUTPUTS,), results, lifted=VMAP_ARGS)["outputs_match"]
    assert (entry.score, entry.partial) == (0.0, {})


def test_a_fingerprint_slip_is_asked_best_paid_first_and_only_for_failing_cases() -> None:
    outputs = dataclasses.replace(OUTPUTS, partial=SLIPS)
    asked: list[tuple[str, str]] = []

    def matches(code: str, outcome: Outcome) -> bool:
        asked.append((code, outcome.case.key))
        return code == "wrong_flatten_order"

    results = [passed(case(0)), failed(case(1)), failed(case(2), "wrong_output_shape")]
    entry = scored((outputs,), results, VMAP_ARGS, matches)["outputs_match"]
    assert entry.partial == {"wrong_flatten_order": 2}
    assert entry.score == round(0.25 * (1 + 0.5 + 0.5) / 3, 4)
    # Only the fingerprint code is a question for a fingerprint; comparator codes are read
    # from the mismatch, and the passing case is never asked about.
    assert {code for code, _ in asked} == {"wrong_flatten_order"}
    assert case(0).key not in {key for _, key in asked}


def test_a_blocked_outputs_item_runs_no_fingerprint() -> None:
    outputs = dataclasses.replace(OUTPUTS, partial=SLIPS, requires=("built_with_nn_vmap",))

    def matches(code: str, outcome: Outcome) -> bool:
        raise AssertionError("a blocked item cannot earn: nothing to match")

    entries = scored((outputs, VMAP), [failed(case(0))], None, matches)
    assert entries["outputs_match"].score == 0.0
    assert entries["outputs_match"].blocked_by == ["built_with_nn_vmap"]


KINDS = st.sampled_from(["pass", "flat_right", "flat_wrong", "order", "wrong", "uninformative"])


def outcome_of(kind: str, k: int) -> Outcome:
    c = case(k)
    if kind == "pass":
        return passed(c)
    if kind == "uninformative":
        return dataclasses.replace(failed(c), informative=False)
    if kind.startswith("flat"):
        return failed(c, "not_flattened", values_match_when_flattened=kind == "flat_right")
    return failed(c, "values_mismatch", order=kind == "order")


@given(st.lists(KINDS, min_size=1, max_size=12), st.integers(0, 3))
def test_partial_credit_lies_between_failing_and_passing_those_cases(
    kinds: list[str], not_run: int
) -> None:
    """Whatever the cases, the outputs credit is the passes plus each slip's fraction (when
    every failing case is a slip) over the informative cases and those never run: no less
    than with no partial credit, no more than if every slip had passed, and within [0,
    weight]."""
    results = [outcome_of(kind, k) for k, kind in enumerate(kinds)]
    outputs = dataclasses.replace(OUTPUTS, partial=SLIPS)

    def matches(code: str, outcome: Outcome) -> bool:
        return code == "wrong_flatten_order" and outcome.mismatch.evidence.get("order") is True

    planned = len(results) + not_run
    cases = [o.case for o in results]
    entries, _, _ = rubric.score(
        problem(outputs), results, planned, seen(VMAP_ARGS, cases), seen(VMAP_ARGS, cases), matches
    )
    got = entries[0].score
    informative = [k for k in kinds if k != "uninformative"]
    denominator = len(informative) + not_run
    fractions = {"pass": 1.0, "flat_right": 0.75, "order": 0.5}
    if any(k in ("flat_wrong", "wrong") for k in informative):
        fractions = {"pass": 1.0}  # a slip is paid only when every failing case is one
    earned = sum(fractions.get(k, 0.0) for k in informative)
    expected = round(0.25 * earned / denominator, 4) if denominator else 0.0
    assert got == expected
    lower = round(0.25 * informative.count("pass") / denominator, 4) if denominator else 0.0
    upper = (
        round(
            0.25 * sum(k in ("pass", "flat_right", "order") for k in informative) / denominator, 4
        )
        if denominator
        else 0.0
    )
    assert 0.0 <= lower <= got <= upper <= 0.25
    assert entries[0].passed is (not_run == 0 and all(k == "pass" for k in kinds))


def learner(vmap: bool, args_right: bool, shapes_right: bool, paths_right: bool, c: Case):
    """A learner's record in which each structural item's own check passes or fails at will."""
    record = Observations()
    if vmap:
        axes = {"params": None} if args_right else {"params": 0}
        arguments = {**VMAP_ARGS, "variable_axes": axes}
        event = {"kind": "lifted", "api": "flax.linen.vmap", "arguments": arguments, "build": 1}
        record.add([event])
        runs = [{**event, "applied": True, "during": during} for during in ("init", "apply")]
        record.add(runs, c.key)
    tree = [dict(leaf) for leaf in TREE]
    if not shapes_right:
        tree[1]["shape"] = [2, 1, 2]  # a batch axis: one layer per example
    if not paths_right:
        tree = tree[1:]  # no bias
    record.add([{"kind": "init", "module": "Dense", "variables": tree}, {"kind": "apply"}], c.key)
    return record


ALL = (OUTPUTS, VMAP, ARGS, SHARED, TREE_ITEM)


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_requirements_can_only_lower_a_score(
    vmap: bool, args_right: bool, shapes_right: bool, paths_right: bool, outputs_right: bool
) -> None:
    """The same code scored with and without ``requires``: an item earns what it earns alone
    when all it requires was earned, and nothing (not passed) otherwise."""
    c = case(0)
    results = [passed(c) if outputs_right else failed(c)]
    record = learner(vmap, args_right, shapes_right, paths_right, c)

    def score(items: tuple[RubricItem, ...]) -> dict[str, dict]:
        entries, _, _ = rubric.score(problem(*items), results, 1, record, seen(VMAP_ARGS, [c]))
        return {e.id: e for e in entries}

    with_deps = score(ALL)
    alone = score(tuple(dataclasses.replace(i, requires=()) for i in ALL))
    for ident, entry in with_deps.items():
        needed = {i.id: i.requires for i in ALL}[ident]
        unmet = [r for r in needed if not with_deps[r].passed]
        assert entry.blocked_by == unmet
        if unmet:
            assert (entry.score, entry.passed) == (0.0, False)
        else:
            assert (entry.score, entry.passed) == (
                alone[ident].score,
                alone[ident].passed,
            )
        assert entry.codes == alone[ident].codes  # its own check ran all the same
    assert with_deps["param_tree"].blocked_by == (
        [] if vmap and shapes_right else ["params_shared"]
    )


def test_params_never_seen_earn_nothing_when_no_case_passed() -> None:
    """Code that dies at every call is not paid for params it never made; code that works but
    makes them where the judge does not look is (unknown is never a mismatch)."""
    c = case(0)
    record = Observations()
    built = {"kind": "lifted", "api": "flax.linen.vmap", "arguments": VMAP_ARGS, "build": 1}
    record.add([built])  # built at import: context, never judged
    crashed = Outcome(c, np.zeros(4, np.float32), None, "exception", informative=True)
    items = (OUTPUTS, VMAP, ARGS, SHARED)

    def entries(outcome: Outcome) -> dict[str, RubricResult]:
        found, _, _ = rubric.score(problem(*items), [outcome], 1, record, seen(VMAP_ARGS, [c]))
        return {e.id: e for e in found}

    dead = entries(crashed)["params_shared"]
    assert (dead.passed, dead.score, dead.codes) == (False, 0.0, [])
    assert dead.note == rubric.UNPROVEN
    # Nothing ran in the graded call before it raised: the transform is not seen either.
    assert entries(crashed)["built_with_nn_vmap"].note == rubric.UNPROVEN
    # A run inside the graded call (that Flax then raised in) is seen, and earns.
    record.add([{**built, "applied": True, "during": "init"}], c.key)
    assert entries(crashed)["vmap_arguments"].passed
    alive = entries(passed(c))["params_shared"]
    assert (alive.passed, alive.score, alive.note) == (True, 0.25, "")


def test_gradescope_and_junit_say_why_a_blocked_item_earned_nothing() -> None:
    from judge.render import gradescope, junit
    from judge.result import Report, Verdict

    results = [passed(case(0))]
    entries = scored((OUTPUTS, VMAP, ARGS, SHARED), results, lifted=None)
    graded = Report(
        problem=BASE.name,
        submission="plain_dense.py",
        verdict=Verdict.WRONG_ANSWER,
        score=0.25,
        summary="wrong_answer: the summary",
        rubric=list(entries.values()),
    )
    tests = {t["name"]: t for t in gradescope.results(graded, points=100)["tests"]}
    shared = tests["params shared"]
    assert (shared["score"], shared["status"]) == (0, "failed")
    assert shared["output"].startswith("not earned: it counts only once 'built with nn.vmap'")
    assert "not earned: it counts only once" in junit.render(graded)


@given(st.lists(st.integers(1, 9), min_size=1, max_size=6))
def test_a_structural_mistake_is_shown_on_the_largest_case(batches: list[int]) -> None:
    """An ensemble seen on a batch of 1 reads as one layer: the report names the biggest batch
    that shows it (the first such in plan order), whatever the order the cases ran in."""
    cases = [
        Case({"seed": k, "batch": b, "in_dim": 1, "features": 2, "x_batch": np.ones((b, 1))})
        for k, b in enumerate(batches)
    ]
    mine, theirs = Observations(), Observations()
    for c, b in zip(cases, batches, strict=True):
        tree = [dict(leaf) for leaf in TREE]
        tree[1]["shape"] = [b, 1, 2]  # one layer per example
        mine.add([{"kind": "init", "module": "Dense", "variables": tree}], c.key)
        theirs.add([{"kind": "init", "module": "Dense", "variables": TREE}], c.key)
    results = [passed(c) for c in cases]
    alone = dataclasses.replace(SHARED, requires=())
    _, findings, _ = rubric.score(problem(alone), results, len(results), mine, theirs)
    [ensemble] = [d for d in findings if d.code == "ensemble_params"]
    largest = max(batches)
    assert ensemble.evidence["shape"] == [largest, 1, 2]
    assert f"an ensemble of {largest})" in ensemble.message
    assert ensemble.evidence["case"] == cases[batches.index(largest)].describe(problem(alone))
