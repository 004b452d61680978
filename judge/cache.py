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
checked on read, with an HMAC of its content under a key private to this cache (``.key``, made
once, mode 0600): an entry anyone else wrote or changed is ignored and recomputed, never
trusted. Files are written to a temporary name and renamed, so concurrent writers (a batch,
shards on one machine) never leave a torn file. The learner's code cannot see the folder at all
under a kernel sandbox, only ``xla/``, read-only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
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


def _secret(folder: Path) -> bytes | None:
    """This cache's HMAC key, made on first use; None when it cannot be had."""
    path = folder / ".key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    except OSError:
        return None
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            secret = handle.read(64)
    except OSError:
        return None
    return secret if len(secret) == 32 else None


def _mac(secret: bytes, key_text: str, value_text: str) -> str:
    message = key_text.encode() + b"\0" + value_text.encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _path(folder: Path, kind: str, key: Any) -> tuple[Path, str]:
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return folder / kind / f"{hashlib.sha256(text.encode()).hexdigest()}.json", text


def load(kind: str, key: Any) -> Any | None:
    """The value stored under ``key``, or None (absent, unreadable, or another key's)."""
    folder = cache_dir()
    if folder is None:
        return None
    path, text = _path(folder, kind, key)
    secret = _secret(folder)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if secret is None or not isinstance(entry, dict) or entry.get("key") != text:
        return None
    value_text, mac = entry.get("value"), entry.get("mac")
    if not isinstance(value_text, str) or not isinstance(mac, str):
        return None
    if not hmac.compare_digest(mac, _mac(secret, text, value_text)):
        return None  # written or changed by someone without the key: recompute
    try:
        return json.loads(value_text)
    except (ValueError, RecursionError):
        return None


def store(kind: str, key: Any, value: Any) -> bool:
    """Store ``value`` under ``key`` atomically; False if the cache is off or not writable."""
    folder = cache_dir()
    if folder is None:
        return False
    path, text = _path(folder, kind, key)
    secret = _secret(folder)
    if secret is None:
        return False
    try:
        value_text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        entry = {"key": text, "value": value_text, "mac": _mac(secret, text, value_text)}
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(entry, out, separators=(",", ":"))
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
