"""A lifted transform's arguments as Flax and JAX read them, not as they are written.

``in_axes=-2`` on a rank-2 input is axis 0; ``in_axes=(0,)`` for one argument is ``0``;
``variable_axes={True: None}`` (every collection, as Flax's own ``remat_scan`` defaults) is
``{"params": None}`` for a layer that makes only params; ``split_rngs={"params": False,
"dropout": True}`` is ``{"params": False}`` for a layer without dropout. The worker records
each filter by what it selects (``runtime.recording._filter``) and the ranks of the arrays a
transform mapped; this module resolves both against what the layer actually made, so that two
spellings of one meaning compare equal and two meanings never do.

Equivalences (docs/grading-a-file.md, "What counts as the same argument"):

- an axis counts from the end when negative: ``a`` on a rank-``r`` array is ``a + r``;
- an axis spec per argument, or per array, that is the same everywhere is that one axis;
- a filter mapping is what it maps each relevant collection (or rng stream) to, the first
  matching entry winning as in ``flax.core.lift``: ``True`` is every collection, ``False`` none,
  a name or a list of names those, ``DenyList(x)`` all but ``x``'s; a collection no entry
  matches is left out (Flax then does not lift it), which differs from any value;
- relevant are the collections the layer made and those the reference's mapping names:
  an entry for a collection neither has (``"dropout": True`` without dropout) is inert.
"""

from __future__ import annotations

from typing import Any

AXES = ("in_axes", "out_axes")
FILTERS = ("variable_axes", "split_rngs")
LEFT_OUT = "<not lifted>"


def selects(spec: Any, name: str) -> bool:
    """Whether a recorded filter (``{"all": true}``, ``{"names": [...]}``, ``{"except":
    [...]}``) selects ``name``, as ``flax.core.scope.in_filter`` does."""
    if not isinstance(spec, dict):
        return False
    if spec.get("all") is True:
        return True
    if isinstance(spec.get("names"), list):
        return name in spec["names"]
    if isinstance(spec.get("except"), list):
        return name not in spec["except"]
    return False  # a filter Flax itself rejects, or a record cut short: selects nothing


def _entries(value: Any) -> list[tuple[str, Any, Any]] | None:
    """(spelling, filter, value) per entry of a filter mapping; a plain dict (an older record)
    as names; None when ``value`` is not a mapping."""
    if isinstance(value, dict) and isinstance(value.get("__filters__"), list):
        return [
            (str(e[0]), e[1], e[2])
            for e in value["__filters__"]
            if isinstance(e, list) and len(e) == 3
        ]
    if isinstance(value, dict):
        return [(repr(k), {"names": [k]}, v) for k, v in value.items()]
    return None


def selected(value: Any, name: str) -> bool:
    """Whether a filter mapping maps ``name`` to anything (it is lifted, or its key passed)."""
    return resolve(value, {name}).get(name, LEFT_OUT) != LEFT_OUT if _entries(value) else False


def named(value: Any) -> set[str]:
    """The collections a filter mapping names explicitly (``True`` names none)."""
    found: set[str] = set()
    for _, spec, _ in _entries(value) or []:
        if isinstance(spec, dict) and isinstance(spec.get("names"), list):
            found.update(str(n) for n in spec["names"])
    return found


def resolve(value: Any, relevant: set[str]) -> Any:
    """A filter mapping as ``{collection: value}`` over ``relevant``, first match winning;
    a collection no entry selects maps to ``LEFT_OUT``. Anything else unchanged."""
    entries = _entries(value)
    if entries is None:
        return value
    out: dict[str, Any] = {}
    for name in sorted(relevant):
        out[name] = next((v for _, spec, v in entries if selects(spec, name)), LEFT_OUT)
    return out


def _axis(axis: Any, rank: int) -> Any:
    if type(axis) is int and axis < 0 and rank > 0:
        return axis + rank
    return axis


def _per_leaf(axes: Any, ranks: list[list[int]]) -> list[Any] | None:
    """``in_axes`` as one normalised axis per mapped array, from the ranks of the positional
    arguments; None when the spec's form is not one this reads (then it is compared as it
    is written)."""
    if axes is None or type(axes) is int:
        return [_axis(axes, r) for arg in ranks for r in arg]
    if (
        isinstance(axes, list)
        and len(axes) == len(ranks)
        and all(a is None or type(a) is int for a in axes)
    ):
        return [_axis(a, r) for a, arg in zip(axes, ranks, strict=True) for r in arg]
    return None


def normal_axes(name: str, axes: Any, ranks: dict[str, Any] | None) -> Any:
    """``in_axes``/``out_axes`` as the axis of each mapped array counted from 0, collapsed to
    one axis when all agree. Without ranks only the per-argument form collapses."""
    leaves: list[Any] | None = None
    if ranks is not None:
        if name == "in_axes":
            leaves = _per_leaf(axes, ranks["in"])
        elif axes is None or type(axes) is int:
            leaves = [_axis(axes, r) for r in ranks["out"]]
    elif isinstance(axes, list) and axes:
        leaves = list(axes)
    elif axes is None or type(axes) is int:
        return axes
    if (
        leaves
        and all(v == leaves[0] for v in leaves)
        and (leaves[0] is None or type(leaves[0]) is int)
    ):
        return leaves[0]
    return leaves if leaves is not None else axes


def meaning(name: str, value: Any, ranks: dict[str, Any] | None, relevant: set[str]) -> Any:
    """One argument as it acts: axes counted from 0, filters resolved over ``relevant``."""
    if name in AXES:
        return normal_axes(name, value, ranks)
    if name in FILTERS:
        return resolve(value, relevant)
    return value


def show(value: Any) -> str:
    """An argument as Python source, as the learner wrote it: {True: None}, 0, (0,)."""
    entries = _entries(value) if isinstance(value, dict) and "__filters__" in value else None
    if entries is not None:
        return "{" + ", ".join(f"{spelling}: {show(v)}" for spelling, _, v in entries) + "}"
    if isinstance(value, dict) and set(value) == {"__class__"}:
        return str(value["__class__"]).replace("flax.linen.linear.", "nn.")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "(" + ", ".join(show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)
