"""Backend names, platforms, plugins and device assignment: what CPU machines can check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge import backends
from judge.errors import BackendUnavailable
from judge.sandbox import worker_environment


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch):
    """Pretend these distributions are installed."""

    def install(*names: str) -> None:
        monkeypatch.setattr(
            backends, "_installed", lambda found: next((n for n in found if n in names), None)
        )

    return install


def test_gpu_means_the_gpu_platform_installed(plugins) -> None:
    plugins("jax-cuda12-plugin")
    assert backends.platform_for("gpu") == "cuda"
    plugins("jax-rocm60-plugin")
    assert backends.platform_for("gpu") == "rocm"
    plugins()
    assert backends.platform_for("gpu") == "cuda"  # the error then names the common one
    assert backends.platform_for("cpu") == "cpu"


def test_a_missing_plugin_is_a_usage_error_naming_the_install(plugins) -> None:
    plugins()
    with pytest.raises(BackendUnavailable, match=r'pip install "jax\[cuda12\]"'):
        backends.check("gpu")
    with pytest.raises(BackendUnavailable, match=r"jax\[tpu\]"):
        backends.check("tpu")
    backends.check("cpu")  # never needs a plugin
    plugins("jax-cuda12-plugin")
    backends.check("gpu")


def test_jax_platforms_never_says_gpu(plugins) -> None:
    """JAX expands ``gpu`` to every GPU platform and then requires each: never pass it."""
    plugins("jax-cuda12-plugin")
    env = worker_environment("gpu", "/tmp/x", device="1", workers_per_device=4)
    assert env["JAX_PLATFORMS"] == "cuda"
    assert env["CUDA_VISIBLE_DEVICES"] == "1"
    assert float(env["XLA_PYTHON_CLIENT_MEM_FRACTION"]) == pytest.approx(0.9 / 4, abs=1e-3)
    cpu = worker_environment("cpu", "/tmp/x")
    assert cpu["JAX_PLATFORMS"] == "cpu" and "XLA_PYTHON_CLIENT_MEM_FRACTION" not in cpu


def test_visible_devices_come_from_the_platforms_variable(plugins) -> None:
    plugins("jax-cuda12-plugin")
    assert backends.visible_devices("gpu", {"CUDA_VISIBLE_DEVICES": "2, 5,7"}) == ["2", "5", "7"]
    assert backends.visible_devices("gpu", {}) == []
    assert backends.visible_devices("cpu", {"CUDA_VISIBLE_DEVICES": "0"}) == []


@given(
    devices=st.lists(st.text("0123456789", min_size=1, max_size=2), min_size=1, max_size=8),
    jobs=st.integers(1, 64),
)
def test_round_robin_spreads_evenly(devices: list[str], jobs: int) -> None:
    assigned = [backends.assign(devices, k) for k in range(jobs)]
    counts = [assigned.count(d) for d in dict.fromkeys(devices)]
    slots = [sum(1 for k in range(jobs) if k % len(devices) == i) for i in range(len(devices))]
    assert sorted(counts) == sorted(_merge_duplicates(devices, slots))
    assert max(slots) - min(slots) <= 1
    assert backends.assign([], 3) is None


def _merge_duplicates(devices: list[str], slots: list[int]) -> list[int]:
    merged: dict[str, int] = {}
    for device, count in zip(devices, slots, strict=True):
        merged[device] = merged.get(device, 0) + count
    return list(merged.values())


@pytest.mark.parametrize("backend", ["gpu", "cuda", "rocm"])
def test_every_gpu_platform_takes_the_problems_gpu_tolerance(backend: str) -> None:
    from judge.problem import load_problem

    problem = load_problem("nn_vmap_forward")
    assert problem.tolerance_for("float32", backend) == problem.tolerance_for("float32", "gpu")
    assert problem.tolerance_for("float32", "gpu") is not None
