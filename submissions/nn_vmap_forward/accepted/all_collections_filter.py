"""Flax's all-collections filter, as its own remat_scan defaults: True selects every
collection, and a Dense makes only params."""

import jax
import jax.numpy as jnp
from flax import linen as nn

SharedDense = nn.vmap(
    nn.Dense,
    variable_axes={True: None},
    split_rngs={True: False},
    in_axes=0,
    out_axes=0,
)


def nn_vmap_forward(seed, x_batch, features):
    model = SharedDense(features)
    x = jnp.asarray(x_batch)
    params = model.init(jax.random.PRNGKey(seed), x)
    return jnp.ravel(model.apply(params, x))
