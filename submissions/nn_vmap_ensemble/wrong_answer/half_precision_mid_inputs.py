"""A "fast path" that rounds the input to float16 when in_dim is 3 or 4: right for the smallest
and largest inputs, so only a plan that meets the middle of the range catches it."""

import jax
import jax.numpy as jnp
import flax.linen as nn


def nn_vmap_ensemble(seed, x_batch, features):
    x = jnp.asarray(x_batch)
    if 3 <= x.shape[1] <= 4:
        x = x.astype(jnp.float16).astype(jnp.float32)
    layer = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0,
        variable_axes={"params": 0}, split_rngs={"params": True},
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x)
    return layer.apply(variables, x).reshape(-1)
