"""problem.yaml's ``rubric:``: the graded items, their dependencies and partial credit.

Kept apart from ``sections.py`` because a rubric is checked as a whole once its items are read:
ids unique, exactly one required ``outputs`` item, ``requires`` naming items that exist with no
cycle among them, and ``partial`` naming only codes that can mean "right values, wrong format".
"""

from __future__ import annotations

import difflib
from typing import Any

from .fields import _check_keys, _describe, _Errors, _number, _text
from .model import (
    DEFAULT_RUBRIC_ITEM,
    RIGHT_VALUE_CODES,
    RUBRIC_CHECKS,
    VISIBILITIES,
    RubricItem,
)
from .sections import _snake

_ITEM_REQUIRED = ("id", "check", "weight")
_ITEM_OPTIONAL = (
    "title",
    "required",
    "api",
    "arguments",
    "collection",
    "visibility",
    "requires",
    "partial",
)


def _rubric_structure(
    data: dict, check: str | None, path: str, errors: _Errors
) -> tuple[str, list[str]]:
    """A rubric item's ``api`` and ``arguments``: what a structural check compares."""
    api = data.get("api", "")
    if check == "transform" and not (isinstance(api, str) and api.startswith("flax.linen.")):
        errors.add(
            f"{path}.api",
            "a transform check names a Flax lifted transform, such as "
            f"'flax.linen.vmap'; got {_describe(api)}",
        )
    arguments = data.get("arguments", [])
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        errors.add(
            f"{path}.arguments", f"expected a list of argument names, got {_describe(arguments)}"
        )
        arguments = []
    return str(api or ""), arguments


def _requires(data: dict, path: str, errors: _Errors) -> tuple[str, ...]:
    """``requires``: a list of item ids (checked against the rubric once every item is read)."""
    raw = data.get("requires", [])
    if not isinstance(raw, list) or not all(_snake(r) for r in raw) or len(set(raw)) != len(raw):
        errors.add(
            f"{path}.requires", f"expected a list of distinct rubric item ids, got {_describe(raw)}"
        )
        return ()
    return tuple(raw)


def _partial(
    data: dict, check: str | None, path: str, fingerprint_codes: list[str], errors: _Errors
) -> tuple[tuple[str, float], ...]:
    """``partial``: code -> the fraction of a case's credit that slip still earns."""
    raw = data.get("partial", {})
    if not raw:
        return ()
    if check != "outputs":
        errors.add(f"{path}.partial", "only an 'outputs' item has cases to give partial credit on")
        return ()
    if not isinstance(raw, dict):
        errors.add(
            f"{path}.partial", f"expected a mapping of codes to fractions, got {_describe(raw)}"
        )
        return ()
    known = [*RIGHT_VALUE_CODES, *fingerprint_codes]
    found = []
    for code, fraction in raw.items():
        where = f"{path}.partial.{code}"
        if code not in known:
            close = difflib.get_close_matches(str(code), known, n=1)
            tip = f" (did you mean {close[0]!r}?)" if close else ""
            errors.add(
                where,
                "not a code that can mean right values in the wrong format: use one of "
                f"{', '.join(known)}{tip}",
            )
        elif (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or not 0 < fraction < 1
        ):
            errors.add(
                where, f"expected a fraction between 0 and 1 (exclusive), got {_describe(fraction)}"
            )
        else:
            found.append((str(code), float(fraction)))
    return tuple(found)


def _item(
    entry: Any, path: str, fingerprint_codes: list[str], errors: _Errors
) -> RubricItem | None:
    """One rubric item; None when it is invalid (its errors say why)."""
    data = _check_keys(entry, path, _ITEM_REQUIRED, _ITEM_OPTIONAL, errors)
    ident = data.get("id")
    if "id" in data and not _snake(ident):
        errors.add(f"{path}.id", f"expected a snake_case name, got {_describe(ident)}")
    check = _text(data, "check", path, errors, choices=RUBRIC_CHECKS)
    weight = _number(data, "weight", path, errors, positive=True)
    required = data.get("required", True)
    if not isinstance(required, bool):
        errors.add(f"{path}.required", f"expected true or false, got {_describe(required)}")
    api, arguments = _rubric_structure(data, check, path, errors)
    collection = _text(data, "collection", path, errors, default="params")
    title = _text(data, "title", path, errors, default=str(ident))
    shown = _text(data, "visibility", path, errors, choices=VISIBILITIES, default="visible")
    requires = _requires(data, path, errors)
    partial = _partial(data, check, path, fingerprint_codes, errors)
    if None in (check, weight, collection, title, shown) or not _snake(ident):
        return None
    return RubricItem(
        str(ident),
        str(title),
        str(check),
        float(weight or 0),
        required is not False,
        api,
        tuple(arguments),
        str(collection),
        str(shown),
        requires,
        partial,
    )


def _check_requires(items: dict[int, RubricItem], declared: set[Any], errors: _Errors) -> None:
    """Every required id is declared and is not the item itself; a required item depends on no
    optional one (failing it would reject the submission); and there is no cycle. ``items`` are
    the valid ones by their place in the list; an id that is ``declared`` but whose item is
    invalid has an error of its own."""
    by_id = {i.id: i for i in items.values()}
    for k, item in items.items():
        for other in item.requires:
            where = f"rubric[{k}].requires"
            if other == item.id:
                errors.add(where, f"{item.id!r} cannot require itself")
            elif other in declared and other not in by_id:
                continue
            elif other not in by_id:
                close = difflib.get_close_matches(other, list(by_id), n=1)
                tip = f" (did you mean {close[0]!r}?)" if close else ""
                errors.add(where, f"{other!r} is not a rubric item's id{tip}")
            elif item.required and not by_id[other].required:
                errors.add(
                    where,
                    f"the required item {item.id!r} cannot require the optional {other!r}: "
                    "failing an optional item would then reject the submission",
                )
    cycle = _cycle(by_id)
    if cycle:
        k = next(k for k, i in items.items() if i.id == cycle[0])
        errors.add(f"rubric[{k}].requires", f"a cycle: {' -> '.join(cycle)}")


def _cycle(by_id: dict[str, RubricItem]) -> list[str]:
    """A cycle of ``requires`` as ids (first repeated at the end), or [] when there is none."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once every path from it ends

    def visit(ident: str, path: list[str]) -> list[str]:
        state[ident] = "open"
        for other in by_id[ident].requires:
            if other not in by_id or other == ident:
                continue  # reported on its own
            if state.get(other) == "open":
                return [*path[path.index(other) :], other]
            if other not in state:
                found = visit(other, [*path, other])
                if found:
                    return found
        state[ident] = "done"
        return []

    for ident in by_id:
        if ident not in state:
            found = visit(ident, [ident])
            if found:
                return found
    return []


def order(items: tuple[RubricItem, ...]) -> list[RubricItem]:
    """The items with every item after those it requires (a valid rubric has no cycle)."""
    by_id = {i.id: i for i in items}
    done: dict[str, RubricItem] = {}

    def place(item: RubricItem) -> None:
        for other in item.requires:
            if other in by_id and other not in done:
                place(by_id[other])
        done.setdefault(item.id, item)

    for item in items:
        place(item)
    return list(done.values())


def _parse_rubric(
    raw: Any, errors: _Errors, fingerprint_codes: list[str] | None = None
) -> tuple[RubricItem, ...]:
    if not isinstance(raw, list) or not raw:
        errors.add("rubric", f"expected a non-empty list of items, got {_describe(raw)}")
        return (DEFAULT_RUBRIC_ITEM,)
    valid: dict[int, RubricItem] = {}
    for k, entry in enumerate(raw):
        item = _item(entry, f"rubric[{k}]", fingerprint_codes or [], errors)
        if item is not None:
            valid[k] = item
    items = list(valid.values())
    ids = [i.id for i in items]
    for ident in sorted({i for i in ids if ids.count(i) > 1}):
        errors.add("rubric", f"the id {ident!r} is used twice")
    outputs = [i for i in items if i.check == "outputs"]
    if items and (len(outputs) != 1 or not outputs[0].required):
        errors.add(
            "rubric",
            "exactly one item must check 'outputs', and it must be required: "
            "without it a wrong answer could be accepted",
        )
    declared = {e.get("id") for e in raw if isinstance(e, dict)}
    _check_requires(valid, declared, errors)
    return tuple(items) or (DEFAULT_RUBRIC_ITEM,)
