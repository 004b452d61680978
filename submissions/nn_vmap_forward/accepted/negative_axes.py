"""Axes counted from the end: on a (B, in_dim) input and a (B, F) output, -2 is axis 0."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense,
        in_axes=-2,
        out_axes=-2,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features=features)
    x = jnp.asarray(x_batch)
    variables = layer.init(jax.random.PRNGKey(seed), x)
    return layer.apply(variables, x).reshape(-1)
