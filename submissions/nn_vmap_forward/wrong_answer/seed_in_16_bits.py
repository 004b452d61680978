"""Keeps the seed in 16 bits: right for seeds below 65536 only. The smallest failing seed is
exactly 65536, which shrinking finds by bisection."""

import jax
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed % 65536), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
