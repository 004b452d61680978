"""Imports the names directly: from flax.linen import vmap, Dense."""

import jax
from flax.linen import Dense, vmap


def nn_vmap_forward(seed, x_batch, features):
    shared = vmap(
        Dense, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False}
    )
    layer = shared(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).ravel()
