"""The stages of an answer, each on its own facts: pure data, no worker."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.cases import Case
from judge.grading.outcome import Outcome
from judge.grading.param_stage import param_stage
from judge.grading.stages import Stages, format_stage, formats_of
from judge.observations import Observations
from judge.problem import Fingerprint, Tolerance, load_problem
from judge.result import Mismatch
from judge.runtime.wire import encode_array

TOL = Tolerance(1e-5, 1e-6)
PROBLEM = load_problem("nn_vmap_forward")


def case(seed: int, batch: int = 2, features: int = 3, fill: float = 1.0) -> Case:
    x = np.full((batch, 2), fill, dtype=np.float32)
    return Case({"seed": seed, "batch": batch, "in_dim": 2, "features": features, "x_batch": x})


def layer_output(seed: int, batch: int = 2, features: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, features)).astype(np.float32)


def recorded(pairs: dict[str, np.ndarray]) -> Observations:
    seen = Observations()
    for key, raw in pairs.items():
        seen.add([{"kind": "output", "via": "apply", "value": encode_array(raw)}], key)
    return seen


def failed(c: Case, got: np.ndarray, expected: np.ndarray) -> Outcome:
    return Outcome(c, expected, got, "mismatch", Mismatch("values_mismatch", "differ"), True)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 99))
def test_each_format_is_found_from_the_layer_output(batch: int, features: int, seed: int) -> None:
    raw = layer_output(seed, batch, features)
    encoded = [encode_array(raw)]
    assert "row_major" in formats_of(encoded, raw.reshape(-1), TOL)
    assert "as_is" in formats_of(encoded, raw, TOL)
    assert "column_major" in formats_of(encoded, raw.T.reshape(-1), TOL)
    assert "row_major" in formats_of(encoded, raw.reshape(-1).astype(np.float16), TOL)
    assert not formats_of(encoded, raw.reshape(-1) + 1.0, TOL)  # another number: no format


@pytest.mark.parametrize(
    ("shape", "code"),
    [
        (lambda raw: raw, "not_flattened"),
        (lambda raw: raw.T.reshape(-1), "wrong_flatten_order"),
        (lambda raw: raw.reshape(-1), None),
    ],
)
def test_a_format_mistake_is_named_whatever_the_values(shape, code) -> None:
    """The learner's layer output has other numbers than the reference's (another key):
    its format is still judged against its own layer output."""
    cases = [case(1), case(2, batch=3)]
    mine = {
        c.key: layer_output(10 + k, *c.values["x_batch"].shape[:1], 3) for k, c in enumerate(cases)
    }
    theirs = {
        c.key: layer_output(20 + k, *c.values["x_batch"].shape[:1], 3) for k, c in enumerate(cases)
    }
    failing = [failed(c, shape(mine[c.key]), theirs[c.key].reshape(-1)) for c in cases]
    stages = Stages()
    format_stage(PROBLEM, failing, recorded(mine), recorded(theirs), TOL, stages)
    assert [d.code for d in stages.findings] == ([code] if code else [])
    assert stages.format_explained and stages.layer_output_right is False


def test_without_a_recorded_layer_output_nothing_is_said() -> None:
    c = case(1)
    raw = layer_output(1)
    stages = Stages()
    format_stage(
        PROBLEM,
        [failed(c, raw, raw.reshape(-1))],
        Observations(),
        recorded({c.key: raw}),
        TOL,
        stages,
    )
    assert (
        stages.findings == [] and not stages.format_explained and stages.layer_output_right is None
    )


# --- parameters ------------------------------------------------------------------------------


def variables(kernel: np.ndarray, bias: bool = True) -> list[dict]:
    leaves = [{"path": "params/kernel", "shape": list(kernel.shape), "dtype": "float32",
               "value": encode_array(kernel.astype(np.float32))}]  # fmt: skip
    if bias:
        zeros = np.zeros(kernel.shape[-1], np.float32)
        leaves.append({"path": "params/bias", "shape": list(zeros.shape), "dtype": "float32",
                       "value": encode_array(zeros)})  # fmt: skip
    return leaves


def inits(per_case: dict[str, list[dict]]) -> Observations:
    seen = Observations()
    for key, leaves in per_case.items():
        seen.add([{"kind": "init", "via": "init", "module": "Dense", "variables": leaves}], key)
    return seen


def kernel(seed: int, shape: tuple[int, ...] = (2, 3)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


FIXED = Fingerprint("ignores_seed", PROBLEM.reference, "out", "hint", "the key is fixed")
GLOROT = Fingerprint("wrong_initializer", PROBLEM.reference, "out", "hint", "glorot")
WITH_PRINTS = dataclasses.replace(PROBLEM, fingerprints=(GLOROT, FIXED))


def test_variables_equal_to_a_variants_name_its_mistake_beside_a_missing_bias() -> None:
    c = case(5)
    learner = inits({c.key: variables(kernel(0), bias=False)})  # the fixed key's kernel, no bias
    reference = inits({c.key: variables(kernel(5))})
    made = {0: variables(kernel(99)), 1: variables(kernel(0))}
    found = param_stage(WITH_PRINTS, [c], {c.key: c}, learner, reference,
                        lambda n, _: made[n], TOL)  # fmt: skip
    assert [d.code for d in found] == ["ignores_seed"]
    assert "the key is fixed" in found[0].message and found[0].evidence["matched"] == "params"


def test_a_variant_equal_to_the_reference_names_nothing() -> None:
    c = case(5)
    learner = inits({c.key: variables(kernel(7))})
    reference = inits({c.key: variables(kernel(5))})
    found = param_stage(WITH_PRINTS, [c], {c.key: c}, learner, reference,
                        lambda n, _: variables(kernel(5)), TOL)  # fmt: skip
    assert found == []


def test_the_same_variables_for_two_seeds_ignore_the_seed_whatever_their_shapes() -> None:
    """An ensemble (a batch axis on the kernel) with a fixed key: no variant has its values,
    but two calls that differ in the seed alone got the same variables."""
    a, b = case(5), case(9)
    ensemble = variables(kernel(0, (2, 2, 3)))
    learner = inits({a.key: ensemble, b.key: ensemble})
    reference = inits({a.key: variables(kernel(5)), b.key: variables(kernel(9))})
    found = param_stage(PROBLEM, [a], {a.key: a, b.key: b}, learner, reference,
                        lambda n, _: None, TOL)  # fmt: skip
    assert [d.code for d in found] == ["argument_ignored"]
    assert found[0].evidence["argument"] == "seed"
    # Two calls that differ in x_batch only: the reference's variables do not change either.
    c = case(5, fill=2.0)
    learner = inits({a.key: ensemble, c.key: ensemble})
    reference = inits({a.key: variables(kernel(5)), c.key: variables(kernel(5))})
    assert param_stage(PROBLEM, [a], {a.key: a, c.key: c}, learner, reference,
                       lambda n, _: None, TOL) == []  # fmt: skip


def test_values_beyond_the_structure_are_a_mistake_of_their_own() -> None:
    c = case(5)
    ensemble_shape = (2, 2, 3)
    learner = inits({c.key: variables(kernel(1, ensemble_shape))})
    reference = inits({c.key: variables(kernel(5))})
    twin = variables(kernel(2, ensemble_shape))  # built like the learner's, its own values
    found = param_stage(PROBLEM, [c], {c.key: c}, learner, reference, lambda n, _: twin, TOL)
    assert [d.code for d in found] == ["wrong_param_values"]
    assert found[0].evidence["beyond_structure"] is True
    # The twin's own values: the structure explains everything.
    same = inits({c.key: twin})
    assert param_stage(PROBLEM, [c], {c.key: c}, same, reference, lambda n, _: twin, TOL) == []


def test_an_ignored_argument_the_named_variant_explains_is_one_mistake_not_two() -> None:
    """A fixed key: the fixed-seed variant's variables, the same for both seeds; the ignored
    seed is that variant's own mistake. Another initializer with a fixed key: the initializer
    variant (keyed by the seed) matches on neither case, so the ignored seed is named."""
    a, b = case(5), case(9)
    learner = inits({a.key: variables(kernel(0)), b.key: variables(kernel(0))})
    reference = inits({a.key: variables(kernel(5)), b.key: variables(kernel(9))})
    every = {a.key: a, b.key: b}

    def made(number: int, c: Case) -> list[dict]:
        return variables(kernel(0)) if number == 1 else variables(kernel(100 + c.values["seed"]))

    found = param_stage(WITH_PRINTS, [a, b], every, learner, reference, made, TOL)
    assert [d.code for d in found] == ["ignores_seed"]
    glorot_fixed = inits({a.key: variables(kernel(1)), b.key: variables(kernel(1))})
    found = param_stage(WITH_PRINTS, [a, b], every, glorot_fixed, reference, made, TOL)
    assert [d.code for d in found] == ["argument_ignored"]


SEEDED = Fingerprint("wrong_init_key", PROBLEM.reference, "out", "hint", "the key is seed + 1",
                     {"seed": ("seed", 1)})  # fmt: skip
ZERO = Fingerprint("ignores_seed", PROBLEM.reference, "out", "hint", "the key is fixed",
                   {"seed": (None, 0)})  # fmt: skip
ENSEMBLE = Fingerprint("split_rngs", PROBLEM.reference, "out", "hint", "")
COMPOSED = dataclasses.replace(PROBLEM, fingerprints=(GLOROT, SEEDED, ZERO, ENSEMBLE))


def by_seed(number: int, c: Case) -> list[dict]:
    """What each variant makes on a case: its own kernel, keyed by the case's seed."""
    seed = int(c.values["seed"])
    if number == 3:  # the ensemble: a batch axis
        return variables(kernel(500 + seed, (2, 2, 3)))
    return variables(kernel(100 * (number + 1) + seed))


def test_two_mistakes_of_the_variables_are_named_each_by_composing_variants() -> None:
    """Another initializer with seed + 1: the initializer's variant run on seed + 1."""
    a, b = case(5), case(9)
    learner = inits({a.key: variables(kernel(100 + 6)), b.key: variables(kernel(100 + 10))})
    reference = inits({a.key: variables(kernel(5)), b.key: variables(kernel(9))})
    found = param_stage(COMPOSED, [a, b], {a.key: a, b.key: b}, learner, reference, by_seed, TOL)
    assert sorted(d.code for d in found) == ["wrong_init_key", "wrong_initializer"]
    by_code = {d.code: d.message for d in found}
    assert "seed + 1" in by_code["wrong_init_key"] and "glorot" in by_code["wrong_initializer"]
    assert "wrong_init_key" in by_code["wrong_initializer"]  # each names the other


def test_a_fixed_key_beside_another_initializer_is_two_mistakes_not_one() -> None:
    a, b = case(5), case(9)
    fixed = variables(kernel(100 + 0))  # the initializer's variant on seed 0, for every seed
    learner = inits({a.key: fixed, b.key: fixed})
    reference = inits({a.key: variables(kernel(5)), b.key: variables(kernel(9))})
    found = param_stage(COMPOSED, [a, b], {a.key: a, b.key: b}, learner, reference, by_seed, TOL)
    assert sorted(d.code for d in found) == ["ignores_seed", "wrong_initializer"]  # no third


def test_an_input_mistake_beyond_the_structure_is_named() -> None:
    """An ensemble keyed by seed + 1: the ensemble variant's variables on seed + 1."""
    a = case(5)
    learner = inits({a.key: variables(kernel(500 + 6, (2, 2, 3)))})
    reference = inits({a.key: variables(kernel(5))})
    found = param_stage(COMPOSED, [a], {a.key: a}, learner, reference, by_seed, TOL)
    assert [d.code for d in found] == ["wrong_init_key"]
    assert found[0].message.startswith("besides how the layer is built")
