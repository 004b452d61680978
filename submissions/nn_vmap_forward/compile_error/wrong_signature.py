"""Takes two parameters."""


def nn_vmap_forward(seed, x_batch):
    return x_batch
