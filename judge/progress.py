"""Progress of a long command where it is read: a live bar on a terminal, plain lines in a log.

A CI log, a redirected stderr or Gradescope's build log is no terminal: rich's bar draws
nothing there, and a 7-minute ``judge check`` looks hung. :class:`PlainProgress` has the part of
rich's ``Progress`` the commands use (``add_task``, ``update``, ``console.print``) and writes
one line per finished item, and a line every ``HEARTBEAT_S`` seconds while none finishes, each
with the count, the time spent and an estimate of the time left.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

# The most seconds a log goes without a line while work goes on.
HEARTBEAT_S = 10.0


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class _Printer:
    """``console.print`` for plain text: markup-free lines on the stream."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.is_terminal = False

    def print(self, *parts: Any, **_: Any) -> None:
        self.stream.write(" ".join(str(p) for p in parts) + "\n")
        self.stream.flush()


class PlainProgress:
    """Progress as lines: ``label: 12/128 · 0:34 spent · about 5:10 left · last thing done``."""

    def __init__(self, label: str, stream: IO[str] | None = None, heartbeat_s: float = HEARTBEAT_S):
        self.label = label
        self.console = _Printer(stream or sys.stderr)
        self.heartbeat_s = heartbeat_s
        self.total: float | None = None
        self.completed = 0
        self.description = ""
        self.started = time.monotonic()
        self._last_line = self.started
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="judge-progress", daemon=True)

    def __enter__(self) -> PlainProgress:
        self.started = self._last_line = time.monotonic()
        self._beat.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._beat.join(timeout=1.0)

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        self.description, self.total = description, total
        return 0

    def update(
        self,
        task: int,
        *,
        total: float | None = None,
        advance: float = 0,
        description: str | None = None,
        **_: Any,
    ) -> None:
        with self._lock:
            if total is not None:
                self.total = total
            if description is not None:
                self.description = description
            self.completed += int(advance)
            if advance:
                self._line()

    def line(self) -> str:
        """The line that says where the work stands now."""
        spent = time.monotonic() - self.started
        count = f"{self.completed}/{int(self.total)}" if self.total else str(self.completed)
        left = ""
        if self.total and self.completed:
            rest = spent / self.completed * (self.total - self.completed)
            left = f" · about {_clock(rest)} left"
        what = f" · {self.description}" if self.description else ""
        return f"{self.label}: {count} · {_clock(spent)} spent{left}{what}"

    def _line(self) -> None:
        self._last_line = time.monotonic()
        self.console.print(self.line())

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(1.0, self.heartbeat_s)):
            with self._lock:
                if time.monotonic() - self._last_line >= self.heartbeat_s:
                    self._line()


def progress(console: Any, label: str) -> Any:
    """A live bar on a terminal (rich, gone when done); plain lines anywhere else."""
    if not console.is_terminal:
        return PlainProgress(label, console.file)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
