"""ARCHITECTURE.md's tree names every module of ``judge/`` once, and nothing that is gone.

The tree is read by its indentation: a line ``name/`` opens a package one level deeper, a line
``name.py`` (or ``a.py, b.py``) names modules in the package it sits under; anything after two
spaces is the description.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRY = re.compile(r"[\w.]+/?")


def named_in_tree(text: str) -> list[str]:
    """Every path the first code block's tree names, as ``judge/x/y.py`` (a package as
    ``judge/x``), in order, repeats kept."""
    block = text.split("```", 2)[1].splitlines()[1:]
    named: list[str] = []
    stack: list[str] = []
    for line in block:
        indent = len(line) - len(line.lstrip(" "))
        head = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        words = [w.strip() for w in head.split(",")]
        if not head or not all(ENTRY.fullmatch(w) for w in words):
            continue  # a description's second line
        level = indent // 2
        stack = stack[:level]
        for word in words:
            if word.endswith("/"):
                named.append("/".join([*stack, word[:-1]]))
                stack = [*stack, word[:-1]]
            else:
                named.append("/".join([*stack, word]))
    return named


def modules() -> set[str]:
    found = set()
    for path in (ROOT / "judge").rglob("*.py"):
        if "__pycache__" in path.parts or "_bundled" in path.parts:
            continue
        found.add(path.relative_to(ROOT).as_posix())
    packages = {p.rsplit("/", 1)[0] for p in found if p.endswith("/__init__.py")}
    return found | packages


def test_the_tree_reader_reads_nesting_and_lists() -> None:
    tree = (
        "```\njudge/\n  a.py  the a\n        more words\n  sub/\n    b.py, c.py  two\n  d.py\n```"
    )
    assert named_in_tree(tree) == [
        "judge",
        "judge/a.py",
        "judge/sub",
        "judge/sub/b.py",
        "judge/sub/c.py",
        "judge/d.py",
    ]


def test_architecture_names_every_module_once() -> None:
    named = named_in_tree((ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    twice = sorted(name for name, count in Counter(named).items() if count > 1)
    assert twice == []
    assert sorted(modules() - set(named)) == [], "modules ARCHITECTURE.md does not name"
    assert sorted(set(named) - modules()) == [], "ARCHITECTURE.md names modules that are gone"
