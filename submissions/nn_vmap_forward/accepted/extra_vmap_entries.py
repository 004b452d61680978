"""Entries for collections the layer never makes, a common Flax habit: a dropout key split per
example, intermediates mapped. A Dense has neither, so the layer is the statement's."""

import jax
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    shared_dense = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None, "intermediates": 0},
        split_rngs={"params": False, "dropout": True},
    )(features=features)
    variables = shared_dense.init(jax.random.PRNGKey(seed), x_batch)
    return shared_dense.apply(variables, x_batch).reshape(-1)
