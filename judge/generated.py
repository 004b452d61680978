"""Text in the docs that is written from the code, never by hand: the codes, the limits, the
command line's help.

A generated block sits between two markers, ``<!-- NAME:start ... -->`` and
``<!-- NAME:end -->``; ``python -m judge.generated FILE ...`` rewrites every block it finds in
those files, and ``stale(text)`` names the blocks that differ from what the code would write
now (a test runs it over README and docs/, so a changed code or limit fails CI until the docs
are regenerated).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def _codes() -> str:
    from .catalogue import markdown_table

    return markdown_table()


def _limits() -> str:
    from .limits import markdown_table

    return markdown_table().rstrip("\n")


def _cli() -> str:
    """Every command's ``--help``, in the parser's order, at a fixed width (100 columns, whatever
    the terminal), each under a heading of its own."""
    from .cli_args import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parts = []
    for name, sub in commands.choices.items():
        sub.formatter_class = functools.partial(sub.formatter_class, width=100)
        parts.append(f"### judge {name}\n\n```text\n{sub.format_help().rstrip()}\n```")
    return f"{CLI_PYTHON}{python_version()}.\n\n" + "\n\n".join(parts)


# argparse lays out help differently from one Python to the next: the cli block says which
# wrote it, and a check of it is meaningful only under that version (``written_under``).
CLI_PYTHON = "Written under Python "


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def written_under(text: str) -> str | None:
    """The Python version that wrote the cli block in ``text``; None without one."""
    start = text.find(CLI_PYTHON)
    if start < 0:
        return None
    return text[start + len(CLI_PYTHON) :].split(".\n", 1)[0]


# Each block's name and the function that writes its body.
BLOCKS: dict[str, Callable[[], str]] = {"codes": _codes, "limits": _limits, "cli": _cli}
TOOL = "python -m judge.generated"


def start_marker(name: str) -> str:
    return f"<!-- {name}:start ({TOOL} FILE) -->"


def end_marker(name: str) -> str:
    return f"<!-- {name}:end -->"


def rewritten(text: str, only: Iterable[str] | None = None) -> str:
    """``text`` with every generated block in it (or those named ``only``) written from the
    code."""
    for name in BLOCKS if only is None else only:
        write = BLOCKS[name]
        start, end = start_marker(name), end_marker(name)
        pieces = text.split(start)
        for k in range(1, len(pieces)):
            _, sep, tail = pieces[k].partition(end)
            if not sep:
                raise ValueError(f"{start} without {end}")
            pieces[k] = f"\n{write()}\n{end}{tail}"
        text = start.join(pieces)
    return text


def stale(text: str) -> list[str]:
    """The names of the blocks in ``text`` that the code would write differently now."""
    return [name for name in present(text) if rewritten(text, [name]) != text]


def present(text: str) -> list[str]:
    """The names of the blocks ``text`` holds."""
    return [name for name in BLOCKS if start_marker(name) in text]


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    for argument in sys.argv[1:]:
        path = Path(argument)
        path.write_text(rewritten(path.read_text(encoding="utf-8")), encoding="utf-8")
