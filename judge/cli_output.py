"""How a command writes one report: colour or not, the lock it was graded under, stdout or
``--output``. Shared by ``cli`` and ``cli_assignment``, so neither imports the other.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .result import EXIT_USAGE

if TYPE_CHECKING:
    from .result import Report


def use_color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def recorded_lock(args: argparse.Namespace, report: Report) -> dict[str, Any] | None:
    """``--lock``: the lock's facts, recorded in the report (a warning when versions differ)."""
    if args.lock is None:
        return None
    from . import lock

    found = lock.facts(lock.read(args.lock), with_pins=True)
    report.environment["lock"] = {k: v for k, v in found.items() if k != "pins"}
    for line in found["differences"]:
        print(f"judge: warning: {args.lock}: {line}", file=sys.stderr)
    return found


def emit(args: argparse.Namespace, rendered: str, summary: str) -> int | None:
    """The rendered report to ``--output`` (then its one-line summary to stdout) or to stdout;
    EXIT_USAGE when the file cannot be written, else None."""
    if args.output is None:
        sys.stdout.write(rendered)
        return None
    try:
        args.output.write_text(rendered, encoding="utf-8")
    except OSError as exc:
        print(f"judge: error: --output {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(summary)
    return None
