"""A static reading of the learner's source: where it names Flax's lifted transforms, and the
arguments it writes literally at each call.

The worker's records of how the code was built come from the learner's own process, which can
forge them. The source cannot be forged the same way: the judge reads the file it was given.
A record that claims an ``nn.vmap`` the file never names, or arguments that no call in the file
writes, is a disagreement (``structure_unverified``), and structure credit is not given on it.

What the reading resolves: imports and their aliases (``import flax.linen as nn``, ``from
flax.linen import vmap as v``, ``from flax import linen``, star imports of ``flax.linen``),
simple assignments of a transform or of ``functools.partial`` of one, ``getattr`` with a literal
name, decorators, positional and keyword arguments, and literal values (``ast.literal_eval``,
``dict(k=v)``). Anything else (a name computed at run time, ``*args``, ``**kwargs``, a value
that is not a literal, a mention the reading cannot place) is open: it can be anything, so it
never contradicts a record.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

OPEN = object()  # an argument whose value the source does not show

# Where each lifted transform lives besides ``flax.linen``: the same function, other names.
_HOMES = ("flax.linen.", "flax.linen.transforms.", "flax.core.lift.")
_PARTIAL = {"functools.partial", "partial"}
# A transform's parameters in order, and the defaults of those compared, as Flax 0.12 has them
# (``flax.linen.transforms``); a transform not listed is compared on keywords only.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "vmap": ("target", "variable_axes", "split_rngs", "in_axes", "out_axes", "axis_size",
             "axis_name", "spmd_axis_name", "metadata_params", "methods"),
}  # fmt: skip
DEFAULTS: dict[str, dict[str, Any]] = {
    "vmap": {"variable_axes": {}, "split_rngs": {}, "in_axes": 0, "out_axes": 0},
}


@dataclass
class Site:
    """One place the source builds a transform: the arguments it shows (``OPEN`` where not),
    and whether any argument it does not name may be anything (``*args``, an opaque use)."""

    line: int
    arguments: dict[str, Any] = field(default_factory=dict)
    open: bool = False


@dataclass
class Reading:
    """What the source shows of each transform (by short name: ``vmap``)."""

    parsed: bool
    mentions: dict[str, list[int]] = field(default_factory=dict)
    sites: dict[str, list[Site]] = field(default_factory=dict)

    def names(self, transform: str) -> bool:
        return bool(self.mentions.get(transform))


def transform_of(api: str) -> str:
    """``flax.linen.vmap`` -> ``vmap``."""
    return api.rsplit(".", 1)[-1]


def read_source(source: str, transforms: Iterable[str]) -> Reading:
    """The reading of ``source`` for these transforms (short names)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Reading(parsed=False)
    return _Reader(tree, set(transforms)).read()


class _Reader:
    def __init__(self, tree: ast.Module, transforms: set[str]) -> None:
        self.tree = tree
        self.transforms = transforms
        self.aliases: dict[str, str] = {}  # local name -> dotted name
        # local name -> a partial of a transform: which, what it fixes, how many positionally
        self.partials: dict[str, tuple[str, Site, int]] = {}
        self.classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        self.star = False  # ``from flax.linen import *``
        self.reading = Reading(parsed=True)
        self.placed: set[int] = set()  # ids of nodes already read as part of a site

    def read(self) -> Reading:
        nodes = list(ast.walk(self.tree))
        for node in nodes:
            self._imports(node)
        for node in nodes:  # twice: an alias may be made of another one
            self._assignment(node)
        for node in nodes:
            self._assignment(node)
        for node in nodes:
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    found = self._transform(decorator)
                    if found is not None:  # ``@nn.vmap``: the defaults
                        self._add(found, Site(decorator.lineno), decorator)
        for node in nodes:
            if id(node) in self.placed:
                continue
            found = self._transform(node) if isinstance(node, ast.Name | ast.Attribute) else None
            if found is not None:  # a use the reading cannot place: anything is possible
                self._add(found, Site(getattr(node, "lineno", 0), open=True), node)
        return self.reading

    # --- names ---

    def _imports(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    self.aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name == "*":
                    self.star = self.star or node.module in ("flax.linen", "flax.linen.transforms")
                else:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def _assignment(self, node: ast.AST) -> None:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            return
        target = node.targets[0]
        if not isinstance(target, ast.Name):
            return
        if isinstance(node.value, ast.Name | ast.Attribute):
            dotted = self._dotted(node.value)
            if dotted is not None:
                self.aliases[target.id] = dotted
        elif isinstance(node.value, ast.Call):
            partial = self._partial(node.value)
            if partial is not None:
                self.partials[target.id] = partial

    def _dotted(self, node: ast.AST) -> str | None:
        """The dotted name an expression refers to, through the file's imports and aliases."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            if self.star and node.id in self.transforms:
                return f"flax.linen.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base is not None else None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            base = self._dotted(node.args[0])
            return f"{base}.{node.args[1].value}" if base is not None else None
        return None

    def _transform(self, node: ast.AST) -> str | None:
        """The transform (short name) an expression is, or None."""
        dotted = self._dotted(node)
        if dotted is None:
            return None
        for home in _HOMES:
            if dotted.startswith(home) and dotted[len(home) :] in self.transforms:
                return dotted[len(home) :]
        return None

    # --- sites ---

    def _partial(self, call: ast.Call) -> tuple[str, Site, int] | None:
        """``partial(nn.vmap, ...)``: the transform and the arguments it fixes."""
        if self._dotted(call.func) not in _PARTIAL and not (
            isinstance(call.func, ast.Name) and call.func.id == "partial"
        ):
            return None
        if not call.args:
            return None
        found = self._transform(call.args[0])
        if found is None:
            return None
        self.placed.update(id(n) for n in ast.walk(call.args[0]))
        return found, self._arguments(found, call, skip=1), len(call.args) - 1

    def _call(self, call: ast.Call) -> None:
        found = self._transform(call.func)
        if found is not None:
            self.placed.update(id(n) for n in ast.walk(call.func))
            self._add(found, self._arguments(found, call), call)
            return
        partial = self._partial(call)
        if partial is not None:  # a partial is a site too: it may be called where not seen
            self._add(partial[0], Site(call.lineno, partial[1].arguments, open=True), call)
            return
        if isinstance(call.func, ast.Name) and call.func.id in self.partials:
            name, fixed, count = self.partials[call.func.id]
            site = self._arguments(name, call, given=count)
            site.arguments = {**fixed.arguments, **site.arguments}
            site.open = site.open or fixed.open
            self._add(name, site, call)

    def _arguments(self, transform: str, call: ast.Call, skip: int = 0, given: int = 0) -> Site:
        """The arguments ``call`` shows, its first ``skip`` positions left out, its positions
        counted from the ``given``-th parameter (after those a partial fixed)."""
        site = Site(call.lineno)
        order = SIGNATURES.get(transform)
        positional = call.args[skip:]
        if any(isinstance(a, ast.Starred) for a in positional) or any(
            k.arg is None for k in call.keywords
        ):
            site.open = True
        elif order is None and positional:
            site.open = True  # positions this reading cannot name
        elif order is not None:
            for name, value in zip(order[given:], positional, strict=False):
                site.arguments[name] = self._value(value)
        for keyword in call.keywords:
            if keyword.arg is not None:
                site.arguments[keyword.arg] = self._value(keyword.value)
        return site

    def _value(self, node: ast.AST) -> Any:
        """A literal's value; the last name of a class or dotted name (a target); else OPEN."""
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
        if _is_dict_call(node):
            assert isinstance(node, ast.Call)
            values = {k.arg: self._value(k.value) for k in node.keywords}
            return OPEN if any(v is OPEN for v in values.values()) else values
        dotted = self._dotted(node)
        if dotted is not None:
            return Named(dotted.rsplit(".", 1)[-1])
        if isinstance(node, ast.Name) and node.id in self.classes:
            return Named(node.id)
        return OPEN

    def _add(self, transform: str, site: Site, node: ast.AST) -> None:
        self.placed.update(id(n) for n in ast.walk(node))
        self.reading.mentions.setdefault(transform, []).append(site.line)
        self.reading.sites.setdefault(transform, []).append(site)


def _is_dict_call(node: ast.AST) -> bool:
    """``dict(params=None)``: a mapping written as a call."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and not node.args
        and all(k.arg for k in node.keywords)
    )


@dataclass(frozen=True)
class Named:
    """A class or function the source names (``nn.Dense``): compared by its last name."""

    name: str
