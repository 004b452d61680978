"""Replies that try to make the judge build or keep too much: the grading ends in bounded time
with a small report, and observations past the grading's budget change no finding.

A learner's worker is the learner's process: these files replace its ``Session.call`` (the
runtime is importable there as ``judge_runtime``) so that every call's reply carries what no
honest worker sends. Before the judge's budgets (``runtime.wire``), a 6.25M-value
``variable_axes`` gave a 76 MB report in 191 s (1.5 GB of judge memory) with findings about a
correct solution's ``nn.vmap``, and a 60 MB string per call took the judge to 1.6 GB.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import pytest

from judge import GradeOptions, Verdict, grade
from judge.grading.evaluate import Evaluator
from judge.observations import Observations
from judge.render import text as text_render

pytestmark = pytest.mark.slow

PROBLEM = "nn_vmap_forward"
ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions" / PROBLEM
CORRECT = (SUBMISSIONS / "accepted" / "canonical.py").read_text()
MAX_REPORT_BYTES = 1_000_000
# Two worker start-ups, the first call, the worker's time to build each forged reply, and a
# fresh worker for the confirmation: far under the 191 s the 6M-value reply took before.
MAX_SECONDS = 60.0

# The forging preamble and the forged run, as the bench grades them (one home for both).
_BENCH = importlib.util.spec_from_file_location(
    "judge_memory", Path(__file__).resolve().parents[2] / "bench" / "judge_memory.py"
)
assert _BENCH is not None and _BENCH.loader is not None
_bench = importlib.util.module_from_spec(_BENCH)
_BENCH.loader.exec_module(_bench)
FORGE, RUN = _bench.FORGE, _bench.RUN
NODES = f"""
_AXES = 0
for _ in range(4):
    _AXES = [_AXES] * 50  # 50**4: 6.25M values
_RUN = {RUN!r}
"""
HOSTILE = {
    "a 6M-value variable_axes": NODES
    + """
def _observations(real):
    return real + [{**_RUN, "arguments": {"variable_axes": _AXES}}]
""",
    "a 60 MB string": """
_TEXT = "x" * (60 << 20)
def _observations(real):
    return real + [{"kind": "output", "via": "apply", "value": {"__ndarray__": {"data": _TEXT}}}]
""",
    "both": NODES
    + """
_TEXT = "x" * (60 << 20)
def _observations(real):
    return real + [{**_RUN, "arguments": {"variable_axes": _AXES, "name": _TEXT}}]
""",
    "nested 900 deep beside 200,000 items": f"""
_DEEP = []
for _ in range(900):
    _DEEP = [_DEEP]
def _observations(real):
    return real + [{{**{RUN!r}, "arguments": {{"variable_axes": _DEEP, "w": [0] * 200_000}}}}]
""",
}
# Observations just under the limit for one reply, on every call: counted, never kept (the
# judge keeps only events of the kinds it reads), so they spend the grading's budget alone.
PADDING = """
def _observations(real):
    return real + [{"kind": "padding", "data": "A" * 56_000}]
"""


def grade_source(tmp_path: Path, source: str) -> tuple[Any, float]:
    path = tmp_path / "solution.py"
    path.write_text(source)
    started = time.monotonic()
    report = grade(path, PROBLEM, GradeOptions())
    return report, time.monotonic() - started


@pytest.fixture
def deaths(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``Evaluator.death`` made of each dead worker: the cause beside the status."""
    found: list[dict[str, Any]] = []
    original = Evaluator.death

    def spy(self: Evaluator, exc: Exception) -> tuple[str, dict[str, Any]]:
        failure, reply = original(self, exc)  # type: ignore[arg-type]
        found.append({"failure": failure, **reply})
        return failure, reply

    monkeypatch.setattr(Evaluator, "death", spy)
    return found


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_reply_over_the_limits_ends_the_grading_with_a_small_report(
    tmp_path: Path, name: str, deaths: list[dict[str, Any]]
) -> None:
    report, elapsed = grade_source(tmp_path, CORRECT + FORGE + HOSTILE[name])
    size = len(json.dumps(report.to_dict(), ensure_ascii=False, allow_nan=False).encode())
    assert elapsed < MAX_SECONDS
    assert size < MAX_REPORT_BYTES
    # The worker broke the protocol on the first call: it is killed there, and that is the
    # failure; nothing the forged record says about nn.vmap is claimed.
    assert report.verdict is Verdict.RUNTIME_ERROR, report.summary
    assert [d.code for d in report.diagnostics] == ["protocol_violation"]
    assert report.failing_case is not None and report.failing_case.index == 0
    assert deaths and all(d["failure"] == "died" for d in deaths)
    assert all("protocol violation" in d["message"] for d in deaths), deaths
    assert any("broke the judge's limits" in d["message"] for d in deaths), deaths
    assert "\x1b" not in text_render.render(report)


def test_the_report_says_the_reply_broke_the_judges_limits(tmp_path: Path) -> None:
    report, _ = grade_source(tmp_path, CORRECT + FORGE + HOSTILE["a 60 MB string"])
    assert "limits" in text_render.render(report)
    assert "protocol_violation" in [d.code for d in report.diagnostics]


def test_observations_past_the_grading_budget_change_no_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong answer that is shrunk and confirmed (about 40 calls), honest and with every
    reply padded to just under its limit: the budget runs out after about 35 of them, and the
    report's verdict, score and findings are the honest file's."""
    records: list[Observations] = []
    original = Observations.add

    def spy(self: Observations, events: Any, case_key: str | None = None) -> None:
        if not any(r is self for r in records):
            records.append(self)
        original(self, events, case_key)

    monkeypatch.setattr(Observations, "add", spy)
    wrong = (SUBMISSIONS / "wrong_answer" / "column_major_flatten.py").read_text()
    honest, _ = grade_source(tmp_path, wrong)
    assert not any(r.exhausted for r in records)
    records.clear()
    padded, elapsed = grade_source(tmp_path, wrong + FORGE + PADDING)
    assert any(r.exhausted for r in records), "the padding never spent the budget"
    assert padded.verdict is honest.verdict is Verdict.WRONG_ANSWER
    assert padded.score == honest.score
    assert [d.code for d in padded.diagnostics] == [d.code for d in honest.diagnostics]
    assert elapsed < MAX_SECONDS
