"""The on-disk cache speeds grading up without changing a verdict, and is out of the learner's
reach: it cannot read the stored reference outputs, nor write compiled code for the reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge import GradeOptions, Verdict, cache, grade
from judge.grading import memo
from judge.sandbox import bwrap_problem, landlock_problem

pytestmark = pytest.mark.slow

PROBLEM = "nn_vmap_forward"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions" / PROBLEM
LEVELS = [
    "none",
    pytest.param(
        "landlock", marks=pytest.mark.skipif(landlock_problem() is not None, reason="no Landlock")
    ),
    pytest.param(
        "bwrap", marks=pytest.mark.skipif(bwrap_problem() is not None, reason="no bubblewrap")
    ),
]


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "cache"))
    # this process's memory would answer before the disk is asked
    memo.forget()
    return tmp_path / "cache"


@pytest.mark.parametrize(
    "example",
    [EXAMPLES / "accepted" / "canonical.py", EXAMPLES / "wrong_answer" / "glorot_kernel.py"],
)
def test_stored_reference_results_give_the_same_report(
    fresh_cache: Path, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = GradeOptions(limits={"call_s": 8.0})
    first = grade(example, PROBLEM, options)
    assert first.timing["reference_s"] > 0  # computed, then stored
    assert list((fresh_cache / "reference").iterdir())
    assert list((fresh_cache / "xla").iterdir())  # the reference's worker filled JAX's cache
    memo.forget()
    second = grade(example, PROBLEM, options)
    assert second.timing["reference_s"] == 0  # a fresh process's view: all from the disk
    assert (second.verdict, second.score, second.cases) == (first.verdict, first.score, first.cases)
    assert [d.code for d in second.diagnostics] == [d.code for d in first.diagnostics]


@pytest.mark.parametrize("sandbox", LEVELS)
def test_the_learner_cannot_touch_the_cache(
    fresh_cache: Path, tmp_path: Path, sandbox: str
) -> None:
    grade(EXAMPLES / "accepted" / "canonical.py", PROBLEM, GradeOptions(limits={"call_s": 8.0}))
    folder = cache.cache_dir()
    assert folder is not None
    xla = folder / "xla"
    before = sorted(p.name for p in xla.iterdir())
    learner = tmp_path / "solution.py"
    learner.write_text(
        "import os\n"
        "def nn_vmap_forward(seed, x_batch, features):\n"
        f"    for name in os.listdir({str(xla)!r}):\n"
        f"        open(os.path.join({str(xla)!r}, name), 'wb').write(b'poison')\n"
        f"    open(os.path.join({str(xla)!r}, 'new'), 'wb').write(b'poison')\n"
    )
    report = grade(
        learner, PROBLEM, GradeOptions(shrink=False, sandbox=sandbox, limits={"call_s": 8.0})
    )
    assert report.verdict is Verdict.RUNTIME_ERROR
    assert sorted(p.name for p in xla.iterdir()) == before
    assert not any(p.read_bytes() == b"poison" for p in xla.iterdir())

    reader = tmp_path / "reader.py"
    reader.write_text(
        "import os\n"
        "def nn_vmap_forward(seed, x_batch, features):\n"
        f"    return os.listdir({str(folder / 'reference')!r})\n"
    )
    report = grade(
        reader, PROBLEM, GradeOptions(shrink=False, sandbox=sandbox, limits={"call_s": 8.0})
    )
    assert report.verdict is Verdict.RUNTIME_ERROR
    assert "forbidden_operation" in [d.code for d in report.diagnostics] or sandbox == "bwrap"


def test_a_cache_turned_off_is_not_used(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE_CACHE_DIR", "off")
    report = grade(
        EXAMPLES / "accepted" / "canonical.py", PROBLEM, GradeOptions(limits={"call_s": 8.0})
    )
    assert report.verdict is Verdict.ACCEPTED
    assert report.timing["reference_s"] > 0
    assert not fresh_cache.exists()
