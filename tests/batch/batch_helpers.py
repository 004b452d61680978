"""Shared pieces of the batch tests: a class on disk, and a stand-in for grade().

The stand-in reads the verdict a test wrote into each file (``# verdict: wrong_answer score:
0.5``), so the run loop, resume, shards and merge are tested in milliseconds; the tests marked
slow grade real files in JAX workers.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from judge.problem import Problem
from judge.result import Diagnostic, Report, Severity, Verdict

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS = ROOT / "problems"
EXAMPLES = ROOT / "submissions" / "nn_vmap_forward"


def fake_source(verdict: str = "accepted", score: float = 1.0, extra: str = "") -> str:
    """A file that defines the entry point and tells the stand-in grade() its verdict."""
    return (
        "def nn_vmap_forward(seed, x_batch, features):\n"
        "    return x_batch\n"
        f"# verdict: {verdict} score: {score}\n{extra}"
    )


class FakeGrade:
    """Stands in for ``judge.grade.grade``: records each call, thread-safely.

    ``hook(name)`` runs inside each call (to stop the batch, raise, or wait).
    """

    def __init__(self, hook: Callable[[str], None] | None = None) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.hook = hook

    def __call__(
        self, path: Path, problem: Problem, options: object, problems_dir: Path | None = None
    ) -> Report:
        with self.lock:
            self.calls.append(Path(path).name)
        if self.hook is not None:
            self.hook(Path(path).name)
        text = Path(path).read_text()
        if "# crash" in text:
            raise RuntimeError("the stand-in grade() broke")
        found = re.search(r"# verdict: (\w+) score: ([\d.]+)", text)
        verdict, score = (found.group(1), float(found.group(2))) if found else ("accepted", 1.0)
        diagnostics = (
            []
            if verdict == "accepted"
            else [Diagnostic("values_mismatch", Severity.ERROR, "values differ", "look")]
        )
        return Report(
            problem=problem.name,
            submission=str(path),
            verdict=Verdict(verdict),
            score=score,
            summary=f"{verdict}: stand-in",
            diagnostics=diagnostics,
            # "# unwritable": a report no JSON line can hold (a timing the judge summed to inf)
            timing={"total_s": float("inf") if "# unwritable" in text else 0.01},
        )


def write_class(folder: Path, students: dict[str, str]) -> Path:
    """A folder of files: ``{"alice.py": source, ...}``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in students.items():
        (folder / name).write_text(source)
    return folder
