"""nn.Dense inside a module of its own, then vmapped."""

import jax
import flax.linen as nn


class Layer(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.features)(x)


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        Layer, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False}
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
