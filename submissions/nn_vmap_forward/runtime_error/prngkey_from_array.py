"""Builds the key from an array instead of the int seed."""

import jax
import flax.linen as nn
import numpy as np


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None},
                    split_rngs={"params": False})(features)
    key = jax.random.PRNGKey(np.array([seed, seed]))
    variables = layer.init(key, x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
