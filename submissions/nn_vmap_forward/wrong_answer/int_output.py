"""The right layer, its output cast to int32: small values all become 0, as the reference's do
once cast, so no known mistake may be named from them (only the dtype)."""

import jax
import jax.numpy as jnp
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    shared_dense = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features=features)
    variables = shared_dense.init(jax.random.PRNGKey(seed), x_batch)
    return shared_dense.apply(variables, x_batch).reshape(-1).astype(jnp.int32)
