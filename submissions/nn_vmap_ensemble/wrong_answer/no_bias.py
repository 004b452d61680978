"""An ensemble of Dense layers without a bias: with a zero bias the outputs are the same, but
the statement gives each example its own kernel and bias."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    layers = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": 0}, split_rngs={"params": True}
    )(features, use_bias=False)
    x = jnp.asarray(x_batch)
    return layers.apply(layers.init(jax.random.PRNGKey(seed), x), x).reshape(-1)
