"""Small calls into the Linux kernel, shared by the judge and its workers.

Standard library only: the judge imports this module too (to become a subreaper), and a worker
calls it before anything else is imported.
"""

from __future__ import annotations

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, value: int) -> bool:
    """Linux prctl(2) through ctypes; False where there is no such call."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(option, value, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
