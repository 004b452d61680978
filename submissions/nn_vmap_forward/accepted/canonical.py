"""The statement's recipe, step by step, as a learner would write it."""

import flax.linen as nn
import jax


def nn_vmap_forward(seed, x_batch, features):
    VmappedDense = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )
    model = VmappedDense(features=features)
    params = model.init(jax.random.PRNGKey(seed), x_batch)
    out = model.apply(params, x_batch)
    return out.reshape(-1)
