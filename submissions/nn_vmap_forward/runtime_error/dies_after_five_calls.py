"""Counts its calls and ends its process on the sixth: every call alone is right, so the crash
depends on the calls made before it, and a fresh process does not reproduce it alone."""

import os

import jax
import flax.linen as nn

_calls = [0]


def nn_vmap_forward(seed, x_batch, features):
    _calls[0] += 1
    if _calls[0] == 6:
        os._exit(3)
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
