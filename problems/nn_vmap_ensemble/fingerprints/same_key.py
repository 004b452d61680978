"""Fingerprint: one layer per example, all initialised from the same key: B identical layers."""

import jax
from flax import linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": 0},
        split_rngs={"params": False},
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
