"""Where problem packages come from: a folder, installed distributions, the bundled set.

Precedence (docs/problem-packages.md, "Problem sets as packages"), the first that applies:

1. ``--problems DIR``: that folder, and only it;
2. ``$JUDGE_PROBLEMS``: that folder, and only it;
3. a ``problems/`` folder holding a package, in the working directory or a parent: only it
   (a problem set's own repository works on its own problems);
4. otherwise the problem sets installed as Python distributions, then the bundled set, merged.

An installed set is a distribution that declares an entry point in the group
``jax_judge.problems`` whose value names a package (``course_problems.problems``); the folder of
that package holds ``<name>/problem.yaml`` folders, as ``--problems DIR`` does. Finding it
imports at most that package's parents (``importlib.util.find_spec``), never the problems'
code. A name found in an installed set and in the bundled one is the installed one (a course
that ships a problem of a bundled name means it), with a warning; a name found in two installed
distributions is an error naming both (which one a learner gets must not depend on the order
in which pip installed them).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..errors import ProblemNotFound
from .model import PROBLEM_FILE

ENTRY_POINT_GROUP = "jax_judge.problems"
BUNDLED = "bundled"


@dataclass(frozen=True)
class Source:
    """One folder of problem packages and where it came from, as ``judge list`` shows it:
    ``kind`` is ``bundled``, ``folder`` or ``installed``; ``label`` names it (the distribution
    and its version, for an installed set) and ``entry_point`` is the line that declared it."""

    kind: str
    folder: Path
    label: str
    entry_point: str = ""

    def names(self) -> list[str]:
        """The problem packages in this folder, sorted."""
        if not self.folder.is_dir():
            return []
        return sorted(p.parent.name for p in self.folder.glob(f"*/{PROBLEM_FILE}"))


def _folder_of(module: str) -> Path | None:
    """The folder of an installed package, found without running it (its parents may run)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def installed_sources() -> tuple[list[Source], list[str]]:
    """The installed problem sets, by distribution then entry-point name, and a warning for
    each entry point whose package cannot be found (a broken install is said, not skipped)."""
    sources, warnings = [], []
    found = sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP),
        key=lambda ep: (ep.dist.name if ep.dist else "", ep.name),
    )
    for entry in found:
        label = f"{entry.dist.name} {entry.dist.version}" if entry.dist else entry.name
        declared = f"{ENTRY_POINT_GROUP}: {entry.name} = {entry.value}"
        folder = _folder_of(entry.module)
        if folder is None or not folder.is_dir():
            warnings.append(
                f"{label} ({declared}): no package {entry.module!r} is installed; skipped"
            )
            continue
        sources.append(Source("installed", folder, label, declared))
    return sources, warnings


@dataclass(frozen=True)
class Located:
    """Every problem name with the source it is taken from, and the warnings found."""

    problems: dict[str, Source]
    warnings: tuple[str, ...]
    merged: bool = False  # the bundled set with the installed ones, not one folder


def merge(sources: list[Source], warnings: list[str]) -> Located:
    """Each name from the first source holding it; installed over bundled with a warning, two
    installed distributions holding one name an error."""
    taken: dict[str, Source] = {}
    notes = list(warnings)
    for source in sources:
        for name in source.names():
            first = taken.get(name)
            if first is None:
                taken[name] = source
            elif first.kind == source.kind == "installed":
                raise ProblemNotFound(
                    f"problem {name!r} is installed twice: by {first.label} and by "
                    f"{source.label}; uninstall one, or pass --problems DIR to choose"
                )
            else:
                notes.append(
                    f"problem {name!r} of {first.label} is used; the one in {source.label} "
                    f"({source.folder}) is shadowed"
                )
    return Located(taken, tuple(notes), merged=len(sources) > 1 or sources[0].kind == BUNDLED)


def locate(folder: Path, bundled: Path) -> Located:
    """The problems a command sees, given the folder it resolved (``--problems``, the
    environment, ``./problems``, or the bundled set): installed sets join only the bundled."""
    if folder.resolve() != bundled.resolve():
        return merge([Source("folder", folder, str(folder))], [])
    installed, warnings = installed_sources()
    return merge([*installed, Source(BUNDLED, bundled, BUNDLED)], warnings)
