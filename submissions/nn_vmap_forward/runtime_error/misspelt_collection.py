"""variable_axes names a collection that does not exist ("param"): Flax raises at init."""

import jax, jax.numpy as jnp
from flax import linen as nn
def nn_vmap_forward(seed, x_batch, features):
    m = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"param": None}, split_rngs={"params": False})(features=features)
    x = jnp.asarray(x_batch)
    v = m.init(jax.random.PRNGKey(seed), x)
    return m.apply(v, x).reshape(-1)
