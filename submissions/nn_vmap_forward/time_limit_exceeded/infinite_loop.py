"""Never returns."""


def nn_vmap_forward(seed, x_batch, features):
    while True:
        pass
