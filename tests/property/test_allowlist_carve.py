"""``allowlist.carve``: the folders granted cover every file of the roots but the hidden ones'.

Two properties on generated trees (folders, files and links, some leading into a hidden folder,
some out of every root, some back up to an ancestor): nothing granted lies in a hidden folder,
and every file readable through the roots and outside the hidden folders stays readable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from judge.sandbox.allowlist import carve

NAMES = st.sampled_from(["a", "b", "c", "d"])
# A tree: a path of up to 4 names per file; links named by their source and target paths.
PATHS = st.lists(st.lists(NAMES, min_size=1, max_size=4).map(tuple), min_size=1, max_size=25)


def _build(base: Path, files: list[tuple[str, ...]], links: list[tuple[tuple, tuple]]) -> None:
    for parts in files:
        target = base.joinpath("root", *parts)
        if any(p.exists() and not p.is_dir() for p in target.parents):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_text("x")
    for source, target in links:
        where = base.joinpath("root", *source[:-1], "link_" + source[-1])
        if where.parent.is_dir() and not os.path.lexists(where):
            where.symlink_to(base.joinpath("root", *target))
    (base / "outside").mkdir(exist_ok=True)
    (base / "outside" / "secret").write_text("x")
    (base / "root" / "to_outside").symlink_to(base / "outside")


def _within(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f + os.sep) for f in folders)


@settings(max_examples=40, deadline=None)
@given(PATHS, st.lists(st.tuples(PATHS.map(lambda p: p[0]), PATHS.map(lambda p: p[0])),
                       max_size=6), st.data())  # fmt: skip
def test_carve_grants_all_but_the_hidden(files: list, links: list, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(os.path.realpath(tmp))
        _build(base, files, links)
        root = str(base / "root")
        folders = sorted({str(Path(r).parent) for r in _files(root)} - {root})
        hidden = data.draw(st.lists(st.sampled_from(folders), max_size=3)) if folders else []
        granted = carve([root], hidden)
        real_hidden = [os.path.realpath(h) for h in hidden]
        for path in granted:
            assert not _within(path, real_hidden), f"{path} lies in a hidden folder"
            assert _within(path, [root]), f"{path} was not readable through the root"
        for path in _files(root):
            real = os.path.realpath(path)
            if os.path.exists(real) and _within(real, [root]) and not _within(real, real_hidden):
                assert _within(real, granted), f"{path} is no longer readable"


def _files(root: str) -> list[str]:
    found = []
    for folder, _, names in os.walk(root):
        found += [os.path.join(folder, n) for n in names]
    return found


def test_a_hidden_folder_that_holds_the_root_hides_nothing(tmp_path: Path) -> None:
    """The Python installation inside the judge's working folder stays readable."""
    (tmp_path / "venv" / "lib").mkdir(parents=True)
    root = str((tmp_path / "venv").resolve())
    assert carve([root], [str(tmp_path)]) == [root]
    assert carve([root], [root]) == [root]


def test_a_link_back_to_an_ancestor_ends(tmp_path: Path) -> None:
    (tmp_path / "site" / "judge" / "_bundled").mkdir(parents=True)
    (tmp_path / "site" / "numpy").mkdir()
    (tmp_path / "site" / "up").symlink_to(tmp_path / "site")
    (tmp_path / "site" / "into").symlink_to(tmp_path / "site" / "judge" / "_bundled")
    site = str((tmp_path / "site").resolve())
    granted = carve([site], [f"{site}/judge"])
    assert granted == [f"{site}/numpy"]
