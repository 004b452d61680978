"""The judge: grades JAX/Flax exercises against a reference on property-based inputs.

Public API::

    from judge import grade, load_problem
    report = grade("my_solution.py")            # problem inferred from the entry point
    print(report.verdict, report.score)

In a Jupyter or Colab notebook, after ``import judge``::

    judge.check("nn_vmap_forward")              # grades the cells run so far, shown inline

``check`` is loaded on first use (``judge.notebook``), so ``import judge`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import JudgeError, ProblemError, UsageError
from .grading import GradeOptions, grade
from .problem import Problem, load_problem
from .result import Diagnostic, Report, Verdict

if TYPE_CHECKING:
    from .notebook import check

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
    """``judge.check``, imported when first asked for: a module attribute hook (PEP 562)."""
    if name == "check":
        from .notebook import check

        return check
    raise AttributeError(f"module 'judge' has no attribute {name!r}")
