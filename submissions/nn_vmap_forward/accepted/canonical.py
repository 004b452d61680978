"""Reference solution for problems/nn_vmap_forward: one Dense layer, lifted with nn.vmap,
whose parameters are shared by every example of the batch."""

import jax
import jax.numpy as jnp
from flax import linen as nn


def nn_vmap_forward(seed, x_batch, features):
    shared_dense = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},  # one kernel and one bias for the whole batch
        split_rngs={"params": False},  # and one init key for them
    )
    model = shared_dense(features=features)
    x = jnp.asarray(x_batch)
    variables = model.init(jax.random.PRNGKey(seed), x)
    return model.apply(variables, x).reshape(-1)
