"""Suite-wide settings: one private on-disk cache for the whole run.

Tests must not read or write the user's own cache (~/.cache/jax-judge), and sharing one
cache across the run lets later gradings skip the reference's worker, as a class's would.
"""

from __future__ import annotations

import os
import shutil
import tempfile

_PRIVATE_CACHE = tempfile.mkdtemp(prefix="judge-test-cache-")


def pytest_configure() -> None:
    os.environ["JUDGE_CACHE_DIR"] = _PRIVATE_CACHE


def pytest_unconfigure() -> None:
    shutil.rmtree(_PRIVATE_CACHE, ignore_errors=True)
