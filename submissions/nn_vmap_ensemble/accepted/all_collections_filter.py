"""Flax's all-collections filter: every collection mapped over the batch, every stream split."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    layers = nn.vmap(
        nn.Dense, variable_axes={True: 0}, split_rngs={True: True}, in_axes=-2, out_axes=-2
    )(features)
    x = jnp.asarray(x_batch)
    return layers.apply(layers.init(jax.random.PRNGKey(seed), x), x).reshape(-1)
