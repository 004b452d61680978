"""Initialises and applies in one call with Module.init_with_output: as right as init + apply."""

import jax
import flax.linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0,
        variable_axes={"params": 0}, split_rngs={"params": True},
    )(features)
    out, _variables = layer.init_with_output(jax.random.PRNGKey(seed), x_batch)
    return out.reshape(-1)
