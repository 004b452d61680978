"""How loaded code uses Flax and JAX, recorded for diagnostics only; never changes results.

Adding a structural pitfall that needs a new fact starts here (what to record) and ends in
``judge/structure.py`` (how to compare it with the reference's record).
"""

from __future__ import annotations

import functools
import inspect
import reprlib
import sys
from typing import Any

import numpy as np

from .wire import encode_array

_short_repr = reprlib.Repr()
_short_repr.maxstring = 120
_short_repr.maxother = 120
_short_repr.maxlist = 8


def safe_repr(value: Any) -> str:
    """A short repr that survives a learner's ``__repr__`` raising anything."""
    try:
        return _short_repr.repr(value)
    except BaseException:
        return f"<{type(value).__name__} object>"


def type_name(value: Any) -> str:
    """``jax.Array``, ``list``, ``numpy.ndarray``: the type as a learner would write it."""
    kind = type(value)
    module = kind.__module__ or ""
    if module.startswith(("jax", "jaxlib")) and hasattr(value, "addressable_shards"):
        return "jax.Array"
    return kind.__name__ if module == "builtins" else f"{module}.{kind.__qualname__}"


# Flax's lifted transforms whose arguments are recorded: they decide how variables are shared.
LIFTED_TRANSFORMS = ("vmap", "scan", "jit", "remat", "map_variables")
MAX_OBSERVED_VALUES = 4096
MAX_EVENTS_PER_MESSAGE = 200


def _jsonable(value: Any, depth: int = 0) -> Any:
    """An argument as plain JSON: mappings, sequences and scalars kept, classes by name."""
    if depth > 6:
        return safe_repr(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        module = getattr(value, "__module__", "") or ""
        return {"__class__": f"{module}.{value.__qualname__}".lstrip(".")}
    if hasattr(value, "items"):
        try:
            return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
        except Exception:
            return safe_repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, depth + 1) for v in value]
    return safe_repr(value)


class Observer:
    """Records the arguments of every call to a Flax lifted transform (``nn.vmap`` and
    friends), whatever the import style, since the module attributes are wrapped before any
    submission is imported; the variables every outermost way of creating them returns
    (``Module.init``, ``init_with_output``, ``lazy_init``, which calls ``init``, and ``apply``
    with ``mutable`` when it creates a collection): paths, shapes (inside the submission's own
    ``jax.vmap``, with the batch axes the result will have), dtypes, and values when concrete
    (under ``jax.jit`` they are tracers); and calls of ``jax.vmap`` made from the submission's
    own file (Flax calls it internally too). A way not listed is simply not seen: the checks
    treat that as unknown.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.filename = ""
        self._in_init = False
        self._in_apply = 0  # depth of Module.apply calls running (not creating variables)
        self._apply_seen = False
        self._vmap_axes: list[tuple[int | None, Any]] = []  # (size, out_axes), outermost first

    def take(self) -> list[dict[str, Any]]:
        events, self.events = self.events, []
        return events

    def record(self, event: dict[str, Any]) -> None:
        if len(self.events) < MAX_EVENTS_PER_MESSAGE:
            self.events.append(event)

    def install(self) -> None:
        """Wrap Flax's lifted transforms, ``Module.init`` and ``jax.vmap``."""
        import flax.linen as nn
        from flax.linen import transforms

        for name in LIFTED_TRANSFORMS:
            original = getattr(transforms, name, None)
            if original is None:
                continue
            lifted = self._wrap_lifted(name, original)
            setattr(transforms, name, lifted)
            if getattr(nn, name, None) is original:
                setattr(nn, name, lifted)
        self._wrap_core_lifts()
        module = nn.Module
        module.init = self._wrap_init(module.init, "init")  # type: ignore[method-assign]
        module.init_with_output = self._wrap_init(  # type: ignore[method-assign]
            module.init_with_output, "init_with_output"
        )
        module.apply = self._wrap_apply(module.apply)  # type: ignore[method-assign]
        self._wrap_jax_vmap()

    def _wrap_lifted(self, name: str, original: Any) -> Any:
        try:
            signature: inspect.Signature | None = inspect.signature(original)
        except (TypeError, ValueError):
            signature = None

        def lifted(*args: Any, **kwargs: Any) -> Any:
            try:
                if signature is not None:
                    bound = signature.bind(*args, **kwargs)
                    bound.apply_defaults()
                    arguments = dict(bound.arguments)
                else:
                    arguments = {"args": list(args), **kwargs}
                self.record(
                    {
                        "kind": "lifted",
                        "api": f"flax.linen.{name}",
                        "arguments": _jsonable(arguments),
                    }
                )
            except Exception:
                pass  # arguments Flax itself will reject: let Flax say so
            return original(*args, **kwargs)

        return functools.update_wrapper(lifted, original)

    def _wrap_core_lifts(self) -> None:
        """Flax's core transforms (``flax.core.lift``), which a lifted module or function calls
        each time it runs: what was *applied*, with which arguments, as against what was only
        built (a learner may build ``nn.vmap(...)`` and compute with another layer). Linen reads
        ``lift.vmap`` when the learner calls ``nn.vmap``, after this. Each distinct application
        is recorded once."""
        from flax.core import lift

        seen: set[str] = set()
        for name in LIFTED_TRANSFORMS:
            original = getattr(lift, name, None)
            if original is None:
                continue
            try:
                signature = inspect.signature(original)
            except (TypeError, ValueError):
                continue
            setattr(lift, name, self._wrap_core(name, original, signature, seen))

    def _wrap_core(
        self, name: str, original: Any, signature: inspect.Signature, seen: set[str]
    ) -> Any:
        def applied(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                arguments = _jsonable({k: v for k, v in bound.arguments.items() if k != "fn"})
                during = "init" if self._in_init else "apply" if self._in_apply else "other"
                key = f"{name}:{during}:{arguments!r}"
                if key not in seen:
                    seen.add(key)
                    event = {"kind": "lifted", "api": f"flax.linen.{name}", "applied": True}
                    self.record({**event, "arguments": arguments, "during": during})
            except Exception:
                pass  # arguments Flax itself will reject: let Flax say so
            return original(*args, **kwargs)

        return functools.update_wrapper(applied, original)

    def _created(self, module: Any, via: str, variables: Any) -> None:
        """Record variables a module created: the first call that creates them is outermost."""
        import jax

        try:
            self.record(
                {
                    "kind": "init",
                    "via": via,
                    "module": type(module).__name__,
                    "variables": _variables(self, jax, variables),
                }
            )
        except Exception:
            pass

    def _wrap_init(self, original_init: Any, via: str) -> Any:
        def init(module: Any, *args: Any, **kwargs: Any) -> Any:
            if self._in_init:
                return original_init(module, *args, **kwargs)
            self._in_init = True
            try:
                result = original_init(module, *args, **kwargs)
            finally:
                self._in_init = False
            created = result[1] if via == "init_with_output" and _is_pair(result) else result
            self._created(module, via, created)
            return result

        return functools.update_wrapper(init, original_init)

    def _wrap_apply(self, original_apply: Any) -> Any:
        """``apply`` with ``mutable`` may create variables (``apply({}, x, mutable=True,
        rngs=...)``): recorded when it returns a collection its input lacked."""

        def apply(module: Any, variables: Any, *args: Any, **kwargs: Any) -> Any:
            if self._in_init:
                return original_apply(module, variables, *args, **kwargs)
            if not kwargs.get("mutable"):
                if not self._apply_seen:
                    self._apply_seen = True
                    self.record({"kind": "apply"})
                self._in_apply += 1
                try:
                    return original_apply(module, variables, *args, **kwargs)
                finally:
                    self._in_apply -= 1
            self._in_init = True
            try:
                result = original_apply(module, variables, *args, **kwargs)
            finally:
                self._in_init = False
            try:
                given = {k for k, v in variables.items() if v}
                if _is_pair(result) and set(result[1]) - given:
                    self._created(module, "apply", result[1])
            except Exception:
                pass
            return result

        return functools.update_wrapper(apply, original_apply)

    def _wrap_jax_vmap(self) -> None:
        import jax

        original_vmap = jax.vmap

        def vmap(*args: Any, **kwargs: Any) -> Any:
            try:
                caller = sys._getframe(1).f_code.co_filename
                if caller == self.filename and args and callable(args[0]):
                    self.record({"kind": "jax_vmap", "arguments": _jsonable(kwargs)})
                    args = (self._in_vmap(jax, args[0], kwargs), *args[1:])
            except Exception:
                pass
            return original_vmap(*args, **kwargs)

        functools.update_wrapper(vmap, original_vmap)
        jax.vmap = vmap

    def _in_vmap(self, jax: Any, fun: Any, kwargs: dict[str, Any]) -> Any:
        """``fun`` noting, while it runs, the batch axis the enclosing ``jax.vmap`` will add to
        everything it returns: variables created inside have it too (``outer_shape``)."""
        out_axes = kwargs.get("out_axes", 0)

        def mapped(*args: Any, **call_kwargs: Any) -> Any:
            size = kwargs.get("axis_size")
            if size is None:
                for leaf in jax.tree_util.tree_leaves((args, call_kwargs)):
                    inner, batch_dim = getattr(leaf, "val", None), getattr(leaf, "batch_dim", None)
                    if inner is not None and type(batch_dim) is int:
                        size = int(inner.shape[batch_dim])
                        break
            self._vmap_axes.append((size, out_axes))
            try:
                return fun(*args, **call_kwargs)
            finally:
                self._vmap_axes.pop()

        return functools.wraps(fun)(mapped)

    @property
    def in_vmap(self) -> bool:
        return bool(self._vmap_axes)

    def outer_shape(self, shape: list[int]) -> list[int]:
        """A shape seen inside ``jax.vmap`` as the code will hold it once the vmaps return:
        each adds its batch axis where its ``out_axes`` says (0 by default), innermost first."""
        outer = list(shape)
        for size, out_axes in reversed(self._vmap_axes):
            if size is None or out_axes is None:
                continue
            where = out_axes if type(out_axes) is int else 0
            outer.insert(where if where >= 0 else len(outer) + 1 + where, size)
        return outer


def _is_pair(result: Any) -> bool:
    return isinstance(result, tuple) and len(result) == 2 and hasattr(result[1], "items")


def _variables(observer: Observer, jax: Any, tree: Any) -> list[dict[str, Any]]:
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    out = []
    for path, leaf in leaves:
        keys = [str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path]
        entry: dict[str, Any] = {
            "path": "/".join(keys),
            "shape": observer.outer_shape([int(d) for d in getattr(leaf, "shape", ())]),
            "dtype": str(getattr(leaf, "dtype", type(leaf).__name__)),
        }
        # Inside a vmap the value is one example's (or one broadcast later): not the result's.
        concrete = not isinstance(leaf, jax.core.Tracer) and not observer.in_vmap
        entry["concrete"] = concrete
        if concrete and int(np.prod(entry["shape"] or [1])) <= MAX_OBSERVED_VALUES:
            entry["value"] = encode_array(np.asarray(leaf))
        out.append(entry)
    return out
