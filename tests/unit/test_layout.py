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
