"""The mistake corpus checked without the judge: every generated file is really wrong.

Each file is exec'd into a fresh namespace in this process and run, beside the reference, on a
few inputs (several seeds; B > 1 and F > 1; in_dim != B, and B == in_dim, where a wrong in_axes
still fits). A file is wrong when its output differs from the reference's on some input (shape,
dtype, or values beyond the problem's CPU tolerance).

Some mistakes give exactly the reference's outputs, on every input:
    nn_vmap_forward:  no_bias (Dense's bias starts at zero), plain_dense (a Dense shared by the
                      batch is what nn.vmap with shared params computes), and their pair;
    nn_vmap_ensemble: no_bias.
For those, the mistake must show in what ``model.init`` was called on and what it made, checked
per mistake below (``SAME_OUTPUTS``): no_bias has no ``params/bias`` path; plain_dense has the
very same variables as the reference (paths, shapes and values), so what shows it is the module
``init`` was called on: a plain ``nn.Dense``, not the class nn.vmap makes. The test also holds
the list above to the truth: a mistake not listed must change some output, and a file made
only of listed mistakes must change none.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest
from flax import linen as nn

from .mistakes import MISTAKES, PROBLEMS, corpus, source

ROOT = Path(__file__).resolve().parents[2]
RTOL, ATOL = 1.0e-5, 1.0e-6  # the problems' float32 tolerance on CPU

# (seed, batch, in_dim, features)
SHAPES = [(7, 3, 2, 4), (123456, 2, 5, 3), (42, 3, 3, 2), (2147483647, 4, 4, 5)]


def inputs() -> list[tuple[int, np.ndarray, int]]:
    rng = np.random.default_rng(0)
    made = []
    for seed, batch, in_dim, features in SHAPES:
        x = rng.uniform(-4.0, 4.0, size=(batch, in_dim)).round(3).astype(np.float32)
        x[np.abs(x) < 0.25] = 0.5  # as the problems' plans: no value too close to zero
        made.append((seed, x, features))
    return made


INPUTS = inputs()


@dataclass
class Run:
    """One call: its output (or the exception) and what ``Module.init`` was called on."""

    output: Any
    inits: list[tuple[nn.Module, Any]]


def load(text: str, name: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"__name__": "learner"}
    exec(compile(text, f"<{name}>", "exec"), namespace)
    return namespace[name]


def run(function: Callable[..., Any], args: tuple, monkeypatch: pytest.MonkeyPatch) -> Run:
    inits: list[tuple[nn.Module, Any]] = []
    original = nn.Module.init

    def recording_init(self, *a, **k):
        variables = original(self, *a, **k)
        inits.append((self, variables))
        return variables

    with monkeypatch.context() as patch:
        patch.setattr(nn.Module, "init", recording_init)
        output = function(*args)
    return Run(np.asarray(output), inits)


def differs(got: np.ndarray, expected: np.ndarray) -> bool:
    if got.shape != expected.shape or got.dtype != expected.dtype:
        return True
    return not np.allclose(got, expected, rtol=RTOL, atol=ATOL)


def tree(variables: Any) -> dict[str, tuple[tuple[int, ...], np.ndarray]]:
    leaves = jax.tree_util.tree_flatten_with_path(variables)[0]
    return {jax.tree_util.keystr(p): (tuple(v.shape), np.asarray(v)) for p, v in leaves}


# --- mistakes whose outputs are the reference's: what shows them instead -----------------------


def no_bias_shows(got: Run, reference: Run) -> None:
    """The variables' tree lacks params/bias, which the reference's has."""
    (_, variables), (_, expected) = got.inits[-1], reference.inits[-1]
    paths, expected_paths = set(tree(variables)), set(tree(expected))
    assert "['params']['bias']" in expected_paths
    assert "['params']['bias']" not in paths
    assert paths < expected_paths


def plain_dense_shows(got: Run, reference: Run) -> None:
    """Same variables as the reference (paths, shapes, values); init ran on a plain nn.Dense."""
    (model, variables), (expected_model, expected) = got.inits[-1], reference.inits[-1]
    mine, theirs = tree(variables), tree(expected)
    # Invisible in the variables: every path the reference has that this file has too (no_bias
    # may take the bias away) holds the same shape and the same numbers.
    for path, (shape, values) in mine.items():
        assert theirs[path][0] == shape, path
        np.testing.assert_allclose(values, theirs[path][1], rtol=RTOL, atol=ATOL)
    assert type(expected_model).__name__ == "VmapDense"  # what nn.vmap(nn.Dense) makes
    assert type(model) is nn.Dense


SAME_OUTPUTS: dict[str, dict[str, Callable[[Run, Run], None]]] = {
    "nn_vmap_forward": {"no_bias": no_bias_shows, "plain_dense": plain_dense_shows},
    "nn_vmap_ensemble": {"no_bias": no_bias_shows},
}

_references: dict[str, list[Run]] = {}


def reference_runs(problem: str, monkeypatch: pytest.MonkeyPatch) -> list[Run]:
    if problem not in _references:
        path = ROOT / "reference" / f"{problem}.py"
        spec = importlib.util.spec_from_file_location(f"reference_{problem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        function = getattr(module, problem)
        _references[problem] = [run(function, args, monkeypatch) for args in INPUTS]
    return _references[problem]


CASES = [(problem, names, text) for problem in PROBLEMS for names, text in corpus(problem)]


def test_the_corpus_is_what_the_brief_asks() -> None:
    forward = {m.name for m in MISTAKES["nn_vmap_forward"]}
    ensemble = {m.name for m in MISTAKES["nn_vmap_ensemble"]}
    assert len(forward) == 10 and len(ensemble) == 7
    for problem in PROBLEMS:
        entries = corpus(problem)
        names = [n for n, _ in entries]
        assert len(set(names)) == len(names)
        singles = [n for n in names if len(n) == 1]
        assert len(singles) == len(MISTAKES[problem])
        slot = {m.name: m.slot for m in MISTAKES[problem]}
        pairs = [n for n in names if len(n) == 2]
        assert all(slot[a] != slot[b] for a, b in pairs)
        n = len(singles)
        same_slot = sum(
            1
            for i in range(n)
            for j in range(i + 1, n)
            if slot[singles[i][0]] == slot[singles[j][0]]
        )
        assert len(pairs) == n * (n - 1) // 2 - same_slot


@pytest.mark.parametrize("problem", PROBLEMS)
def test_the_template_without_mistakes_is_the_reference(
    problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = load(source(problem), problem)
    for args, expected in zip(INPUTS, reference_runs(problem, monkeypatch), strict=True):
        got = run(function, args, monkeypatch)
        assert not differs(got.output, expected.output), args[1].shape
        assert got.output.dtype == expected.output.dtype
        # nn.vmap makes a new class at each call: the same name, not the same class
        assert type(got.inits[-1][0]).__name__ == type(expected.inits[-1][0]).__name__


@pytest.mark.parametrize(
    ("problem", "names", "text"),
    CASES,
    ids=[f"{p}/{'+'.join(n)}" for p, n, _ in CASES],
)
def test_each_file_is_really_wrong(
    problem: str, names: tuple[str, ...], text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = load(text, problem)
    references = reference_runs(problem, monkeypatch)
    runs = [run(function, args, monkeypatch) for args in INPUTS]
    changed = [
        differs(got.output, expected.output) for got, expected in zip(runs, references, strict=True)
    ]
    same_outputs = SAME_OUTPUTS[problem]
    if all(name in same_outputs for name in names):
        assert not any(changed), f"{names} changes an output: list it no more in SAME_OUTPUTS"
        for got, expected in zip(runs, references, strict=True):
            for name in names:
                same_outputs[name](got, expected)
    else:
        assert any(changed), f"{names}: every output is the reference's"
