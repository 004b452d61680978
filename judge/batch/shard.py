"""Shards: one class graded on several machines, each student in exactly one shard."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based, like array job indices)."""

    index: int
    count: int

    def __contains__(self, student: object) -> bool:
        return isinstance(student, str) and shard_of(student, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, students: Iterable[str]) -> set[str]:
        """This shard's students of a class, balanced: the class ordered by a stable hash of
        each id (then the id), and dealt out in turn, so shard sizes differ by at most one and
        every machine given the same class makes the same split. (A machine that sees another
        class, a late file say, splits differently: grade shards from one snapshot.)"""
        ordered = sorted(set(students), key=lambda s: (_digest(s), s))
        return {s for k, s in enumerate(ordered) if k % self.count == self.index}


def shard_of(student: str, count: int) -> int:
    """The shard a student belongs to: a stable hash of the id, never the listing order.

    The same id lands in the same shard on every machine, whatever else the source holds, so
    shards graded apart never overlap and never miss anyone.
    """
    return int.from_bytes(_digest(student)[:8], "big") % count


def _digest(student: str) -> bytes:
    return hashlib.sha256(student.encode("utf-8", "surrogatepass")).digest()


def parse_shard(text: str) -> Shard:
    """``"I/N"`` with 0 <= I < N; a UsageError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise UsageError(f"--shard {text!r}: expected I/N, such as 0/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise UsageError(f"--shard {text}: I must be between 0 and N-1 (N >= 1)")
    return Shard(index, count)
