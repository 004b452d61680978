"""The folders a worker may read, with what it must never read cut out of them.

A wheel install puts the judge's own package data (bundled problems, references, fingerprints)
inside site-packages, which the worker must read to import numpy and JAX; a system-wide install
puts it under /usr. Granting those trees whole hands a learner the answer key. Landlock has no
"deny beneath an allowed folder", so :func:`carve` replaces each granted folder that holds a hidden
one by its entries, level by level down to the hidden one, leaving that one out: an allowlist
that still names everything the worker imports.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

import judge

# The judge's distribution name: its install record (``jax_judge-*.dist-info``) names every
# bundled file, so it goes with the package.
DISTRIBUTION = "jax_judge"


@functools.cache
def judge_package_data() -> tuple[str, ...]:
    """The judge's package folder and its install record, wherever the judge is installed.
    Only ``judge/runtime`` (granted on its own) is for the worker to read."""
    package = Path(judge.__file__).resolve().parent
    records = package.parent.glob(f"{DISTRIBUTION}-*.dist-info")
    return tuple(sorted(str(p.resolve()) for p in (package, *records)))


def _beneath(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def carve(roots: Iterable[str], hidden: Iterable[str]) -> list[str]:
    """``roots`` with every ``hidden`` folder strictly beneath one of them cut out.

    A root that holds a hidden folder is replaced by its entries (links followed, so a link
    cannot lead back into a hidden folder), recursively; every other root is kept whole. A hidden
    folder that is a root, or holds one, hides nothing of it: the Python installation stays
    readable even when it lies inside a hidden folder (the worker could not start otherwise)."""
    return list(_carved(*_normal(roots, hidden))[0])


def opened(roots: Iterable[str], hidden: Iterable[str]) -> list[str]:
    """The folders ``carve`` replaced by their entries. The worker may list them, not read
    what is beneath: Python's importer lists each ``sys.path`` folder before it finds a module
    there (an unlistable site-packages imports nothing), and a name is not an answer."""
    return list(_carved(*_normal(roots, hidden))[1])


def _normal(roots: Iterable[str], hidden: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    holes = tuple(sorted({os.path.realpath(h) for h in hidden if h}))
    return tuple(sorted({os.path.realpath(r) for r in roots})), holes


@functools.cache
def _carved(
    roots: tuple[str, ...], hidden: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Computed once per set of roots and hidden folders (a few listings per level), not once
    per worker. What a link leads to counts, as for Landlock: a link that leaves every root was
    never readable through it and is left out; one into a hidden folder too."""
    holes = [h for h in hidden if any(_beneath(h, r) for r in roots)]

    def _within(path: str, folders: Iterable[str]) -> bool:
        return any(path == f or _beneath(path, f) for f in folders)

    found: set[str] = set()
    opened: set[str] = set()  # folders already replaced by their entries (links can loop)
    pending = list(roots)
    while pending:
        folder = pending.pop()
        if folder in opened or _within(folder, holes) or not _within(folder, roots):
            continue
        if not any(_beneath(h, folder) for h in holes):
            found.add(folder)
            continue
        opened.add(folder)
        try:
            names = os.listdir(folder)
        except OSError:
            continue  # unreadable: granting it whole would grant what it hides
        pending += [os.path.realpath(os.path.join(folder, n)) for n in names]
    return tuple(sorted(found)), tuple(sorted(opened))
