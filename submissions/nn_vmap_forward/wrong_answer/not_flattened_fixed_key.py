"""Two ordinary mistakes: the output is not flattened, and the key ignores the seed."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False}
    )(features)
    x = jnp.asarray(x_batch)
    variables = layer.init(jax.random.PRNGKey(0), x)
    return layer.apply(variables, x)
