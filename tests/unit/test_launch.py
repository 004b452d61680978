"""The ``judge`` command starts its zygote before the judge's own imports (``judge.launch``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from judge import launch


@pytest.mark.parametrize(
    ("argv", "name", "expected"),
    [
        (["grade", "f.py"], "--sandbox", "auto"),
        (["grade", "f.py", "--sandbox", "landlock"], "--sandbox", "landlock"),
        (["grade", "--sandbox=none", "f.py"], "--sandbox", "none"),
        (["batch", "d", "--backend", "gpu", "--backend", "cpu"], "--backend", "cpu"),
        (["grade", "f.py", "--backend"], "--backend", "cpu"),  # no value: argparse says so
    ],
)
def test_the_flags_the_zygote_needs_are_read_from_the_raw_line(
    argv: list[str], name: str, expected: str
) -> None:
    default = "auto" if name == "--sandbox" else "cpu"
    assert launch._flag(argv, name, default) == expected


@pytest.mark.parametrize(
    "argv",
    [["list"], ["grade", "f.py", "--no-zygote"], ["grade", "--help"], ["show", "x"], []],
)
def test_no_zygote_for_commands_that_start_no_worker_or_when_asked(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from judge.sandbox import zygote

    started: list[tuple[str, ...]] = []
    monkeypatch.setattr(zygote, "prestart", lambda *a: started.append(a))
    launch.early_zygote(argv)
    assert started == []
    launch.early_zygote(["grade", "f.py", "--sandbox", "landlock"])
    assert started == [(sys.executable, "cpu", "landlock")]


def test_import_judge_loads_neither_the_engine_nor_numpy() -> None:
    """What lets the zygote start first: ``import judge`` is free, its names come on use."""
    code = (
        "import sys, judge; "
        "assert not any(m.startswith(('judge.grading', 'numpy', 'hypothesis')) "
        "for m in sys.modules), sorted(sys.modules); "
        "assert judge.Verdict.ACCEPTED.value == 'accepted'; "
        "assert 'judge.result' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import judge

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = judge.nope  # type: ignore[attr-defined]


def test_every_public_name_has_a_home() -> None:
    import judge

    assert sorted(judge.__all__) == sorted(judge._HOMES)
    for name in judge.__all__:
        assert getattr(judge, name) is not None
