"""The engine's shape: the trust boundary as a package, and modules and functions that read in
one sitting (or say in their docstring why not)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

JUDGE = Path(__file__).resolve().parents[2] / "judge"
RUNTIME = JUDGE / "runtime"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60
# A docstring that explains a long module or function says so with this word.
EXCUSE = "Long because"


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", modules(RUNTIME), ids=lambda p: p.name)
def test_runtime_imports_nothing_else_from_the_judge(path: Path) -> None:
    """The worker's side is mounted alone into every sandbox: it may import only the standard
    library, numpy, JAX, Flax and its own modules (relatively)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level <= 1, f"{path.name}:{node.lineno} reaches outside the runtime"
            if node.level == 0:
                assert not (node.module or "").startswith("judge"), f"{path.name}:{node.lineno}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("judge"), f"{path.name}:{node.lineno}"


def test_the_judge_imports_only_the_runtimes_shared_modules() -> None:
    """The judge's side of the boundary uses the runtime's codec and its small stdlib helpers,
    never the session, the observer or the guard."""
    allowed = {
        "judge.runtime",
        "judge.runtime.wire",
        "judge.runtime.kernel",
        "judge.runtime.shared",
        "judge.runtime.confine",
        "judge.runtime.recording",  # the codec of a transform's arguments (stdlib only)
    }
    for path in modules(JUDGE):
        if RUNTIME in path.parents:
            continue
        package = ".".join(path.relative_to(JUDGE.parent).with_suffix("").parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                name = ".".join(p for p in (base, node.module or "") if p)
                if name.startswith("judge.runtime"):
                    full = (
                        [name]
                        if name != "judge.runtime"
                        else [f"judge.runtime.{a.name}" for a in node.names]
                    )
                    for target in full:
                        assert target in allowed, f"{path}:{node.lineno} imports {target}"


def _excused(node: ast.AST) -> bool:
    doc = (
        ast.get_docstring(node)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        else None
    )
    return bool(doc and EXCUSE in doc)


@pytest.mark.parametrize("path", modules(JUDGE), ids=lambda p: str(p.relative_to(JUDGE)))
def test_modules_and_functions_are_short_or_say_why(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = len(text.splitlines())
    assert lines <= MAX_MODULE_LINES or _excused(tree), f"{lines} lines"
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES or _excused(node), (
                f"{node.name} at line {node.lineno}: {length} lines"
            )


# --- the import graph -------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(JUDGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _run_time_nodes(node: ast.AST) -> list[ast.AST]:
    """Every node under ``node`` that runs: ``if TYPE_CHECKING:`` blocks are left out (their
    imports are for annotations only), imports inside functions are kept."""
    found: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for other in child.orelse:
                found += [other, *_run_time_nodes(other)]
            continue
        found += [child, *_run_time_nodes(child)]
    return found


def import_graph() -> dict[str, set[str]]:
    """Each module of judge/ -> the judge modules it imports when it runs (relative and
    absolute imports, at the top or inside functions), each with the packages above it, whose
    ``__init__`` runs first."""
    paths = {_module_name(p): p for p in modules(JUDGE)}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _run_time_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                full = ".".join(p for p in (base, node.module or "") if p)
                targets |= {full, *(f"{full}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        graph[name] = {
            ".".join(t.split(".")[:k])
            for t in targets
            for k in range(1, t.count(".") + 2)
            if ".".join(t.split(".")[:k]) in paths and ".".join(t.split(".")[:k]) != name
        }
    return graph


def reached(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_problem_loader_reaches_no_grading_code() -> None:
    """Loading a problem needs the catalogue's names, never the checks, the diagnoses, the
    comparator or the grading that implement them."""
    graph = import_graph()
    assert graph["judge.problem.model"], "the import graph found nothing"
    banned = ("judge.structure", "judge.diagnose", "judge.grading", "judge.compare")
    for name in graph:
        if name == "judge.problem" or name.startswith("judge.problem."):
            bad = sorted(m for m in reached(graph, name) if m.startswith(banned))
            assert not bad, f"{name} imports {bad}"


def test_the_catalogue_is_the_ground_floor() -> None:
    assert import_graph()["judge.catalogue"] <= {"judge", "judge.result"}
    assert import_graph()["judge.result"] <= {"judge"}


def test_no_import_cycle_passes_through_the_problem_loader() -> None:
    """A module of judge.problem that reaches itself does so only through judge.problem."""
    graph = import_graph()
    inside = {n for n in graph if n == "judge.problem" or n.startswith("judge.problem.")}
    for name in inside:
        for other in reached(graph, name) - inside:
            assert name not in reached(graph, other), f"{name} -> {other} -> {name}"
