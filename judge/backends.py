"""JAX backends: the name a user gives, the platform JAX must start, and what each needs.

``--backend gpu`` means whichever GPU platform is installed (``cuda`` or ``rocm``): setting
``JAX_PLATFORMS=gpu`` would make JAX require every GPU platform it knows, and fail on each
machine for the one it lacks. An accelerator backend whose plugin is not installed is a usage
error named before any worker starts, with the pip extra that brings it.

Accelerators need a large address space (CUDA reserves far more than it uses), so their workers
get no RLIMIT_AS: host memory is bounded by the memory cgroup where the judge can make one, and
device memory by ``XLA_PYTHON_CLIENT_MEM_FRACTION``, shared by every worker on one device.
Verified on CPU only so far; ``bench/gpu_check.sh`` is the check a GPU machine runs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import metadata

from .errors import BackendUnavailable

BACKENDS = ("cpu", "gpu", "cuda", "rocm", "tpu")
ACCELERATORS = ("cuda", "rocm", "tpu")
# Distributions that give JAX each platform, newest first.
PLUGINS = {
    "cuda": ("jax-cuda13-plugin", "jax-cuda12-plugin", "jax-cuda11-plugin"),
    "rocm": ("jax-rocm7-plugin", "jax-rocm60-plugin", "jax-rocm-plugin"),
    "tpu": ("libtpu", "libtpu-nightly"),
}
EXTRAS = {"cuda": 'pip install "jax[cuda12]"', "rocm": 'pip install "jax[rocm]"',
          "tpu": 'pip install "jax[tpu]"'}  # fmt: skip
# The share of one device's memory all the judge's workers on it may take together.
DEVICE_MEMORY_SHARE = 0.9
# The variable each platform reads to restrict the devices a process sees.
VISIBLE = {
    "cuda": "CUDA_VISIBLE_DEVICES",
    "rocm": "HIP_VISIBLE_DEVICES",
    "tpu": "TPU_VISIBLE_CHIPS",
}


def _installed(names: Sequence[str]) -> str | None:
    for name in names:
        try:
            metadata.version(name)
            return name
        except metadata.PackageNotFoundError:
            continue
    return None


def platform_for(backend: str) -> str:
    """The value of JAX_PLATFORMS for a backend: ``gpu`` becomes the GPU platform installed
    (``cuda`` when none is, so that the error names the common one)."""
    if backend == "gpu":
        if _installed(PLUGINS["cuda"]):
            return "cuda"
        if _installed(PLUGINS["rocm"]):
            return "rocm"
        return "cuda"
    return backend


def missing_plugin(backend: str) -> str | None:
    """Why the backend cannot start for want of a plugin, with the install line; None when its
    plugin is installed (the device may still be missing: the worker says so)."""
    platform = platform_for(backend)
    if platform not in ACCELERATORS or _installed(PLUGINS[platform]):
        return None
    return f"no JAX plugin for {platform} is installed ({EXTRAS[platform]})"


def check(backend: str) -> None:
    """Raise BackendUnavailable, exit 2, when the backend's plugin is missing."""
    if backend not in BACKENDS:
        raise BackendUnavailable(backend, ["cpu"], f"expected one of {', '.join(BACKENDS)}")
    reason = missing_plugin(backend)
    if reason is not None:
        raise BackendUnavailable(backend, ["cpu"], reason)


def is_accelerator(backend: str) -> bool:
    return platform_for(backend) in ACCELERATORS


def visible_devices(backend: str, environ: dict[str, str] | None = None) -> list[str]:
    """The device ids this judge may hand out, from the platform's visibility variable (as a
    scheduler sets it); empty for the CPU or when unset (then JAX's default: device 0)."""
    environ = dict(os.environ) if environ is None else environ
    platform = platform_for(backend)
    if platform not in VISIBLE:
        return []
    value = environ.get(VISIBLE[platform], "").strip()
    return [d.strip() for d in value.split(",") if d.strip()]


def assign(devices: Sequence[str], slot: int) -> str | None:
    """The device for a batch's ``slot``-th concurrent grading: round-robin; None for none."""
    return devices[slot % len(devices)] if devices else None


def worker_variables(backend: str, device: str | None, workers_per_device: int) -> dict[str, str]:
    """The environment a worker needs for its backend, and its device when one is assigned."""
    platform = platform_for(backend)
    found = {"JAX_PLATFORMS": platform}
    if platform not in ACCELERATORS:
        return found
    share = DEVICE_MEMORY_SHARE / max(1, workers_per_device)
    found["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{share:.3f}"
    found["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    if device is not None and platform in VISIBLE:
        found[VISIBLE[platform]] = device
    return found
