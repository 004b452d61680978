"""Ends its process halfway through a call."""

import os


def nn_vmap_forward(seed, x_batch, features):
    os._exit(3)
