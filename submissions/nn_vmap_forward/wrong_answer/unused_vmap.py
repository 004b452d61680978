"""Builds the nn.vmap layer the statement asks for, then computes with a plain nn.Dense: the
right numbers, but the lifted layer never runs."""

import jax
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    shared_dense = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )
    layer = nn.Dense(features)  # a Dense handles a batch already
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
