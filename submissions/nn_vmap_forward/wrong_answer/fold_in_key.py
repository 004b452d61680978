"""The key folded with 0 before init: another key than PRNGKey(seed) itself. On a batch of one,
fold_in(key, 0) is what split(key, 1)[0] gives, the key an ensemble would use."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False}
    )(features)
    x = jnp.asarray(x_batch)
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 0)
    return layer.apply(layer.init(key, x), x).reshape(-1)
