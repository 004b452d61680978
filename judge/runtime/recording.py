"""A lifted transform's arguments and mapped arrays as plain data, for the judge to read by
meaning (``judge.arguments``): Flax filters by what they select, in the order Flax tries them
(their keys need not be strings: ``{True: None}``), and the ranks of the arrays a transform
mapped, which negative axes count from."""

from __future__ import annotations

import reprlib
from typing import Any

# Arguments that map Flax filters (collections, rng streams) to values.
FILTER_MAPPINGS = ("variable_axes", "split_rngs")


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


def as_json(value: Any, depth: int = 0) -> Any:
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
            return {str(k): as_json(v, depth + 1) for k, v in value.items()}
        except Exception:
            return safe_repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [as_json(v, depth + 1) for v in value]
    return safe_repr(value)


def _filter(value: Any, depth: int = 0) -> dict[str, Any]:
    """A Flax filter as what it selects (``flax.core.scope.in_filter``): every collection
    (``True``), none (``False``), these names (a string or a collection of them), all but
    some (``DenyList``); anything else by its repr. Flat, so no depth bound cuts it."""
    if value is True:
        return {"all": True}
    if value is False:
        return {"names": []}
    if isinstance(value, str):
        return {"names": [value]}
    if type(value).__name__ == "DenyList" and depth < 4:
        inner = _filter(getattr(value, "deny", None), depth + 1)
        if "names" in inner:
            return {"except": inner["names"]}
        if "except" in inner:
            return {"names": inner["except"]}
        return {"names": []} if inner.get("all") else {"other": safe_repr(value)}
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
        return {"names": sorted(value)}
    return {"other": safe_repr(value)}


def _filter_mapping(mapping: Any) -> Any:
    """``{True: None}`` as ``{"__filters__": [["True", {"all": true}, None]]}``: the spelling
    (for messages), the meaning and the value of each entry, first match first."""
    if not hasattr(mapping, "items"):
        return as_json(mapping)
    return {"__filters__": [[safe_repr(k), _filter(k), as_json(v, 1)] for k, v in mapping.items()]}


def arguments_as_data(arguments: dict[str, Any]) -> Any:
    """A lifted transform's bound arguments as plain JSON, filter mappings by meaning."""
    return {
        k: _filter_mapping(v) if k in FILTER_MAPPINGS else as_json(v, 1)
        for k, v in arguments.items()
    }


def ranks(tree: Any) -> list[int]:
    """The rank of every array in a tree, in order: what a negative axis is counted from."""
    import jax

    return [int(getattr(leaf, "ndim", 0)) for leaf in jax.tree_util.tree_leaves(tree)]
