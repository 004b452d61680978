"""The worker's shared MLIR context (``judge.runtime.lowering``): one per thread, the same
programs, the same results."""

from __future__ import annotations

import threading

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax._src.interpreters import mlir

from judge.runtime.lowering import share_ir_contexts
from judge.sandbox.worker import Worker


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """JAX's own ``make_ir_context`` is put back after the test."""
    monkeypatch.setattr(mlir, "make_ir_context", mlir.make_ir_context)
    assert share_ir_contexts()


def _program(batch: int, width: int) -> str:
    def forward(x: jax.Array) -> jax.Array:
        return jnp.tanh(x @ x.T).sum(axis=0) * 2.0

    return jax.jit(forward).lower(jnp.ones((batch, width), jnp.float32)).as_text()


def test_one_context_per_thread_and_idempotent(shared: None) -> None:
    wrapper = mlir.make_ir_context
    assert mlir.make_ir_context() is mlir.make_ir_context()
    assert share_ir_contexts() and mlir.make_ir_context is wrapper  # never wrapped twice
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(mlir.make_ir_context()))
    thread.start()
    thread.join()
    assert other and other[0] is not mlir.make_ir_context()


@settings(max_examples=8, deadline=None)
@given(batch=st.integers(1, 6), width=st.integers(1, 6))
def test_the_same_programs_as_jax_makes_alone(batch: int, width: int) -> None:
    """What the compilation cache's key is made of: the lowered program, text for text."""
    alone = _program(batch, width)
    original = mlir.make_ir_context
    try:
        assert share_ir_contexts()
        assert _program(batch, width) == alone
    finally:
        mlir.make_ir_context = original


def _flax_outputs() -> list[np.ndarray]:
    """The exercise's layer on a few shapes, one repeated, from a cold JAX cache."""
    jax.clear_caches()
    model = nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features=3)
    outputs = []
    for batch, width in [(2, 3), (4, 1), (2, 3), (5, 5)]:
        x = np.arange(batch * width, dtype=np.float32).reshape(batch, width) / 7.0
        params = model.init(jax.random.PRNGKey(batch), x)
        outputs.append(np.asarray(model.apply(params, x)))
    return outputs


def test_flax_gives_the_same_outputs_under_a_shared_context() -> None:
    alone = _flax_outputs()
    original = mlir.make_ir_context
    try:
        assert share_ir_contexts()
        for shared_output, own in zip(_flax_outputs(), alone, strict=True):
            np.testing.assert_array_equal(shared_output, own)
    finally:
        mlir.make_ir_context = original
        jax.clear_caches()


def test_workers_share_it_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUDGE_SHARED_IR_CONTEXT", raising=False)

    def worker() -> Worker:
        return Worker(role="learner", backend="cpu", precision="default", )  # fmt: skip

    assert worker().config["shared_ir_context"] is True
    monkeypatch.setenv("JUDGE_SHARED_IR_CONTEXT", "0")
    assert worker().config["shared_ir_context"] is False
