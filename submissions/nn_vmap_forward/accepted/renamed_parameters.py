"""Names its parameters differently: still right, with a warning."""

import jax
import flax.linen as nn


def nn_vmap_forward(s, x, f):
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(f)
    return layer.apply(layer.init(jax.random.PRNGKey(s), x), x).reshape(-1)
