"""The transform's mappings given as flax.core FrozenDicts: the same layer as with dicts."""

import jax
import flax.linen as nn
from flax.core import FrozenDict


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes=FrozenDict({"params": None}),
        split_rngs=FrozenDict({"params": False}),
    )(features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
