"""The cases a submission is graded on: a seeded plan drawn with Hypothesis, and shrinking.

Speed is decided by shapes: every new input shape costs JAX a trace and a compile (about 0.4 s
on 2 cores) where a repeat costs milliseconds. So the plan meets few distinct shapes (the
problem's boundary shapes first, all of them chosen to cover the declared ranges: ``cover``),
many seeds and values for each, and inputs met before again (``repeats``); the shrinker
bisects integer inputs and simplifies values within a fixed number of calls.

Hypothesis draws the inputs; the plan is a pure function of the problem and the seed, so every
learner gets the same cases unless ``--seed`` picks another set.
"""

from .case import Case, Value, json_values
from .plan import plan_cases
from .repeats import extra_shapes, repeated_pairs
from .shrink import MAX_SHRINK_CALLS, ShrinkStopped, Shrunk, shrink, shrink_candidates
from .strategies import array_strategy, satisfies

__all__ = [
    "MAX_SHRINK_CALLS",
    "Case",
    "ShrinkStopped",
    "Shrunk",
    "Value",
    "array_strategy",
    "extra_shapes",
    "json_values",
    "plan_cases",
    "repeated_pairs",
    "satisfies",
    "shrink",
    "shrink_candidates",
]
