"""The environment a worker starts with, and which backends a fresh process can start."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from .. import backends

# Variables a worker may inherit: what the platform needs to find Python, CUDA and TPUs.
_PASSTHROUGH = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "TPU_VISIBLE_CHIPS",
    "XLA_FLAGS",
    "SYSTEMROOT",
)


def worker_environment(
    backend: str, home: str, device: str | None = None, workers_per_device: int = 2
) -> dict[str, str]:
    """The environment a worker starts with: pass-through variables plus JAX's settings (the
    platform, and for an accelerator its device and its share of the device's memory)."""
    env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
    env.update(
        {
            "HOME": home,
            "TMPDIR": home,
            # Two processes (reference and learner) share a GPU: neither may take 75% of it.
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONIOENCODING": "utf-8",
        }
    )
    if backend:
        env.update(backends.worker_variables(backend, device, workers_per_device))
    env.setdefault("LANG", "C.UTF-8")
    return env


def probe_backends(python: str | None = None, timeout: float = 60.0) -> list[str]:
    """Which of cpu, gpu and tpu JAX can start here, asked of a fresh process."""
    code = (
        "import jax\nfound=[]\nfor p in ('cpu','gpu','tpu'):\n  try:\n    jax.devices(p)\n"
        "    found.append(p)\n  except Exception:\n    pass\nprint(','.join(found))"
    )
    with tempfile.TemporaryDirectory(prefix="judge-probe-") as home:
        env = worker_environment("", home)
        try:
            done = subprocess.run(
                [python or sys.executable, "-I", "-c", code],
                env=env,
                cwd=home,
                capture_output=True,
                text=True,
                timeout=timeout,
                start_new_session=True,
            )
        except (OSError, subprocess.TimeoutExpired):
            return []
    lines = done.stdout.strip().splitlines()
    return [p for p in lines[-1].split(",") if p] if lines else []
