"""in_axes=(0,): jax.vmap's per-argument spelling of 0, for a layer called with one argument."""

import jax
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense,
        in_axes=(0,),
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
