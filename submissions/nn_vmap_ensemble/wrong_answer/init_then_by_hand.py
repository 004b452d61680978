"""Initialised through nn.vmap, then each example's layer applied by hand with einsum."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    layers = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": 0}, split_rngs={"params": True}
    )(features)
    x = jnp.asarray(x_batch)
    p = layers.init(jax.random.PRNGKey(seed), x)["params"]
    return (jnp.einsum("bi,bif->bf", x, p["kernel"]) + p["bias"]).reshape(-1)
