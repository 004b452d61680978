"""init gets its key under a misspelt stream name ("param"): split_rngs is right, init has no key."""

import jax, jax.numpy as jnp
from flax import linen as nn
def nn_vmap_forward(seed, x_batch, features):
    m = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False})(features=features)
    x = jnp.asarray(x_batch)
    v = m.init({"param": jax.random.PRNGKey(seed)}, x)
    return m.apply(v, x).reshape(-1)
