"""A "fast path" that rounds the input to float16 for mid-sized layers (4 to 6 features): right
for small and large layers, so only a plan that meets the middle of the range catches it."""

import jax
import jax.numpy as jnp
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    x = jnp.asarray(x_batch)
    if 4 <= features <= 6:
        x = x.astype(jnp.float16).astype(jnp.float32)
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x)
    return layer.apply(variables, x).reshape(-1)
