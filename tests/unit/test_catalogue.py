"""The catalogue names every code the engine can emit, and the engine reads its words there."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

import yaml

from judge import catalogue, decide, structure, wording
from judge.catalogue import CODES
from judge.problem import load_problem_file
from judge.problem.sections import unknown_hint_keys
from judge.result import Diagnostic, Severity
from judge.runtime import observer

ROOT = Path(__file__).resolve().parents[2]
JUDGE = ROOT / "judge"
FAMILIES = {
    "load",
    "runtime",
    "limit",
    "output",
    "state",
    "structure",
    "params",
    "fingerprint-only",
    "submission",
    "judge",
}
# Where a code is the argument of a call: (callee's name, position of the code, keyword).
CODE_ARGUMENTS = {
    "Diagnostic": (0, "code"),
    "Mismatch": (0, "code"),
    "KnownError": (1, "code"),
    "_diagnostic": (1, "code"),  # diagnose's constructor, which also takes ``hint_key``
    "submission_problem": (0, "code"),
}
# Where an issue is a (code, message) pair: the batch's Entry, a Submission's problem.
ISSUE_ARGUMENTS = {"Entry": (None, "issue"), "Submission": (4, "problem")}
HELPERS = {
    "no_transform_code": catalogue.no_transform_code,
    "unused_transform_code": catalogue.unused_transform_code,
}
# Codes built from a value, each site named by its file and its f-string, with the codes it
# can make. ``wrong_<argument>``: one for each argument a rubric's transform check names
# (split_rngs has its own code); the bundled problems' are checked below.
DYNAMIC = {("transform_check.py", "f'wrong_{name}'")}


def _sources() -> Iterator[tuple[Path, ast.AST]]:
    for path in sorted(JUDGE.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _argument(node: ast.Call, position: int | None, keyword: str) -> ast.expr | None:
    for kw in node.keywords:
        if kw.arg == keyword:
            return kw.value
    if position is not None and len(node.args) > position:
        return node.args[position]
    return None


def _code_nodes(tree: ast.AST) -> Iterator[ast.expr]:
    """Every expression in ``tree`` that is a code the engine emits."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _callee(node)
            if name in CODE_ARGUMENTS:
                found = _argument(node, *CODE_ARGUMENTS[name])
                if found is not None:
                    yield found
                hint_key = _argument(node, None, "hint_key")
                if hint_key is not None:
                    yield hint_key
            if name in ISSUE_ARGUMENTS:
                pair = _argument(node, *ISSUE_ARGUMENTS[name])
                if isinstance(pair, ast.Tuple) and pair.elts:
                    yield pair.elts[0]
        elif isinstance(node, ast.Dict):  # a worker's reply: {"ok": False, "code": ...}
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "code":
                    yield value


def emitted() -> tuple[dict[str, list[str]], set[tuple[str, str]]]:
    """The literal codes (each with where it is emitted) and the dynamic sites."""
    literal: dict[str, list[str]] = {}
    dynamic: set[tuple[str, str]] = set()
    for path, tree in _sources():
        where = str(path.relative_to(JUDGE))
        for node in _code_nodes(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literal.setdefault(node.value, []).append(f"{where}:{node.lineno}")
            elif isinstance(node, ast.JoinedStr):
                dynamic.add((where, ast.unparse(node)))
            elif isinstance(node, ast.Call) and _callee(node) in HELPERS:
                for t in catalogue.LIFTED_TRANSFORMS:
                    code = HELPERS[_callee(node)](f"flax.linen.{t}")
                    literal.setdefault(code, []).append(f"{where}:{node.lineno}")
    return literal, dynamic


def test_every_code_the_engine_emits_is_in_the_catalogue() -> None:
    literal, _ = emitted()
    assert "values_mismatch" in literal and "unused_nn_vmap" in literal, "the scan found nothing"
    # A worker's reply may name a failure kind ("memory") rather than a code.
    missing = {
        code: where
        for code, where in literal.items()
        if code not in CODES and code not in catalogue.FAILURES
    }
    assert not missing, f"codes emitted but not in judge/catalogue.py: {missing}"


def test_codes_built_from_a_value_are_known_sites() -> None:
    """A new f-string code needs its entries in the catalogue and its site here."""
    _, dynamic = emitted()
    assert dynamic <= DYNAMIC, f"codes built from a value at {sorted(dynamic - DYNAMIC)}"


def test_the_bundled_rubrics_arguments_have_codes() -> None:
    for path in sorted((ROOT / "problems").glob("*/problem.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data.get("rubric") or []:
            for name in item.get("arguments") or []:
                code = name if name == "split_rngs" else f"wrong_{name}"
                assert code in CODES and CODES[code].structural, (path.parent.name, code)


def test_the_bundled_fingerprints_are_in_the_catalogue() -> None:
    for path in sorted((ROOT / "problems").glob("*/problem.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for fingerprint in data.get("fingerprints") or []:
            assert fingerprint["code"] in CODES, (path.parent.name, fingerprint["code"])


def test_every_entry_is_worded_and_ranked() -> None:
    for name, code in CODES.items():
        assert code.name == name
        assert code.family in FAMILIES, name
        assert code.title.strip() and code.title == code.title.strip(), name
        # A generic hint, or None: each diagnostic words its own.
        assert code.hint is None or code.hint.strip(), name
        assert code.rank in catalogue._RANK_WORDS, name
        assert code.structural == (code.rank == catalogue.BUILT), name


def test_consequences_name_catalogue_codes_that_rank_before_them() -> None:
    assert set(catalogue.SYMPTOMS) == {"values_mismatch", "wrong_param_values", "wrong_param_shape"}
    for name, code in CODES.items():
        for cause in code.follows_from:
            assert cause in CODES and cause != name, (name, cause)
            assert CODES[cause].rank <= code.rank, (name, cause)
    assert {"split_rngs", "ignores_seed", "wrong_initializer"} <= set(
        CODES["wrong_param_values"].follows_from
    )


def test_structural_codes_are_the_ones_observed_from_how_the_code_is_built() -> None:
    built = {
        "ensemble_params",
        "shared_params",
        "split_rngs",
        "wrong_in_axes",
        "wrong_out_axes",
        "wrong_variable_axes",
        "missing_bias",
        "param_tree_mismatch",
        "wrong_param_dtype",
        "wrong_param_shape",
        "structure_unverified",  # the records of how it is built, against the file
    }
    for t in catalogue.LIFTED_TRANSFORMS:
        built |= {f"no_nn_{t}", f"unused_nn_{t}"}
    assert set(catalogue.STRUCTURAL_CODES) == built


def test_the_transform_helpers_name_catalogue_codes() -> None:
    assert catalogue.no_transform_code("flax.linen.vmap") == "no_nn_vmap"
    assert catalogue.unused_transform_code("vmap") == "unused_nn_vmap"
    for helper, ours in HELPERS.items():
        theirs = getattr(structure, helper, ours)
        for t in catalogue.LIFTED_TRANSFORMS:
            assert theirs(f"flax.linen.{t}") == ours(f"flax.linen.{t}") in CODES


def test_the_registries_agree_with_the_catalogue() -> None:
    assert tuple(structure.RUBRIC_CHECKS) == catalogue.STRUCTURE_CHECKS
    assert tuple(observer.LIFTED_TRANSFORMS) == catalogue.LIFTED_TRANSFORMS


def test_failure_kinds_are_the_ones_grading_sets() -> None:
    """Every ``failure`` the grading code names is a failure kind of the catalogue."""
    named: set[str] = set()
    for _, tree in _sources():
        for node in ast.walk(tree):
            pairs: list[tuple[ast.AST, ast.AST]] = []
            if isinstance(node, ast.Compare) and len(node.comparators) == 1:
                pairs.append((node.left, node.comparators[0]))
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                pairs.append((node.targets[0], node.value))
            elif isinstance(node, ast.keyword) and node.arg == "failure":
                named.add(getattr(node.value, "value", ""))
            for target, value in pairs:
                if getattr(target, "attr", None) == "failure" and isinstance(value, ast.Constant):
                    named.add(value.value)
    named.discard("")
    named.discard(None)  # type: ignore[arg-type]
    assert named and named <= set(catalogue.FAILURES), named - set(catalogue.FAILURES)


def test_unused_transforms_are_structural_root_causes() -> None:
    cause = Diagnostic("unused_nn_vmap", Severity.ERROR, "built but unused")
    symptom = Diagnostic("values_mismatch", Severity.ERROR, "values differ")
    named = Diagnostic("exception", Severity.ERROR, "raised")
    ranked = decide.rank([symptom, named, cause])
    assert [d.code for d in ranked] == ["unused_nn_vmap", "exception", "values_mismatch"]
    assert catalogue.is_structural(cause.code)
    # Another layer with the same key gives the reference's numbers: a wrong output beside an
    # unused nn.vmap has a cause of its own to find, so it is no consequence of it.
    assert ranked[2].severity is Severity.ERROR and "consequence_of" not in ranked[2].evidence


def test_hint_keys_are_the_hintable_codes() -> None:
    known = catalogue.hintable_codes()
    assert "unused_nn_vmap" in known and "no_nn_scan" in known and "exception_at_import" in known
    assert "no_submission" not in known and "ignores_seed" not in known
    keys = ["unused_nn_remat", "ignores_seed", "grading_crashed", "no_nn_while_loop"]
    assert unknown_hint_keys(keys, ["ignores_seed"]) == keys[2:]
    assert wording.title("unused_nn_vmap") == "builds nn.vmap but computes without it"
    assert wording.title("someone_elses_code") == "someone elses code"


def test_a_problem_may_hint_an_unused_transform(tmp_path: Path) -> None:
    name = "nn_vmap_forward"
    shutil.copytree(ROOT / "problems" / name, tmp_path / "problems" / name)
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    path = tmp_path / "problems" / name / "problem.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("hints", {})["unused_nn_vmap"] = "Apply the vmapped layer."
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert load_problem_file(path).hints["unused_nn_vmap"] == "Apply the vmapped layer."
