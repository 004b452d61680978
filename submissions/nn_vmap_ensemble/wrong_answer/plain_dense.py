"""A plain nn.Dense: one shared layer, no nn.vmap."""

import jax
import flax.linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    layer = nn.Dense(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
