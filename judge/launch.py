"""The ``judge`` command's first step: start the zygote, then import the judge.

The zygote imports JAX and Flax (about half a second) and every learner worker of the run is
forked from it. The judge's own imports (grading, numpy, Hypothesis) take about as long, so the
zygote is started first, from the few flags it needs, read straight from the command line
before argparse and before those imports; ``cli.main`` then parses the line for real and reuses
that zygote (``zygote.prestart`` starts one per python, backend and sandbox, at most). A flag
misread here costs only the overlap: the real parse decides everything.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def _flag(argv: Sequence[str], name: str, default: str) -> str:
    """``--name VALUE`` or ``--name=VALUE``, the last one given; ``default`` when absent."""
    value = default
    for k, arg in enumerate(argv):
        if arg == name and k + 1 < len(argv):
            value = argv[k + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def early_zygote(argv: Sequence[str]) -> None:
    """Start the zygotes for this command line before the judge's imports."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if "-h" in argv or "--help" in argv:
        return
    backend, sandbox = _flag(argv, "--backend", "cpu"), _flag(argv, "--sandbox", "auto")
    from .sandbox.zygote import start_for_command

    start_for_command(command, backend, sandbox, allowed="--no-zygote" not in argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``judge`` and ``python -m judge``; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    early_zygote(args)
    from .cli import main as cli_main

    return cli_main(args)
