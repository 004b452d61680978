"""Initialises the nn.vmap layer, then applies a plain nn.Dense to its variables: the lifted
layer makes the params but never the output."""

import jax
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    shared_dense = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features=features)
    variables = shared_dense.init(jax.random.PRNGKey(seed), x_batch)
    return nn.Dense(features).apply(variables, x_batch).reshape(-1)
