"""The default path of a fresh machine, forced here: bubblewrap is not installed there, so
``--sandbox auto`` must take Landlock, with the zygote, for one file and for a batch.

Where bubblewrap is installed (a developer's machine, some CI hosts) every other test that
leaves ``--sandbox`` at its default takes the bwrap path; these run the judge's own command with
a PATH that holds only the virtual environment's scripts, so ``bwrap`` is not found, exactly as
on a machine without it. Nothing in the judge is patched.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from judge.sandbox import landlock_problem

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(landlock_problem() is not None, reason=f"no Landlock: {landlock_problem()}"),
]
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions" / "nn_vmap_forward"
FILES = {
    "accepted/canonical.py": ("accepted", []),
    "wrong_answer/column_major_flatten.py": ("wrong_answer", "wrong_flatten_order"),
    "runtime_error/raises.py": ("runtime_error", None),
}


def _judge(*args: str, zygote: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m judge ARGS`` where ``bwrap`` cannot be found on PATH."""
    bin_dir = os.path.dirname(sys.executable)
    if shutil.which("bwrap", path=bin_dir) is not None:
        pytest.skip("bwrap lies beside this Python: it cannot be left out of PATH")
    env = {**os.environ, "PATH": bin_dir, "JUDGE_ZYGOTE": "1" if zygote else "0"}
    return subprocess.run(
        [sys.executable, "-m", "judge", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _report(path: Path, zygote: bool = True) -> dict:
    done = _judge("grade", str(path), "--format", "json", zygote=zygote)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("example", sorted(FILES))
def test_auto_takes_landlock_and_grades_as_expected(example: str) -> None:
    verdict, code = FILES[example]
    report = _report(EXAMPLES / example)
    assert report["environment"]["sandbox"] == "landlock"
    assert report["environment"]["sandbox_enforced"]["fs"] == "allowlist"
    assert report["verdict"] == verdict
    codes = [d["code"] for d in report["diagnostics"]]
    if code == []:
        assert report["score"] == 1.0
    elif code is not None:
        assert code in codes


def test_the_zygote_changes_nothing_on_that_path() -> None:
    """The same report, field for field but the timings, forked and fresh."""
    forked = _report(EXAMPLES / "wrong_answer" / "column_major_flatten.py")
    fresh = _report(EXAMPLES / "wrong_answer" / "column_major_flatten.py", zygote=False)
    for report in (forked, fresh):
        report.pop("timing")
    assert forked == fresh


def test_a_batch_takes_landlock_too(tmp_path: Path) -> None:
    source = tmp_path / "class"
    source.mkdir()
    for example in FILES:
        shutil.copy(EXAMPLES / example, source / f"{example.split('/')[0]}.py")
    out = tmp_path / "out"
    done = _judge("batch", str(source), "--problem", "nn_vmap_forward", "--out", str(out))
    assert done.returncode in (0, 1), done.stderr[-2000:]
    rows = list(csv.DictReader((out / "gradebook.csv").read_text().splitlines()))
    assert {r["student"]: r["verdict"] for r in rows} == {
        example.split("/")[0]: verdict for example, (verdict, _) in FILES.items()
    }
    reports = [json.loads(line) for line in (out / "reports.jsonl").read_text().splitlines()]
    assert {r["environment"]["sandbox"] for r in reports} == {"landlock"}
