"""Flags that several commands take, each defined once as a parent parser.

``--problems``, ``--backend`` and ``--seed``, the report's format, the limits and sandbox of the
learner's process, ``--no-shrink``, ``--assignment`` and ``--pick``: a command lists the ones it
takes as ``parents`` in ``cli_args``, so their wording is written once.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from .backends import BACKENDS
from .candidates import DEFAULT_PICK, PICK_HELP, PICKS
from .errors import UsageError
from .limits import DECLARED
from .render import FORMATS
from .sandbox import SANDBOXES

PROBLEMS_HELP = "folder of problem packages"


def positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}") from None
        if number <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
        return number

    return parse


# --- flags shared by several commands, as parent parsers ---------------------------------------
# argparse registers a parent's arguments before those the command adds itself, in the order of
# ``parents``. A command whose own arguments come first (in --help, in usage, in "the following
# arguments are required") passes them as the first parent, ``own``.


def parent() -> argparse.ArgumentParser:
    """An empty parent parser: flags only, no -h of its own."""
    return argparse.ArgumentParser(add_help=False)


def problems_flag(help_text: str = PROBLEMS_HELP) -> argparse.ArgumentParser:
    """``--problems``: where the problem packages are."""
    flags = parent()
    flags.add_argument("--problems", type=Path, metavar="DIR", help=help_text)
    return flags


def cases_flags(seed_help: str) -> argparse.ArgumentParser:
    """``--backend`` and ``--seed``: where the cases run, and which cases."""
    flags = parent()
    flags.add_argument(
        "--backend",
        choices=BACKENDS,
        default="cpu",
        help="JAX backend for reference and learner alike (default: cpu)",
    )
    flags.add_argument("--seed", type=int, default=0, help=seed_help)
    return flags


def report_flags() -> argparse.ArgumentParser:
    """``--format``, ``--output`` and ``--color``: how and where one report is written."""
    flags = parent()
    flags.add_argument(
        "--format", choices=sorted(FORMATS), default="text", help="report format (default: text)"
    )
    flags.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report to FILE; stdout then gets a one-line summary",
    )
    flags.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in the text report (default: auto, on a terminal)",
    )
    return flags


def isolation_flags() -> argparse.ArgumentParser:
    """Limits and sandbox of the learner's process: the same for one file and for a class.
    One flag per limit that has one in ``limits.DECLARED``, its help from there."""
    flags = parent()
    for limit in DECLARED:
        if limit.flag is not None:
            flags.add_argument(
                limit.flag,
                type=positive(limit.kind),
                metavar=limit.unit,
                dest=f"limit_{limit.name}",
                help=limit.help,
            )
    flags.add_argument(
        "--sandbox",
        choices=SANDBOXES,
        default="auto",
        help="isolation of the learner's code: bwrap (bubblewrap with a mount allowlist), "
        "landlock (Landlock + seccomp, no package needed), none (trusted code only), auto (the "
        "strongest that works here; never none by itself; default)",
    )
    return flags


def zygote_flag() -> argparse.ArgumentParser:
    """``--no-zygote`` on the commands that start workers (grade, batch)."""
    flags = parent()
    flags.add_argument(
        "--no-zygote",
        action="store_true",
        help="start every worker as a fresh Python (slower) instead of forking it from a "
        "process that has imported JAX; for comparison (see bench/README.md)",
    )
    return flags


def shrink_flag(help_text: str) -> argparse.ArgumentParser:
    """``--no-shrink``: report a failing case as found."""
    flags = parent()
    flags.add_argument("--no-shrink", action="store_true", help=help_text)
    return flags


def pick_flag() -> argparse.ArgumentParser:
    """``--pick first|newest|error``: which of a folder's files is graded when several qualify,
    the same rule for ``judge grade FOLDER``, ``judge batch`` and Gradescope
    (``judge.candidates``)."""
    flags = parent()
    flags.add_argument(
        "--pick", choices=PICKS, default=DEFAULT_PICK, help=f"{PICK_HELP} (default: first)"
    )
    return flags


def assignment_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--assignment NAME``: several problems and their points (``assignments/<name>/``)."""
    parser.add_argument("--assignment", metavar="NAME", help=help_text)


class Isolation(TypedDict):
    """The GradeOptions fields that ``isolation_flags`` sets."""

    limits: dict[str, float | int | None]
    sandbox: str


def isolation_options(args: argparse.Namespace) -> Isolation:
    """GradeOptions fields from the flags ``isolation_flags`` adds; a value under a limit's
    smallest allowed one is a usage error."""
    limits: dict[str, float | int | None] = {}
    for limit in DECLARED:
        if limit.flag is None:
            continue
        value = getattr(args, f"limit_{limit.name}")
        if value is not None and value < limit.minimum:
            raise UsageError(
                f"{limit.flag} {value:g}: at least {limit.minimum:g} ({limit.meaning})"
            )
        limits[limit.name] = value
    return {"limits": limits, "sandbox": args.sandbox}
