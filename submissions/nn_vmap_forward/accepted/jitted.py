"""Runs the whole computation under jax.jit, with features static."""

import functools

import jax
import flax.linen as nn


@functools.partial(jax.jit, static_argnums=2)
def _forward(key, x_batch, features):
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features)
    variables = layer.init(key, x_batch)
    return layer.apply(variables, x_batch).reshape(-1)


def nn_vmap_forward(seed, x_batch, features):
    return _forward(jax.random.PRNGKey(seed), x_batch, int(features))
