"""A worker's pipes: waiting on one, widening one, and its captured output (the first bytes
kept, the rest counted, the last bytes too)."""

from __future__ import annotations

import fcntl
import os
import select
import time
from dataclasses import dataclass


def readable(fd: int, timeout_s: float) -> bool:
    """Whether ``fd`` (a pipe, a pidfd) is readable within ``timeout_s`` seconds. ``poll``, not
    ``select``: select refuses descriptors numbered 1024 or more, which a long batch, or a
    notebook kernel with many files open, can reach, and that refusal would be a judge_error."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(max(timeout_s, 0.0) * 1000.0))


def write_within(fd: int, data: bytes, timeout_s: float) -> bool:
    """Write all of ``data`` to the non-blocking ``fd`` within ``timeout_s`` seconds; whether it
    all went. A reader that shrinks its pipe and stops reading holds the writer no longer."""
    deadline = time.monotonic() + max(timeout_s, 0.0)
    view = memoryview(data)
    poller = select.poll()
    poller.register(fd, select.POLLOUT | select.POLLERR)
    while view:
        try:
            view = view[os.write(fd, view) :]
            continue
        except BlockingIOError:
            pass
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        poller.poll(min(remaining, 1.0) * 1000.0)
    return True


def widen_pipe(fd: int, size: int = 1 << 20) -> None:
    """A 1 MiB pipe (Linux's default is 64 KiB): a flood of output costs fewer wake-ups."""
    try:
        fcntl.fcntl(fd, 1031, size)  # F_SETPIPE_SZ
    except OSError:
        pass


_TAIL_BYTES = 4096


@dataclass
class Capture:
    """The first ``limit`` bytes of a stream, and how many bytes it carried in all."""

    limit: int
    data: bytearray
    total: int = 0
    tail: bytes = b""  # the last bytes too: a crash explains itself at the end

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data.extend(chunk[:room])
        self.total += len(chunk)
        self.tail = (self.tail + chunk[-_TAIL_BYTES:])[-_TAIL_BYTES:]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.data)

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")
