"""The on-disk cache: keyed entries, atomic writes, nothing served for another key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judge import cache


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@settings(max_examples=50, deadline=None)
@given(key=json_values, value=json_values, other=json_values)
def test_a_value_comes_back_under_its_key_only(
    tmp_path_factory: pytest.TempPathFactory, key: object, value: object, other: object
) -> None:
    import os

    os.environ["JUDGE_CACHE_DIR"] = str(tmp_path_factory.mktemp("c"))
    try:
        assert cache.store("plans", key, value)
        assert cache.load("plans", key) == value
        if other != key:
            assert cache.load("plans", other) is None
        assert cache.load("reference", key) is None  # kinds do not mix
    finally:
        os.environ.pop("JUDGE_CACHE_DIR")


def test_a_damaged_or_foreign_file_is_a_miss(folder: Path) -> None:
    assert cache.store("reference", {"a": 1}, [1, 2])
    (entry,) = (folder / "reference").iterdir()
    entry.write_text('{"key": "something else", "value": [1, 2]}')
    assert cache.load("reference", {"a": 1}) is None
    entry.write_text('{"key": ')
    assert cache.load("reference", {"a": 1}) is None
    assert cache.store("reference", {"a": 1}, [3])  # and it is simply overwritten
    assert cache.load("reference", {"a": 1}) == [3]


def test_writes_leave_no_temporary_files(folder: Path) -> None:
    for n in range(5):
        assert cache.store("plans", n, {"n": n})
    names = [p.name for p in (folder / "plans").iterdir()]
    assert len(names) == 5
    assert not any(name.startswith(".tmp-") for name in names)
    assert cache.store("plans", "bad", {1, 2}) is False  # not JSON: refused, nothing left
    assert len(list((folder / "plans").iterdir())) == 5


@pytest.mark.parametrize("setting", ["off", "", "0", "none"])
def test_the_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("JUDGE_CACHE_DIR", setting)
    assert cache.cache_dir() is None
    assert cache.store("plans", 1, 2) is False
    assert cache.load("plans", 1) is None
    assert cache.xla_dir() is None


def test_the_folder_is_private(folder: Path) -> None:
    assert cache.cache_dir() == folder
    assert (folder.stat().st_mode & 0o077) == 0
    assert {p.name for p in folder.iterdir()} == {"plans", "reference", "xla"}


def test_an_entry_changed_by_someone_without_the_key_is_ignored(folder: Path) -> None:
    """A poisoned entry (the stored reference outputs rewritten) is recomputed, never served."""
    import json

    assert cache.store("reference", {"r": 1}, {"outputs": [1.0, 2.0]})
    (entry,) = (folder / "reference").glob("*.json")
    data = json.loads(entry.read_text())
    data["value"] = json.dumps({"outputs": [2.0, 4.0]})  # the forged answer
    entry.write_text(json.dumps(data))
    assert cache.load("reference", {"r": 1}) is None
    (folder / ".key").unlink()  # a new key: old entries no longer verify, and none is served
    assert cache.store("reference", {"r": 2}, [1])
    assert cache.load("reference", {"r": 2}) == [1]


def test_the_cache_key_is_private_to_its_owner(folder: Path) -> None:
    assert cache.store("plans", "k", 1)
    assert (folder / ".key").stat().st_mode & 0o077 == 0
