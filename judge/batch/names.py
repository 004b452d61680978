"""Feedback file names: one per student, safe on every file system, never shared."""

from __future__ import annotations

import hashlib
import re

# Names Windows reserves for devices, whatever the extension.
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{port}{n}" for port in ("com", "lpt") for n in range(1, 10)}
)


def feedback_name(student: str) -> str:
    """A file name for a student's feedback, safe on every file system.

    Ids that are not already plain lower-case names get a hash of the id added to the part
    before the first dot, so two ids never share a file (``Alice`` and ``alice`` on a
    case-insensitive disk, ``a b`` and ``a_b``).
    """
    safe = re.sub(r"[^a-z0-9._-]+", "_", student.lower()).strip("._-")[:80]
    reserved = safe.split(".")[0] in _WINDOWS_RESERVED
    if safe != student or reserved or not safe:
        digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        # Before the first dot: Windows reads a device name there whatever follows it.
        stem, dot, rest = safe.partition(".")
        safe = f"{stem}-{digest}{dot}{rest}" if safe else digest
    return f"{safe}.md"
