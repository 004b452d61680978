"""Reference solution for problems/nn_vmap_ensemble: one Dense layer per example, each with its
own parameters and its own initialisation key."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    ensemble = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": 0},  # a kernel and a bias per example
        split_rngs={"params": True},  # each initialised from its own key
    )
    model = ensemble(features=features)
    x = jnp.asarray(x_batch)
    variables = model.init(jax.random.PRNGKey(seed), x)
    return model.apply(variables, x).reshape(-1)
