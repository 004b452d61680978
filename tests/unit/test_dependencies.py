"""Which way the judge's modules depend on each other: no circles, and the loaders below the
engine.

The graph here has an edge for every import that runs (at the top of a module or inside a
function; ``if TYPE_CHECKING:`` blocks left out), to the module it names: ``from .x import y``
is an edge to ``x.y`` when that is a module, else to ``x``. A package's ``__init__`` that runs
first because a submodule is imported is no edge: importing a sibling is not depending on the
package, but importing a name the package itself defines (``from . import get_sandbox``) is.
"""

from __future__ import annotations

import ast
from pathlib import Path

JUDGE = Path(__file__).resolve().parents[2] / "judge"
# The loaders and the plan: what a problem package is and which cases it asks for. They are
# read by the engine and never read it, so a problem can be loaded, listed and checked without
# the grading, the checks, the words or the renderers.
LOADERS = ("judge.problem", "judge.cases", "judge.limits")
ABOVE_THE_LOADERS = (
    "judge.grading",
    "judge.structure",
    "judge.diagnose",
    "judge.wording",
    "judge.render",
)


def _name(path: Path) -> str:
    parts = list(path.relative_to(JUDGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _running(tree: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for other in child.orelse:
                found += [other, *_running(other)]
            continue
        found += [child, *_running(child)]
    return found


def _targets(node: ast.AST, module: str, package: str, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        names = {a.name for a in node.names}
    elif isinstance(node, ast.ImportFrom):
        base = package.rsplit(".", node.level - 1)[0] if node.level else ""
        source = ".".join(p for p in (base, node.module or "") if p)
        names = {f"{source}.{a.name}" if f"{source}.{a.name}" in known else source
                 for a in node.names}  # fmt: skip
    else:
        return set()
    found = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {_name(p): p for p in JUDGE.rglob("*.py") if "__pycache__" not in p.parts}
    known = set(paths)
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {t for n in _running(tree) for t in _targets(n, name, package, known)}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reached(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_graph_sees_imports_of_every_kind() -> None:
    graph = import_graph()
    assert "judge.sandbox.choice" in graph["judge.sandbox.worker"]  # inside a function
    assert "judge.catalogue" in graph["judge.problem.sections"]  # ``from .. import catalogue``
    assert "judge.sandbox" not in graph["judge.sandbox.worker"]  # siblings only
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles_in_the_judge() -> None:
    assert circles(import_graph()) == []


def test_the_loaders_never_reach_the_engine_above_them() -> None:
    graph = import_graph()
    for name in graph:
        if name.startswith(LOADERS):
            above = sorted(m for m in reached(graph, name) if m.startswith(ABOVE_THE_LOADERS))
            assert not above, f"{name} reaches {above}"


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
    graph = import_graph()
    assert graph["judge.catalogue"] <= {"judge.result"}
    assert graph["judge.result"] == set()
