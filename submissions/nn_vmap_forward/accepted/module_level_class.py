"""Defines the vmapped class once, at module level, as in the statement."""

import jax
import jax.numpy as jnp
import flax.linen as nn

VmappedDense = nn.vmap(
    nn.Dense,
    in_axes=0,
    out_axes=0,
    variable_axes={"params": None},
    split_rngs={"params": False},
)


def nn_vmap_forward(seed, x_batch, features):
    model = VmappedDense(features=features)
    x = jnp.asarray(x_batch)
    params = model.init(jax.random.PRNGKey(seed), x)
    return jnp.reshape(model.apply(params, x), (-1,))
