"""Imports vmap and Dense by name, and returns a list."""

import jax
from flax.linen import Dense, vmap

Ensemble = vmap(Dense, in_axes=0, out_axes=0, variable_axes={"params": 0},
                split_rngs={"params": True})


def nn_vmap_ensemble(seed, x_batch, features):
    model = Ensemble(features)
    params = model.init(jax.random.PRNGKey(seed), x_batch)
    return model.apply(params, x_batch).ravel().tolist()
