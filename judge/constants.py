"""The judge's shared constants and the versions it records: one home for each value."""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import PurePath

BACKENDS = ("cpu", "gpu", "tpu")
# Files a learner may submit: their suffixes in lower case (``submission_suffix``).
SUFFIXES = (".py", ".ipynb")
# JAX aborts under this much address space (RLIMIT_AS): the least a problem or --memory may set.
MIN_MEMORY_MB = 1536
# How long a worker may take to start (import JAX, start its backend) or to load a file.
STARTUP_TIMEOUT_S = 120.0


def submission_suffix(path: PurePath) -> str | None:
    """``.py`` or ``.ipynb`` for a file a learner may submit, whatever the case of its suffix
    (``Alice.PY``, as some editors, Windows and course sites name files); None otherwise."""
    suffix = path.suffix.lower()
    return suffix if suffix in SUFFIXES else None


def judge_version() -> str:
    """This distribution's version; ``0+unknown`` when run from a tree that is not installed."""
    try:
        return metadata.version("jax-judge")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@functools.cache
def library_versions() -> dict[str, str | None]:
    """The versions cache keys and reports depend on; looked up once per process."""
    import numpy as np

    found: dict[str, str | None] = {"numpy": np.__version__}
    for name in ("jax", "jaxlib", "flax", "hypothesis"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


# The most bytes of Python a submission may hold (a notebook: its code cells, once read).
MAX_SOURCE_BYTES = 2 * 1024 * 1024
