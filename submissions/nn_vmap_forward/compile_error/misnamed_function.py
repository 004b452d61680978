"""The function has another name."""


def nn_vmap_fwd(seed, x_batch, features):
    return x_batch
