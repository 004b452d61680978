"""The cases a submission is graded on: a seeded plan drawn with Hypothesis, and shrinking.

Speed is decided by shapes: every new input shape costs JAX a trace and a compile (about 0.4 s
on 2 cores) where a repeat costs milliseconds. So the plan draws few distinct shapes (the
problem's boundary shapes first) and many seeds and values for each, and the shrinker tries
smaller shapes sparingly and same-shape simplifications freely.

Hypothesis draws the inputs; the plan is a pure function of the problem and the seed, so every
learner gets the same cases unless ``--seed`` picks another set.
"""

from .case import Case, Value, json_values
from .plan import plan_cases
from .shrink import shrink_candidates
from .strategies import array_strategy, satisfies

__all__ = [
    "Case",
    "Value",
    "array_strategy",
    "json_values",
    "plan_cases",
    "satisfies",
    "shrink_candidates",
]
