"""Two mistakes: an ensemble (params mapped over the batch, a key per example), and the
output flattened column by column."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layers = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": 0}, split_rngs={"params": True}
    )(features)
    x = jnp.asarray(x_batch)
    out = layers.apply(layers.init(jax.random.PRNGKey(seed), x), x)
    return out.T.reshape(-1)
