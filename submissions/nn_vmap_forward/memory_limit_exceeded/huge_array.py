"""Asks for 64 GiB."""

import numpy as np


def nn_vmap_forward(seed, x_batch, features):
    return np.ones((16, 1024, 1024, 1024), dtype=np.float32).ravel()
