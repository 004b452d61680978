"""The judge: grades JAX/Flax exercises against a reference on property-based inputs.

Public API::

    from judge import grade, load_problem
    report = grade("my_solution.py")            # problem inferred from the entry point
    print(report.verdict, report.score)
"""

from .errors import JudgeError, ProblemError, UsageError
from .grading import GradeOptions, grade
from .problem import Problem, load_problem
from .result import Diagnostic, Report, Verdict

__all__ = [
    "Diagnostic",
    "GradeOptions",
    "JudgeError",
    "Problem",
    "ProblemError",
    "Report",
    "UsageError",
    "Verdict",
    "grade",
    "load_problem",
]
