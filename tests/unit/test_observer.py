"""What the worker records about how code uses Flax, run in this process with real JAX: every
way of creating variables is seen, and params made inside the submission's own jax.vmap carry
the batch axis they end up with. Also how a call's arguments and random generators are set."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest

from judge.runtime.wire import encode_array

pytestmark = pytest.mark.slow  # imports JAX and Flax: a few seconds

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


@pytest.fixture(scope="module")
def observer() -> Iterator[object]:
    import flax.linen as nn

    from judge.runtime.observer import Observer

    saved = (nn.Module.init, nn.Module.init_with_output, nn.Module.apply, jax.vmap)
    found = Observer()
    found.install()
    found.filename = __file__  # calls from this file count as the submission's own
    yield found
    nn.Module.init, nn.Module.init_with_output, nn.Module.apply, jax.vmap = saved


def created(observer) -> list[tuple[str, dict[str, list[int]]]]:
    """(via, {path: shape}) of each recorded creation of variables, emptying the record."""
    return [
        (e["via"], {v["path"]: v["shape"] for v in e["variables"]})
        for e in observer.take()
        if e["kind"] == "init"
    ]


SHARED = {"params/bias": [4], "params/kernel": [2, 4]}


def vmapped_dense():
    import flax.linen as nn

    return nn.vmap(
        nn.Dense,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False},
    )(features=4)


def test_every_way_of_creating_variables_is_seen(observer) -> None:
    layer, x, key = vmapped_dense(), jnp.ones((3, 2)), jax.random.PRNGKey(0)
    observer.take()
    layer.init(key, x)
    assert created(observer) == [("init", SHARED)], "recorded once, by the outermost call"
    layer.init_with_output(key, x)
    assert created(observer) == [("init_with_output", SHARED)]
    layer.lazy_init(key, x)
    assert created(observer) == [("init", SHARED)]
    _out, variables = layer.apply({}, x, rngs={"params": key}, mutable=["params"])
    assert created(observer) == [("apply", SHARED)]
    layer.apply(variables, x)
    layer.apply(variables, x, mutable=["intermediates"])  # creates no collection it lacked
    assert created(observer) == []
    jax.jit(layer.init)(key, x)
    assert created(observer) == [("init", SHARED)]


def test_params_made_inside_jax_vmap_have_their_batch_axis(observer) -> None:
    import flax.linen as nn

    dense, x = nn.Dense(4), jnp.ones((3, 2))
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    observer.take()
    made = jax.vmap(lambda k, xi: dense.init(k, xi))(keys, x)
    batched = {"params/bias": [3, 4], "params/kernel": [3, 2, 4]}
    assert created(observer) == [("init", batched)]
    assert {"params/" + k: list(v.shape) for k, v in made["params"].items()} == batched
    jax.jit(jax.vmap(lambda k, xi: dense.init(k, xi)))(keys, x)
    assert created(observer) == [("init", batched)]
    jax.vmap(lambda k, xi: dense.init(k, xi), out_axes=1)(keys, x)
    assert created(observer) == [("init", {"params/bias": [4, 3], "params/kernel": [2, 3, 4]})]
    jax.vmap(jax.vmap(lambda k, xi: dense.init(k, xi)))(jnp.stack([keys] * 2), jnp.stack([x] * 2))
    (event,) = [e for e in observer.take() if e["kind"] == "init"]
    nested = {"params/bias": [2, 3, 4], "params/kernel": [2, 3, 2, 4]}
    assert {v["path"]: v["shape"] for v in event["variables"]} == nested
    # One example's values (or a bias broadcast later) are not the result's: none recorded.
    assert all("value" not in v for v in event["variables"])


def test_a_call_gets_the_kind_the_plan_chose() -> None:
    from judge.runtime.session import _argument

    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    plain = _argument(dict(encode_array(array)))
    assert type(plain) is np.ndarray and plain.tobytes() == array.tobytes()
    as_jax = _argument({**encode_array(array), "kind": "jax"})
    assert isinstance(as_jax, jax.Array) and np.array_equal(np.asarray(as_jax), array)
    assert _argument(7) == 7


def test_each_call_starts_with_the_global_generators_seeded() -> None:
    from judge.runtime.session import _generators_used, _seed_generators

    seeded = _seed_generators()
    first = (random.random(), float(np.random.rand()))
    assert _generators_used(seeded)
    seeded = _seed_generators()
    assert (random.random(), float(np.random.rand())) == first, "the same draws every call"
    seeded = _seed_generators()
    assert not _generators_used(seeded)
    np.random.seed(1)
    assert _generators_used(seeded), "reseeding to another state counts as use"


def _record(observer, make) -> object:
    """What a graded call of ``make()`` records, cleaned as the judge keeps it."""
    from judge.observations import Observations

    module_class = make()
    seen = Observations()
    seen.add(observer.take())  # the building call, as at import
    x = jnp.ones((3, 2))
    model = module_class(features=4)
    variables = model.init(jax.random.PRNGKey(0), x)
    model.apply(variables, x)
    seen.add(observer.take(), "case")
    return seen


def test_spellings_flax_reads_alike_are_recorded_alike(observer) -> None:
    """Real Flax runs: ``in_axes=-2``, ``{True: None}`` and a subclass of the built class mean
    what the reference's spelling means; the run names its building call's target."""
    import flax.linen as nn

    from judge.problem import RubricItem
    from judge.structure import check_transform

    item = RubricItem("v", "v", "transform", 1.0, True, "flax.linen.vmap",
                      ("variable_axes", "split_rngs", "in_axes", "out_axes"))  # fmt: skip
    reference = _record(observer, lambda: type(vmapped_dense()))

    def spelled_otherwise():
        built = nn.vmap(nn.Dense, in_axes=-2, out_axes=-2, variable_axes={True: None},
                        split_rngs={True: False})  # fmt: skip
        return type("Mine", (built,), {})

    learner = _record(observer, spelled_otherwise)
    (run,) = [r for r in learner.runs("flax.linen.vmap") if r["during"] == "apply"]
    assert run["target"] == {"__class__": "flax.linen.linear.Dense"}
    assert run["ranks"] == {"in": [[2]], "out": [2]}
    assert check_transform(item, learner, reference) == []

    def ensemble():
        return nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={True: 0},
                       split_rngs={True: True})  # fmt: skip

    found = check_transform(item, _record(observer, ensemble), reference)
    assert [d.code for d in found] == ["ensemble_params", "split_rngs"]
