"""Initialises and applies in one call with Module.init_with_output: as right as init + apply."""

import jax
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features)
    out, _variables = layer.init_with_output(jax.random.PRNGKey(seed), x_batch)
    return out.reshape(-1)
