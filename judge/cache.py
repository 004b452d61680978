"""The judge's on-disk cache: what a fresh process would otherwise recompute every time.

Three kinds of entries, under one folder (``$JUDGE_CACHE_DIR``, else
``$XDG_CACHE_HOME/jax-judge``, else ``~/.cache/jax-judge``; ``JUDGE_CACHE_DIR=off`` disables it):

- ``plans/``: the case plan of a (problem.yaml, seed), drawn by Hypothesis (about 0.3 s);
- ``reference/``: the reference's outputs and observations, per reference file, problem
  version, backend and library versions, so a correct file is graded without starting the
  reference's worker at all;
- ``xla/``: JAX's persistent compilation cache. Only the reference's worker writes it; the
  learner's reads it (a correct solution compiles what the reference compiled), and never
  writes: its minimum compile time to write is set out of reach, its guard refuses writes
  outside its folder, and under bubblewrap the folder is mounted read-only.

Every entry is one JSON file named by the SHA-256 of its key, which it also holds and which is
checked on read; files are written to a temporary name and renamed, so concurrent writers (a
batch, shards on one machine) never leave a torn file. The learner's code cannot see
``plans/`` and ``reference/``: they are hidden like the reference itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

KINDS = ("plans", "reference")


def cache_dir() -> Path | None:
    """The cache's folder, created private to this user; None when disabled or unusable."""
    configured = os.environ.get("JUDGE_CACHE_DIR")
    if configured is not None and configured.strip().lower() in ("", "off", "0", "none"):
        return None
    if configured:
        folder = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "jax-judge"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for kind in (*KINDS, "xla"):
            (folder / kind).mkdir(exist_ok=True, mode=0o700)
    except OSError:
        return None
    return folder


def _path(folder: Path, kind: str, key: Any) -> tuple[Path, str]:
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return folder / kind / f"{hashlib.sha256(text.encode()).hexdigest()}.json", text


def load(kind: str, key: Any) -> Any | None:
    """The value stored under ``key``, or None (absent, unreadable, or another key's)."""
    folder = cache_dir()
    if folder is None:
        return None
    path, text = _path(folder, kind, key)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != text:
        return None
    return entry.get("value")


def store(kind: str, key: Any, value: Any) -> bool:
    """Store ``value`` under ``key`` atomically; False if the cache is off or not writable."""
    folder = cache_dir()
    if folder is None:
        return False
    path, text = _path(folder, kind, key)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"key": text, "value": value}, out, separators=(",", ":"))
        os.replace(temporary, path)
    except (OSError, TypeError, ValueError):
        try:
            os.unlink(temporary)
        except (OSError, UnboundLocalError):
            pass
        return False
    return True


def xla_dir() -> Path | None:
    """JAX's persistent compilation cache folder, or None when the cache is off."""
    folder = cache_dir()
    return folder / "xla" if folder is not None else None
