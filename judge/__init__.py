"""The judge: grades JAX/Flax exercises against a reference on property-based inputs.

Public API::

    from judge import grade, load_problem
    report = grade("my_solution.py")            # problem inferred from the entry point
    print(report.verdict, report.score)

In a Jupyter or Colab notebook, after ``import judge``::

    judge.check("my_problem")                   # grades the cells run so far, shown inline

``check`` is loaded on first use (``judge.notebook``), so ``import judge`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import JudgeError, ProblemError, UsageError
    from .grading import GradeOptions, grade
    from .notebook import check
    from .problem import Problem, load_problem
    from .result import Diagnostic, Report, Verdict

# Every public name, and the module it lives in. They are imported on first use (PEP 562):
# ``import judge`` costs nothing, so the ``judge`` command can start its zygote (which imports
# JAX) before the judge's own imports (grading, numpy, Hypothesis: about 0.4 s) and overlap
# them; and a notebook's ``import judge`` loads no JAX.
_HOMES = {
    "Diagnostic": ".result",
    "GradeOptions": ".grading",
    "JudgeError": ".errors",
    "Problem": ".problem",
    "ProblemError": ".errors",
    "Report": ".result",
    "UsageError": ".errors",
    "Verdict": ".result",
    "check": ".notebook",
    "grade": ".grading",
    "load_problem": ".problem",
}
__all__ = [
    "Diagnostic",
    "GradeOptions",
    "JudgeError",
    "Problem",
    "ProblemError",
    "Report",
    "UsageError",
    "Verdict",
    "check",
    "grade",
    "load_problem",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module when first asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'judge' has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value
