"""Initialised through nn.vmap, then the forward written by hand: x @ kernel + bias. The
numbers are right; the statement asks for the lifted layer's apply."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False}
    )(features)
    x = jnp.asarray(x_batch)
    params = layer.init(jax.random.PRNGKey(seed), x)["params"]
    return (x @ params["kernel"] + params["bias"]).reshape(-1)
