"""Defines the first exercise's function instead."""


def nn_vmap_forward(seed, x_batch, features):
    return x_batch
