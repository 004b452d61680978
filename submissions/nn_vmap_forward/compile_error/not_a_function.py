"""The entry point is a number."""

nn_vmap_forward = 42
