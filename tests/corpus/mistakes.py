"""Mistakes by construction: learners' files written from one template with slots.

The right solution is the template filled with each slot's right fragment; a mistake replaces
the fragment of one slot. A file holds one mistake or two, so every diagnosis can be checked
against what the file is known to contain:

    key          how the init key is made            jax.random.PRNGKey(seed)
    transform    how the module is built              nn.vmap(nn.Dense, ...) with the right axes
    use_bias     Dense's use_bias keyword              (left out)
    kernel_init  Dense's kernel_init keyword           (left out)
    flatten      how the (B, F) output is flattened   out.reshape(-1)
    cast         what the result is cast to           (nothing)

Pairs: two mistakes are compatible when they change different slots. Two mistakes of one
slot cannot both be in a file (there is one key, one transform, one flatten): the two key
mistakes, the two flatten mistakes (not flattened, flattened column by column), and the
transform mistakes (the vmap arguments, a plain Dense) pair with none of their own slot. The
Dense keywords are slots of their own: use_bias=False and another kernel_init are independent
mistakes of one call and do pair, with each other and with any transform (a plain Dense can
forget its bias too). The cast is a slot apart from the flatten: a float16 result can be
flattened in the wrong order or not at all.

``Mistake.codes`` is the set of diagnostic codes that correctly name that mistake as a root
cause (chosen from the problem's fingerprints and the engine's structural codes).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

SLOTS = ("key", "transform", "use_bias", "kernel_init", "flatten", "cast")

TEMPLATE = '''"""{doc}"""

import jax
import jax.numpy as jnp
from flax import linen as nn


def {entry_point}(seed, x_batch, features):
    key = {key}
    layer = {transform}
    model = layer(features=features{use_bias}{kernel_init})
    x = jnp.asarray(x_batch)
    variables = model.init(key, x)
    out = model.apply(variables, x)
    result = {flatten}
    return result{cast}
'''


def vmap_dense(*, in_axes: int = 0, out_axes: int = 0, params_axis: int | None, split: bool) -> str:
    """The source of an nn.vmap over nn.Dense with these arguments."""
    return (
        "nn.vmap(\n"
        "        nn.Dense,\n"
        f"        in_axes={in_axes},\n"
        f"        out_axes={out_axes},\n"
        f'        variable_axes={{"params": {params_axis}}},\n'
        f'        split_rngs={{"params": {split}}},\n'
        "    )"
    )


@dataclass(frozen=True)
class Mistake:
    """One mistake: the slot it changes, the fragment it puts there, and the codes that name it."""

    name: str
    slot: str
    fragment: str
    codes: frozenset[str]
    doc: str = ""

    def __post_init__(self) -> None:
        assert self.slot in SLOTS, self.slot


RIGHT_COMMON = {
    "key": "jax.random.PRNGKey(seed)",
    "use_bias": "",
    "kernel_init": "",
    "flatten": "out.reshape(-1)",
    "cast": "",
}
RIGHT = {
    "nn_vmap_forward": {**RIGHT_COMMON, "transform": vmap_dense(params_axis=None, split=False)},
    "nn_vmap_ensemble": {**RIGHT_COMMON, "transform": vmap_dense(params_axis=0, split=True)},
}


def _m(name: str, slot: str, fragment: str, codes: set[str], doc: str) -> Mistake:
    return Mistake(name, slot, fragment, frozenset(codes), doc)


NOT_FLATTENED = _m(
    "not_flattened", "flatten", "out", {"not_flattened"}, "returns the (B, F) output"
)
FLATTEN_ORDER = _m(
    "flatten_order",
    "flatten",
    "out.T.reshape(-1)",
    {"wrong_flatten_order"},
    "flattens column by column",
)
# Named from the variables: a fixed-seed fingerprint's (same shapes), or, whatever the shapes
# (beside an ensemble), the same variables for two seeds (``argument_ignored``).
FIXED_KEY = _m(
    "fixed_key",
    "key",
    "jax.random.PRNGKey(0)",
    {"ignores_seed", "argument_ignored"},
    "ignores the seed",
)
SEED_PLUS_ONE = _m(
    "seed_plus_one", "key", "jax.random.PRNGKey(seed + 1)", {"wrong_init_key"}, "key of seed + 1"
)
NO_BIAS = _m("no_bias", "use_bias", ", use_bias=False", {"missing_bias"}, "a Dense with no bias")
OTHER_INITIALIZER = _m(
    "other_initializer",
    "kernel_init",
    ", kernel_init=nn.initializers.xavier_uniform()",
    {"wrong_initializer"},
    "a Glorot kernel",
)
HALF_OUTPUT = _m(
    "half_output", "cast", ".astype(jnp.float16)", {"wrong_output_dtype"}, "a float16 result"
)

MISTAKES: dict[str, tuple[Mistake, ...]] = {
    "nn_vmap_forward": (
        NOT_FLATTENED,
        FLATTEN_ORDER,
        FIXED_KEY,
        _m(
            "ensemble",
            "transform",
            vmap_dense(params_axis=0, split=True),
            {"ensemble_params", "split_rngs"},
            "an ensemble: params mapped over the batch, one key per example",
        ),
        NO_BIAS,
        OTHER_INITIALIZER,
        _m("plain_dense", "transform", "nn.Dense", {"no_nn_vmap"}, "a plain nn.Dense"),
        HALF_OUTPUT,
        _m(
            "wrong_in_axes",
            "transform",
            vmap_dense(in_axes=1, out_axes=0, params_axis=None, split=False),
            {"wrong_in_axes"},
            "maps over axis 1 of x_batch",
        ),
        SEED_PLUS_ONE,
    ),
    "nn_vmap_ensemble": (
        NOT_FLATTENED,
        FLATTEN_ORDER,
        FIXED_KEY,
        _m(
            "shared",
            "transform",
            vmap_dense(params_axis=None, split=False),
            {"shared_params"},
            "one layer shared by the batch",
        ),
        _m(
            "same_key",
            "transform",
            vmap_dense(params_axis=0, split=False),
            {"split_rngs"},
            "a layer per example, all from one key",
        ),
        NO_BIAS,
        HALF_OUTPUT,
    ),
}
PROBLEMS = tuple(MISTAKES)


def mistakes(problem: str) -> dict[str, Mistake]:
    """The problem's mistakes by name."""
    return {m.name: m for m in MISTAKES[problem]}


def compatible(first: Mistake, second: Mistake) -> bool:
    """Whether two mistakes can be in one file: they change different slots."""
    return first.slot != second.slot


def source(problem: str, chosen: tuple[Mistake, ...] = ()) -> str:
    """The learner's file: the template with each chosen mistake's fragment in its slot."""
    slots = dict(RIGHT[problem])
    for mistake in chosen:
        assert slots[mistake.slot] == RIGHT[problem][mistake.slot], "one mistake per slot"
        slots[mistake.slot] = mistake.fragment
    if chosen:
        doc = "Mistakes by construction: " + "; ".join(f"{m.name} ({m.doc})" for m in chosen)
    else:
        doc = "The template with every slot right: the reference, written another way."
    return TEMPLATE.format(doc=doc, entry_point=problem, **slots)


def file_name(names: tuple[str, ...]) -> str:
    """The file a corpus entry is written to (its stem is the student's id in a batch)."""
    return "__".join(names) + ".py"


def corpus(problem: str) -> list[tuple[tuple[str, ...], str]]:
    """Every single mistake and every compatible pair of the problem: (names, source)."""
    listed = MISTAKES[problem]
    entries = [((m.name,), source(problem, (m,))) for m in listed]
    for first, second in itertools.combinations(listed, 2):
        if compatible(first, second):
            entries.append(((first.name, second.name), source(problem, (first, second))))
    return entries
