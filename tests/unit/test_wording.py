"""Every diagnostic's hint comes through ``wording``: a problem's hints apply to all codes."""

from __future__ import annotations

import dataclasses

from judge import wording
from judge.grading import rubric
from judge.problem import load_problem
from judge.problem.sections import unknown_hint_keys
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
    assert unknown_hint_keys(keys, ["my_mistake"]) == ["typo_code"]


def test_every_generic_hint_is_non_empty_text() -> None:
    assert all(isinstance(h, str) and h.strip() for h in wording.GENERIC_HINTS.values())


# --- shortening quoted text -------------------------------------------------------------------

FLAX = (
    "ValueError: at vmap out_axes[1][0][0]['params']['kernel'], got axis spec None but output "
    "was batched on axis 0 (https://flax.readthedocs.io/en/latest/api_reference/"
    "flax.errors.html#flax.errors.ScopeParamShapeError) and more words after it"
)


def test_shorten_cuts_between_words_with_an_ellipsis() -> None:
    for limit in range(20, len(FLAX)):
        short = wording.shorten(FLAX, limit)
        assert len(short) <= limit, (limit, short)
        assert short.endswith(" ...")
        kept = short.removesuffix(" ...").split(" ")
        words = FLAX.split(" ")[: len(kept)]
        assert kept[:-1] == words[:-1], "whole words, in order"
        assert kept[-1] == words[-1].rstrip(",;:("), "the last one whole, less its comma"


def test_shorten_keeps_a_url_whole_or_leaves_it_out() -> None:
    url = next(word for word in FLAX.split(" ") if "https" in word)
    for limit in range(60, len(FLAX)):
        short = wording.shorten(FLAX, limit)
        assert url in short or "https" not in short, short


def test_shorten_leaves_short_text_alone_and_joins_its_lines() -> None:
    assert wording.shorten("a  short\ntext", 40) == "a short text"


def test_the_first_meaningful_line_skips_blanks_and_separators() -> None:
    text = "\n\n--------------------\nValueError: boom\n--------------------\nFor simplicity"
    assert wording.first_meaningful_line(text) == "ValueError: boom"
    assert wording.first_meaningful_line("Traceback (most recent call last):\nKeyError: 1") == (
        "KeyError: 1"
    )


def test_the_reference_is_explained_in_one_sentence() -> None:
    assert wording.REFERENCE_NOTE.count(". ") == 0 and wording.REFERENCE_NOTE.endswith(".")
    assert "reference" in wording.REFERENCE_NOTE.lower()
