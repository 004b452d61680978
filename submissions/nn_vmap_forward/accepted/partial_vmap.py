"""Builds the transform with functools.partial."""

import functools

import jax
import flax.linen as nn

batched = functools.partial(
    nn.vmap, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False}
)


def nn_vmap_forward(seed, x_batch, features):
    layer = batched(nn.Dense)(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
