"""Fingerprint: nn.Dense in a module of its own, vmapped: params under Dense_0, another key."""

import jax
from flax import linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        Wrapper, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False}
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)


class Wrapper(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.features)(x)
