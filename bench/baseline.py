"""The naive judge the benchmark compares against: what an instructor writes by hand.

One process grades one file: it imports the learner's module and the reference with importlib,
then lets Hypothesis draw 50 inputs (derandomized, so every run draws the same ones), recomputes
the reference on each, and compares with numpy. Hypothesis shrinks a failure as usual. Nothing is
cached (no example database, no JAX compilation cache) and nothing is isolated: the learner's
code runs in this process. It sees outputs only, so it accepts a wrong structure that computes
the right numbers; that difference is a finding of the benchmark, not a bug here.

Usage: ``python bench/baseline.py SUBMISSION.py``; prints one JSON line, exits 0 if accepted.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "nn_vmap_forward.py"


def load(path: Path, name: str) -> Callable[..., Any]:
    """Import a file as a module and return its ``nn_vmap_forward``."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.nn_vmap_forward


@st.composite
def inputs(draw: st.DrawFn) -> tuple[int, np.ndarray, int]:
    """seed, x_batch of shape (batch, in_dim) in [-4, 4], features: the problem's inputs."""
    seed = draw(st.integers(0, 2**31 - 1))
    batch, in_dim, features = (draw(st.integers(1, 8)) for _ in range(3))
    elements = st.floats(-4, 4, width=32, allow_nan=False, allow_infinity=False)
    x_batch = draw(hnp.arrays(np.float32, (batch, in_dim), elements=elements))
    return seed, x_batch, features


def grade(path: Path) -> dict[str, Any]:
    """Grade one file; the learner's failures become verdicts, never this script's crash."""
    try:
        reference = load(REFERENCE, "reference_solution")
        learner = load(path, "learner_solution")
    except Exception as exc:
        return {"verdict": "error", "stage": "load", "error": f"{type(exc).__name__}: {exc}"}
    examples = 0

    @settings(max_examples=50, derandomize=True, deadline=None, database=None)
    @given(inputs())
    def matches_reference(case: tuple[int, np.ndarray, int]) -> None:
        nonlocal examples
        examples += 1
        got = np.asarray(learner(*case))  # first: a learner that raises costs no reference call
        expected = np.asarray(reference(*case))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    try:
        matches_reference()
    except AssertionError as exc:
        notes = getattr(exc, "__notes__", [])  # Hypothesis's falsifying example comes first
        return {"verdict": "wrong_answer", "examples": examples, "falsifying": notes[:1]}
    except Exception as exc:
        return {"verdict": "error", "stage": "call", "error": f"{type(exc).__name__}: {exc}"}
    return {"verdict": "accepted", "examples": examples}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python bench/baseline.py SUBMISSION.py", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = {"submission": argv[0], **grade(Path(argv[0]))}
    result["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result))
    return 0 if result["verdict"] == "accepted" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
