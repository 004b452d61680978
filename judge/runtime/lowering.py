"""One MLIR context per thread for all of a worker's lowerings, instead of one per lowering.

Why: a learner's eager JAX and Flax code compiles each primitive again for each new input
shape (about seven small programs per shape for a Dense layer under ``nn.vmap``). With the
compilation cache warm, each of those costs a lowering to MLIR and a cache read, and a quarter
of the lowering's time is ``make_ir_context``: a new MLIR context with every dialect loaded,
about 3.5 ms, thrown away once the module is serialized. Reusing one context cuts the first call
on each new shape by about a quarter; a grading's calls are mostly such first calls.

It is safe because an MLIR context is meant to hold many modules: everything JAX keeps per
module (symbol table, lowering caches) lives in its ``ModuleContext``, not in the context; the
serialized module, and so the compilation cache key, is the same either way. A thread gets a
context of its own (learner code may lower from several threads). A JAX without this function
is left as it is. Applied by the worker (``main``) after JAX is imported and before any learner
or reference code is loaded, in both workers alike.
"""

from __future__ import annotations

import threading
from typing import Any


def share_ir_contexts() -> bool:
    """Make JAX reuse one MLIR context per thread; whether it could (a JAX that lowers through
    another function keeps its own way)."""
    try:
        from jax._src.interpreters import mlir
    except Exception:
        return False
    make = getattr(mlir, "make_ir_context", None)
    if make is None or getattr(make, "judge_shared", False):
        return make is not None
    local = threading.local()

    def shared_ir_context() -> Any:
        context = getattr(local, "context", None)
        if context is None:
            context = local.context = make()
        return context

    shared_ir_context.judge_shared = True  # type: ignore[attr-defined]
    mlir.make_ir_context = shared_ir_context
    return True
