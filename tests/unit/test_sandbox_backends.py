"""A confining sandbox refuses a GPU backend with the reason measured on a GPU machine, instead
of failing later as "backend not available"; the CPU, and --sandbox none, are unaffected."""

from __future__ import annotations

import os

import pytest

from judge.errors import SandboxUnavailable
from judge.sandbox import REGISTRY, landlock_problem, resolve_sandbox

needs_landlock = pytest.mark.skipif(
    landlock_problem() is not None, reason=f"no Landlock here: {landlock_problem()}"
)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_cpu_is_never_refused_for_its_backend(name: str) -> None:
    assert REGISTRY[name]().backend_problem("cpu") is None


@needs_landlock
@pytest.mark.parametrize("backend", ["gpu", "cuda", "rocm"])
def test_landlock_names_what_cuda_needs_and_the_way_out(backend: str) -> None:
    with pytest.raises(SandboxUnavailable) as raised:
        resolve_sandbox("landlock", backend)
    message = str(raised.value)
    assert message.startswith("--sandbox landlock: the landlock sandbox cannot start CUDA")
    assert "ptxas" in message and "--sandbox none" in message
    assert "\n" not in message, "one line"


@needs_landlock
def test_auto_on_a_gpu_lists_every_kernel_sandbox_and_never_falls_back_to_none() -> None:
    with pytest.raises(SandboxUnavailable) as raised:
        resolve_sandbox("auto", "gpu")
    assert "landlock: the landlock sandbox cannot start CUDA" in str(raised.value)
    assert resolve_sandbox("auto", "cpu").name in ("bwrap", "landlock")


def test_none_and_tpu_are_not_refused() -> None:
    assert resolve_sandbox("none", "gpu").name == "none"
    assert REGISTRY["landlock"]().backend_problem("tpu") is None  # never tried: not refused


def test_a_pipe_is_waited_on_whatever_its_number() -> None:
    """``select`` refuses descriptors from 1024 on; a judge with many files open (a long batch,
    a notebook kernel) must still wait on its workers' pipes."""
    import resource

    from judge.sandbox.capture import readable

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    high = 1500
    if soft <= high:
        if hard != resource.RLIM_INFINITY and hard <= high:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} leaves no descriptor 1500")
        resource.setrlimit(resource.RLIMIT_NOFILE, (high + 1, hard))
    read_end, write_end = os.pipe()
    try:
        os.dup2(read_end, high)
        assert not readable(high, 0.05)
        os.write(write_end, b"x")
        assert readable(high, 1.0)
        os.close(write_end)
        write_end = -1
        assert os.read(high, 1) == b"x" and readable(high, 0.05)  # end of file is readable
    finally:
        for fd in (read_end, write_end, high):
            if fd >= 0:
                os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
