"""Two mistakes of the initial variables: a Glorot kernel, and a key that ignores the seed."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False}
    )(features, kernel_init=nn.initializers.xavier_uniform())
    x = jnp.asarray(x_batch)
    return layer.apply(layer.init(jax.random.PRNGKey(0), x), x).reshape(-1)
