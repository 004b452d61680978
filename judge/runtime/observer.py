"""How loaded code uses Flax and JAX, recorded for diagnostics only; never changes results.

Adding a structural pitfall that needs a new fact starts here (what to record) and ends in
``judge/structure.py`` (how to compare it with the reference's record).
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import weakref
from typing import Any

import numpy as np

from .recording import arguments_as_data, as_json, ranks
from .wire import MAX_REPLY_OBSERVED_TEXT, MAX_REPLY_OBSERVED_VALUES, encode_array, json_cost


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
# What one message's events may hold: the judge's limit for a reply's observations, less the list
# that holds them (``wire``). The judge treats a reply over it as a protocol violation, so an
# event that would not fit is not recorded: the worker stays within it whatever the code does
# (an ``apply`` called a thousand times a call records its output until the budget is spent).
MESSAGE_BUDGET = (MAX_REPLY_OBSERVED_VALUES - 1, MAX_REPLY_OBSERVED_TEXT)


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
        # What each lifted transform built (a class or a function) is numbered, so that a run
        # of it names the building call, wherever that was (at import, in an earlier cell).
        self._builds: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._seen: set[str] = set()  # runs recorded since the last ``take``
        self._spent = (0, 0)  # of ``MESSAGE_BUDGET``, since the last ``take``

    def take(self) -> list[dict[str, Any]]:
        """The events since the last take: those of loading the file, or of one call. Each
        message stands alone: what ran during a call is recorded in that call's events, even
        when the same thing ran before (at import, in an earlier call)."""
        events, self.events = self.events, []
        self._seen = set()
        self._spent = (0, 0)
        self._apply_seen = False
        return events

    def record(self, event: dict[str, Any]) -> None:
        """Keep ``event`` for this message if it fits: ``MAX_EVENTS_PER_MESSAGE``, and
        ``MESSAGE_BUDGET`` counted as the judge counts it (``wire.json_cost``)."""
        if len(self.events) >= MAX_EVENTS_PER_MESSAGE:
            return
        values, text = json_cost(event, *MESSAGE_BUDGET)
        spent = (self._spent[0] + values, self._spent[1] + text)
        if spent[0] <= MESSAGE_BUDGET[0] and spent[1] <= MESSAGE_BUDGET[1]:
            self._spent = spent
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
            event: dict[str, Any] | None = None
            try:
                if signature is not None:
                    bound = signature.bind(*args, **kwargs)
                    bound.apply_defaults()
                    arguments = dict(bound.arguments)
                else:
                    arguments = {"args": list(args), **kwargs}
                event = {"kind": "lifted", "api": f"flax.linen.{name}"}
                event["arguments"] = arguments_as_data(arguments)
            except Exception:
                pass  # arguments Flax itself will reject: let Flax say so
            built = original(*args, **kwargs)
            if event is not None:
                event["build"] = self._number(built)
                self.record(event)
            return built

        return functools.update_wrapper(lifted, original)

    def _number(self, built: Any) -> int | None:
        try:
            self._builds[built] = number = len(self._builds) + 1
            return number
        except TypeError:
            return None

    def _wrap_core_lifts(self) -> None:
        """Flax's core transforms (``flax.core.lift``), which a lifted module or function calls
        each time it runs: what was *run*, with which arguments, as against what was only
        built (a learner may build ``nn.vmap(...)`` and compute with another layer). Linen reads
        ``lift.vmap`` when the learner calls ``nn.vmap``, after this."""
        from flax.core import lift

        for name in LIFTED_TRANSFORMS:
            original = getattr(lift, name, None)
            if original is None:
                continue
            try:
                signature = inspect.signature(original)
            except (TypeError, ValueError):
                continue
            setattr(lift, name, self._wrap_core(name, original, signature))

    def _wrap_core(self, name: str, original: Any, signature: inspect.Signature) -> Any:
        def lift(*args: Any, **kwargs: Any) -> Any:
            transformed = original(*args, **kwargs)
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                arguments = arguments_as_data(
                    {k: v for k, v in bound.arguments.items() if k != "fn"}
                )
                event = {"kind": "lifted", "api": f"flax.linen.{name}", "applied": True,
                         "arguments": arguments, "build": self._running_build()}  # fmt: skip
            except Exception:
                return transformed  # arguments Flax itself will reject: let Flax say so
            return self._when_run(transformed, event)

        return functools.update_wrapper(lift, original)

    def _when_run(self, transformed: Any, event: dict[str, Any]) -> Any:
        """``transformed`` recording ``event`` each time it runs, once per message: where it
        ran (``init``, ``apply`` or other code) and the ranks of the arrays it mapped, which
        negative axes count from."""

        def run(*args: Any, **kwargs: Any) -> Any:
            during = "init" if self._in_init else "apply" if self._in_apply else "other"
            result: Any = None
            try:
                result = transformed(*args, **kwargs)
                return result
            finally:
                # Also when Flax raised inside (a misspelt collection): what ran is the fact
                # that explains the error. Without a result, no output ranks.
                self._ran(event, during, args, result)

        try:
            return functools.update_wrapper(run, transformed)
        except Exception:
            return run

    def _ran(self, event: dict[str, Any], during: str, args: tuple, result: Any) -> None:
        try:
            out = ranks(result) if result is not None else None
            mapped = {"in": [ranks(a) for a in args[1:]], "out": out}
            ran = {**event, "during": during, "ranks": mapped}
            key = repr(ran)
            if key not in self._seen:
                self._seen.add(key)
                self.record(ran)
        except Exception:
            pass

    def _running_build(self) -> int | None:
        """The number of the lifted module whose method is lifting now: Linen's
        ``wrapped_fn`` (``flax.linen.transforms``) runs as a method of the module that
        ``nn.vmap(...)`` built, a frame or two above."""
        frame: types.FrameType | None = sys._getframe(2)
        for _ in range(4):
            if frame is None:
                return None
            code = frame.f_code
            if code.co_filename.endswith("flax/linen/transforms.py") and "self" in code.co_varnames:
                for klass in type(frame.f_locals.get("self")).__mro__:  # a subclass of it too
                    if klass in self._builds:
                        return self._builds[klass]
                return None
            frame = frame.f_back
        return None

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

    def _output(self, via: str, value: Any) -> None:
        """The layer's own output, before the code reshapes or casts it: what the format of
        the answer is judged against (``judge.grading.stages``). Only a concrete array of at
        most ``MAX_OBSERVED_VALUES`` elements, outside ``jax.vmap`` (where it is one example's)."""
        import jax

        try:
            if isinstance(value, jax.core.Tracer) or self.in_vmap or not hasattr(value, "dtype"):
                return
            array = np.asarray(value)
            if array.size <= MAX_OBSERVED_VALUES:
                self.record({"kind": "output", "via": via, "value": encode_array(array)})
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
            if via == "init_with_output" and _is_pair(result):
                self._output(via, result[0])
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
                outermost = not self._in_apply
                self._in_apply += 1
                try:
                    result = original_apply(module, variables, *args, **kwargs)
                finally:
                    self._in_apply -= 1
                if outermost:
                    self._output("apply", result)
                return result
            self._in_init = True
            try:
                result = original_apply(module, variables, *args, **kwargs)
            finally:
                self._in_init = False
            try:
                given = {k for k, v in variables.items() if v}
                if _is_pair(result) and set(result[1]) - given:
                    self._created(module, "apply", result[1])
                    self._output("apply", result[0])
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
                    self.record({"kind": "jax_vmap", "arguments": as_json(kwargs)})
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
