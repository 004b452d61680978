"""Returns its output cast to bfloat16: the values are right once the reference's are cast
too, but the dtype is not the one asked for."""

import jax
import jax.numpy as jnp
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1).astype(jnp.bfloat16)
