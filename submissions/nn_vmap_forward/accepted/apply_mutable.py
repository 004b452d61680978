"""Creates the params with apply(..., mutable=["params"]) instead of init."""

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
    out, _variables = layer.apply(
        {}, x_batch, rngs={"params": jax.random.PRNGKey(seed)}, mutable=["params"]
    )
    return out.reshape(-1)
