"""Counts its calls and folds the count into the key: right on the first call of a process,
wrong on every later one."""

import jax
import flax.linen as nn

calls = 0


def nn_vmap_ensemble(seed, x_batch, features):
    global calls
    key = jax.random.PRNGKey(seed + calls)
    calls += 1
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0,
        variable_axes={"params": 0}, split_rngs={"params": True},
    )(features)
    variables = layer.init(key, x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
