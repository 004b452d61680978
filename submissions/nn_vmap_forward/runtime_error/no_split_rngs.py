"""split_rngs left out: nn.vmap then passes no "params" key to the layer, and Flax refuses to
create its kernel."""

import jax
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    shared_dense = nn.vmap(
        nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None}
    )(features=features)
    variables = shared_dense.init(jax.random.PRNGKey(seed), x_batch)
    return shared_dense.apply(variables, x_batch).reshape(-1)
