"""One place where every diagnostic gets its hint: the generic ones, and a problem's own.

A problem package may replace the hint of any code (``hints:`` in its YAML), structural and
fingerprint codes included; a key that names no code the judge or the package can emit is an
error in the package (``judge check`` lists it), never silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from . import catalogue

if TYPE_CHECKING:
    from .problem import Problem
    from .result import Diagnostic

# The generic hints and the instructors' titles, from the catalogue (each code's wording sits
# beside it there).
GENERIC_HINTS = {name: c.hint for name, c in catalogue.CODES.items() if c.hint is not None}
TITLES = {name: c.title for name, c in catalogue.CODES.items()}


# What "the reference" is, said once in a report that compares the learner's code with it.
REFERENCE_NOTE = (
    '"The reference" is the instructor\'s solution to this exercise: the judge runs it on the '
    "same inputs as your function and compares what the two return and how they are built."
)

# Where a long line is cut for reading: the full text stays in the JSON report's evidence.
ELLIPSIS = " ..."
_NOT_MEANINGFUL = re.compile(r"^(-{3,}|={3,}|Traceback \(most recent call last\):)$")


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut only between words and marked
    with an ellipsis, so a learner never reads half a word and takes it for the error.

    Words are never split, so a URL is shown whole or not at all (a link cut in two leads
    nowhere); a first word longer than ``limit`` (nothing to cut at) is kept whole.
    """
    words = text.split()
    if len(" ".join(words)) <= limit:
        return " ".join(words)
    kept: list[str] = []
    length = 0
    for word in words:
        extra = len(word) + (1 if kept else 0)
        if kept and length + extra + len(ELLIPSIS) > limit:
            break
        kept.append(word)
        length += extra
    shown = " ".join(kept).rstrip(",;:(")
    return shown + ELLIPSIS if len(kept) < len(words) else shown


def first_meaningful_line(text: str) -> str:
    """The first line of an error's text that says something: not blank, not a separator
    (``----``) nor a traceback header. JAX and Flax errors put the sentence that names the
    problem first, and pages of background after a separator."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not _NOT_MEANINGFUL.match(stripped):
            return stripped
    return text.strip()


def title(code: str) -> str:
    """A code in plain words, for an instructor: ``not_flattened`` -> "output not flattened"."""
    return TITLES.get(code) or code.replace("_", " ")


def hint(problem: Problem | None, key: str) -> str:
    """The problem's hint for ``key``, else the generic one, else none."""
    return (problem.hints.get(key) if problem else None) or GENERIC_HINTS.get(key, "")


def hinted(problem: Problem | None, diagnostic: Diagnostic) -> Diagnostic:
    """The diagnostic with the problem's hint for its code, when the problem has one."""
    override = problem.hints.get(diagnostic.code) if problem else None
    return dataclasses.replace(diagnostic, hint=override) if override else diagnostic
