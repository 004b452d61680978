"""The first function right; the second returns the (B, F) output unflattened."""

import flax.linen as nn
import jax


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0,
        variable_axes={"params": None}, split_rngs={"params": False},
    )(features)
    params = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(params, x_batch).reshape(-1)


def nn_vmap_ensemble(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0,
        variable_axes={"params": 0}, split_rngs={"params": True},
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch)
