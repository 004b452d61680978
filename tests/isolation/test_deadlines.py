"""No learner can stall the judge: every wait has a deadline, checked from outside.

- A learner that shrinks its request pipe to one page, writes the replies to requests not yet
  sent, and stops reading would block the judge in ``os.write`` forever: writes to a worker are
  non-blocking and end with the call's limit (``capture.write_within``).
- A learner whose every worker after the first sleeps at import (confirmations start fresh
  workers) would have each of them waited for in turn: every wait on a learner's worker ends
  with the grading (``Worker.deadline``), so the grading takes its submission limit, give or
  take a few seconds.
- A batch with such a file in it ends, its other students graded.
"""

from __future__ import annotations

import csv
import textwrap
import time
from pathlib import Path

import pytest

from judge import GradeOptions, Verdict, grade
from judge.cli import main
from judge.sandbox import bwrap_problem, landlock_problem

pytestmark = pytest.mark.slow

PROBLEM = "nn_vmap_forward"
SLACK_S = 15.0  # starting and ending workers, writing the report, a loaded machine
LEVELS = [
    "none",
    pytest.param("landlock", marks=pytest.mark.skipif(landlock_problem() is not None,
                                                      reason=str(landlock_problem()))),
    pytest.param("bwrap", marks=pytest.mark.skipif(bwrap_problem() is not None,
                                                   reason=str(bwrap_problem()))),
]  # fmt: skip

# At import: a one-page request pipe, a reply written ahead for every request to come, then
# no more reading (the import never ends: the worker's loop never reads again).
STALLS_THE_PIPE = """
import fcntl, json, os, struct, sys, time
import jax
import flax.linen as nn

_requests, _replies = int(sys.argv[1]), int(sys.argv[2])
fcntl.fcntl(_requests, 1031, 4096)  # F_SETPIPE_SZ
for _id in range(1, 3000):
    _body = json.dumps({"ok": True, "kind": "other", "type": "x", "repr": "x",
                        "id": _id}).encode()
    os.write(_replies, struct.pack(">I", len(_body)) + _body)
time.sleep(10_000)


def nn_vmap_forward(seed, x_batch, features):
    return x_batch
"""

CORRECT = """
import jax
import flax.linen as nn


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None},
                    split_rngs={"params": False})(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
"""


def _sleeps_after_the_first(after: float) -> str:
    """Wrong on every case (so its failure is confirmed in fresh workers); every worker that
    imports it later than ``after`` (a wall-clock time: the first one imports it sooner, the
    confirming ones later) sleeps for longer than the whole grading may take."""
    return textwrap.dedent(f"""
        import time
        import jax.numpy as jnp
        if time.time() > {after!r}:
            time.sleep(600)


        def nn_vmap_forward(seed, x_batch, features):
            time.sleep(0.5)  # the plan's cases take longer than the first import
            return jnp.zeros(x_batch.shape[0] * features) + 1.0
    """)


@pytest.mark.parametrize("sandbox", LEVELS)
def test_a_learner_that_stops_reading_cannot_stall_the_judge(tmp_path: Path, sandbox: str) -> None:
    path = tmp_path / "stalls.py"
    path.write_text(STALLS_THE_PIPE)
    options = GradeOptions(
        shrink=False, sandbox=sandbox, limits={"call_s": 4.0, "submission_s": 40.0}
    )
    started = time.monotonic()
    report = grade(path, PROBLEM, options)
    took = time.monotonic() - started
    assert report.verdict is not Verdict.ACCEPTED
    assert took < options.limits["submission_s"] + SLACK_S, took


@pytest.mark.parametrize("sandbox", LEVELS)
def test_every_worker_of_a_grading_ends_with_its_limit(tmp_path: Path, sandbox: str) -> None:
    """The first worker loads the file and fails every case; each fresh worker that would
    confirm the failure sleeps at import. The grading still ends at its own limit."""
    path = tmp_path / "sleepy.py"
    path.write_text(_sleeps_after_the_first(time.time() + 8.0))
    options = GradeOptions(
        shrink=False, sandbox=sandbox, limits={"call_s": 8.0, "submission_s": 30.0}
    )
    started = time.monotonic()
    report = grade(path, PROBLEM, options)
    took = time.monotonic() - started
    assert report.cases["run"] > 0  # the first worker loaded the file
    assert report.verdict is not Verdict.ACCEPTED
    assert took < options.limits["submission_s"] + SLACK_S, took


def test_a_batch_with_a_stalling_file_ends(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    (folder / "mallory.py").write_text(STALLS_THE_PIPE)
    out = tmp_path / "out"
    started = time.monotonic()
    code = main(["batch", str(folder), "--problem", PROBLEM, "--out", str(out),
                 "--time-per-call", "4", "--jobs", "2"])  # fmt: skip
    took = time.monotonic() - started
    assert code in (0, 1), code
    assert took < 120.0 + SLACK_S, took
    with (out / "gradebook.csv").open(newline="") as f:
        verdicts = {row["student"]: row["verdict"] for row in csv.DictReader(f)}
    assert verdicts == {"alice": "accepted", "mallory": verdicts["mallory"]}, verdicts
    assert verdicts["mallory"] != "accepted"
