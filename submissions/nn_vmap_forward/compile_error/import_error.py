"""Imports a module the grader does not have."""

import torch


def nn_vmap_forward(seed, x_batch, features):
    return torch.zeros(1)
