"""Every diagnostic's hint comes through ``wording``: a problem's hints apply to all codes."""

from __future__ import annotations

import dataclasses

from judge import wording
from judge.grading import rubric
from judge.problem import load_problem
from judge.structure import Observations

PROBLEM = load_problem("nn_vmap_forward")


def observed(kernel_shape: list[int]) -> Observations:
    seen = Observations()
    variables = [
        {"path": "params/bias", "shape": [kernel_shape[-1]], "dtype": "float32"},
        {"path": "params/kernel", "shape": kernel_shape, "dtype": "float32"},
    ]
    seen.add([{"kind": "init", "module": "VmapDense", "variables": variables}], "case")
    return seen


class _Case:
    key = "case"

    def describe(self, problem: object) -> str:
        return "case 1"


class _Outcome:
    case = _Case()
    passed = True
    informative = True


def test_a_problem_hint_replaces_a_structural_diagnostics_hint() -> None:
    hinted = dataclasses.replace(PROBLEM, hints={**PROBLEM.hints, "ensemble_params": "SHARE!"})
    results = [_Outcome()]
    for problem, expected in ((PROBLEM, None), (hinted, "SHARE!")):
        _, found, _ = rubric.score(problem, results, 1, observed([2, 3, 4]), observed([3, 4]))
        ensemble = [d for d in found if d.code == "ensemble_params"]
        assert ensemble, found
        if expected is None:
            assert ensemble[0].hint != "SHARE!" and ensemble[0].hint
        else:
            assert ensemble[0].hint == expected


def test_unknown_hint_keys_are_found_and_own_codes_are_known() -> None:
    keys = ["values_mismatch", "no_nn_scan", "my_mistake", "typo_code"]
    assert wording.unknown_hint_keys(keys, ["my_mistake"]) == ["typo_code"]


def test_every_generic_hint_is_non_empty_text() -> None:
    assert all(isinstance(h, str) and h.strip() for h in wording.GENERIC_HINTS.values())
