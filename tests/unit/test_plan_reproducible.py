"""The case plan depends on the problem and the seed alone, not on what else is loaded.

Hypothesis mixes numeric literals from local modules loaded in the process into its draws; the
judge turns that off while planning. Each plan here is computed in a fresh process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PLAN = """
import hashlib, sys
sys.path.insert(0, {extra!r})
{preamble}
from judge.cases import plan_cases
from judge.problem import load_problem
problem = load_problem("nn_vmap_forward", __import__("pathlib").Path({problems!r}))
print(hashlib.sha256("".join(c.key for c in plan_cases(problem, {seed})).encode()).hexdigest())
"""


def plan_hash(tmp_path: Path, preamble: str = "", seed: int = 0) -> str:
    code = PLAN.format(
        extra=str(tmp_path), preamble=preamble, problems=str(ROOT / "problems"), seed=seed
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_local_module_full_of_numbers_changes_nothing(tmp_path: Path) -> None:
    numbers = ", ".join(f"{k}.{k}25" for k in range(1, 40))
    (tmp_path / "my_constants.py").write_text(
        f"FLOATS = [{numbers}, -3.5, 0.125, 2147483646, 7, 1.75]\n"
    )
    plain = plan_hash(tmp_path)
    with_constants = plan_hash(tmp_path, "import my_constants")
    assert plain == with_constants
    assert plan_hash(tmp_path, seed=1) != plain  # the seed still matters
    assert not (tmp_path / ".hypothesis").exists(), "planning wrote into the working directory"
