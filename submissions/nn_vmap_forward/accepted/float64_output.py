"""Casts its output to float64: right values, flagged with a warning."""

import jax
import numpy as np
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
    return np.asarray(layer.apply(variables, x_batch), dtype=np.float64).reshape(-1)
