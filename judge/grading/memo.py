"""What the judge knows of a reference: its outputs, observations and fingerprint outputs per
case, and the case plans. Kept in this process's memory and on disk (``judge.cache``).

A class graded in one run, the test suite and ``judge check`` meet the same planned cases again
and again. Results are keyed by the reference's and fingerprints' content, so an edited
reference is never served stale results. The in-memory copy lives in the judge's own memory,
where no learner process can write.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import cache
from ..cases import Case, plan_cases
from ..constants import judge_version, library_versions
from ..problem import Problem
from ..runtime.wire import decode_array, encode_array

ReferenceId = tuple[Any, ...]
# Bumped whenever the way plans are drawn changes (2: covering shapes, repeated inputs, kinds;
# 3: a repeat with another size of a dimension passed on its own; 4: repeats that catch every
# cache keyed on part of the arguments: each dimension changed alone, and reshapes; 5: no fresh
# case repeats an earlier one by chance).
PLAN_FORMAT = 5
Observed = list[Any]


@dataclass(frozen=True)
class Expected:
    """The reference's answer to one case."""

    array: np.ndarray
    original_dtype: str | None
    observed: Observed


_RESULTS: dict[tuple[ReferenceId, str], Expected] = {}
_LOADS: dict[ReferenceId, Observed] = {}
_VARIANTS: dict[tuple[ReferenceId, str, str], np.ndarray | None] = {}
# What each variant's worker recorded on a case (its initial variables): a learner's params
# equal to a variant's name that mistake whatever the output became afterwards.
_VARIANT_SEEN: dict[tuple[ReferenceId, str, str], Observed] = {}
_FROM_DISK: set[ReferenceId] = set()  # reference ids whose stored results this process read
_LIMIT = 50_000


def _remember_in(store: dict[Any, Any], key: Any, value: Any) -> None:
    if len(store) >= _LIMIT:
        store.clear()
    store[key] = value


def forget() -> None:
    """Drop everything this process knows, as a fresh judge process would start."""
    for store in (_RESULTS, _LOADS, _VARIANTS, _VARIANT_SEEN, _FROM_DISK):
        store.clear()


# Bumped whenever what workers record of the code changes (2: filters by meaning, the ranks a
# transform mapped, the building call of each run, the layer's own output; 3: the variants'
# observations stored beside their outputs): stored observations of another form are not
# compared with new ones.
OBSERVATION_FORMAT = 3


def reference_id(problem: Problem, backend: str) -> ReferenceId:
    """What a reference's results depend on: its file, its fingerprints, backend, precision,
    and the form of the observations stored beside them."""
    return (
        OBSERVATION_FORMAT,
        problem.name,
        hashlib.sha256(problem.reference.read_bytes()).hexdigest(),
        tuple(hashlib.sha256(f.file.read_bytes()).hexdigest() for f in problem.fingerprints),
        backend,
        problem.precision,
    )


# --- in memory -----------------------------------------------------------------------------


def expected(rid: ReferenceId, case_key: str) -> Expected | None:
    return _RESULTS.get((rid, case_key))


def remember_expected(rid: ReferenceId, case_key: str, value: Expected) -> None:
    _remember_in(_RESULTS, (rid, case_key), value)


def loaded(rid: ReferenceId) -> Observed | None:
    """The reference's observations at load time; None when it was never loaded."""
    return _LOADS.get(rid)


def remember_load(rid: ReferenceId, observed: Observed) -> None:
    _remember_in(_LOADS, rid, observed)


def has_variant(rid: ReferenceId, slot: str, case_key: str) -> bool:
    return (rid, slot, case_key) in _VARIANTS


def variant(rid: ReferenceId, slot: str, case_key: str) -> np.ndarray | None:
    return _VARIANTS.get((rid, slot, case_key))


def remember_variant(
    rid: ReferenceId,
    slot: str,
    case_key: str,
    array: np.ndarray | None,
    observed: Observed | None = None,
) -> None:
    _remember_in(_VARIANTS, (rid, slot, case_key), array)
    _remember_in(_VARIANT_SEEN, (rid, slot, case_key), observed or [])


def variant_observed(rid: ReferenceId, slot: str, case_key: str) -> Observed:
    """What the variant's worker recorded on a case; empty when unknown."""
    return _VARIANT_SEEN.get((rid, slot, case_key), [])


def complete(rid: ReferenceId, plan: list[Case]) -> bool:
    """Whether the reference's worker is needed for none of the plan's cases."""
    return rid in _LOADS and all((rid, case.key) in _RESULTS for case in plan)


# --- on disk -------------------------------------------------------------------------------


def _disk_key(rid: ReferenceId, python: str | None) -> dict[str, Any]:
    return {
        "reference": list(rid),
        "versions": library_versions(),
        "machine": platform.machine(),
        "python": python or "judge",
        "format": 1,
    }


def read_from_disk(rid: ReferenceId, python: str | None) -> None:
    """Fill the in-memory stores from the disk, once per reference per process."""
    if rid in _FROM_DISK:
        return
    _FROM_DISK.add(rid)
    stored = cache.load("reference", _disk_key(rid, python))
    if not isinstance(stored, dict):
        return
    try:
        if rid not in _LOADS and isinstance(stored.get("load"), list):
            _remember_in(_LOADS, rid, stored["load"])
        for case_key, entry in (stored.get("cases") or {}).items():
            array = decode_array(entry["array"])
            _RESULTS.setdefault(
                (rid, case_key),
                Expected(array, entry.get("original"), entry.get("observed") or []),
            )
        for slot_case, encoded in (stored.get("variants") or {}).items():
            slot, case_key = slot_case.split("|", 1)
            _VARIANTS.setdefault(
                (rid, slot, case_key),
                decode_array(encoded) if isinstance(encoded, dict) else None,
            )
        for slot_case, observed in (stored.get("variant_observed") or {}).items():
            slot, case_key = slot_case.split("|", 1)
            if isinstance(observed, list):
                _VARIANT_SEEN.setdefault((rid, slot, case_key), observed)
    except (KeyError, TypeError, ValueError, AttributeError):
        return  # a damaged entry: recompute, and overwrite it


def write_to_disk(rid: ReferenceId, python: str | None) -> None:
    """Store what this process knows of a reference, for the next process."""
    cases = {
        case_key: {
            "array": encode_array(value.array),
            "original": value.original_dtype,
            "observed": value.observed,
        }
        for (owner, case_key), value in list(_RESULTS.items())
        if owner == rid
    }
    variants = {
        f"{slot}|{case_key}": encode_array(array) if array is not None else None
        for (owner, slot, case_key), array in list(_VARIANTS.items())
        if owner == rid
    }
    seen = {
        f"{slot}|{case_key}": observed
        for (owner, slot, case_key), observed in list(_VARIANT_SEEN.items())
        if owner == rid
    }
    cache.store(
        "reference",
        _disk_key(rid, python),
        {
            "load": _LOADS.get(rid, []),
            "cases": cases,
            "variants": variants,
            "variant_observed": seen,
        },
    )


# --- case plans ----------------------------------------------------------------------------


def plan(problem: Problem, seed: int) -> list[Case]:
    """The case plan, from the on-disk cache when this problem and seed were planned before.

    The plan is a pure function of the inputs, the case spec, the seed, the library versions
    and how plans are made (``PLAN_FORMAT``); all of them are in the key, with the problem's
    version.
    """
    key = {
        "spec": repr((problem.parameters, problem.inputs, problem.cases)),
        "problem_version": problem.version,
        "plan_format": PLAN_FORMAT,
        "seed": seed,
        "versions": library_versions(),
        "judge": judge_version(),
    }
    stored = cache.load("plans", key)
    if isinstance(stored, list):
        try:
            return [
                Case(
                    {
                        k: decode_array(v) if isinstance(v, dict) else v
                        for k, v in c["values"].items()
                    },
                    c["origin"],
                    {str(k): str(v) for k, v in (c.get("kinds") or {}).items()},
                )
                for c in stored
            ]
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    planned = plan_cases(problem, seed)
    cache.store("plans", key, [_plan_entry(c) for c in planned])
    return planned


def _plan_entry(case: Case) -> dict[str, Any]:
    return {
        "origin": case.origin,
        "kinds": dict(case.kinds),
        "values": {
            k: encode_array(v) if isinstance(v, np.ndarray) else int(v)
            for k, v in case.values.items()
        },
    }
