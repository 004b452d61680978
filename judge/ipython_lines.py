"""Which lines of a notebook cell are Python, read the way IPython reads them.

``!shell``, ``%magic`` and help lines (``name?``) are IPython's alone and are left out; an
assignment from the shell or a magic keeps its name bound. Shared by reading a notebook file
(``submission``) and a kernel's history (``notebook.cells``). Linear in a line's length: the
patterns are single character classes, repeated, that cannot backtrack.
"""

from __future__ import annotations

import re

# Cell magics whose body is still Python; any other (%%bash, %%writefile) is not.
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")
# IPython-only lines, never Python: an assignment from the shell or a magic (``x = !ls``,
# ``x = %who_ls``), and ``%magic``, ``!shell`` and help (``name?``, ``name??``, ``?name``).
# Each pattern is one character class, repeated: matched in a single pass, no backtracking.
_IDENTIFIER_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_TARGET_REST = re.compile(r"[\w.,\s\[\]()*]*")
_DOTTED_REST = re.compile(r"[\w.]*")


def _dotted_name(text: str, start: int = 0) -> bool:
    """Whether ``text[start:]`` is a name, dots allowed after its first letter (``nn.Dense``)."""
    return text[start : start + 1] in _IDENTIFIER_START and (
        _DOTTED_REST.fullmatch(text, start + 1) is not None
    )


def _shell_assignment(line: str) -> tuple[str, str] | None:
    """``(target, "!" or "%")`` for ``target = !command`` or ``target = %magic``, else None.

    The target is the text before the line's first ``=`` (no ``=`` can be in one): a name,
    then names, dots, commas, brackets, stars and blanks (``a, b[0] = !ls``).
    """
    equals = line.find("=")
    if equals < 0:
        return None
    value = line[equals + 1 :].lstrip()
    if not value.startswith(("!", "%")):
        return None
    target = line[:equals].rstrip()
    name = target.lstrip()
    if name[:1] not in _IDENTIFIER_START or _TARGET_REST.fullmatch(name, 1) is None:
        return None
    return target, value[0]


def _ipython_only(line: str) -> bool:
    """Whether a line is IPython's alone: ``!shell``, ``%magic``, ``?name``, ``name?``,
    ``name()??`` (blanks around it allowed)."""
    text = line.strip()
    if text.startswith(("!", "%")):
        return True
    if text.startswith("?"):
        marks = len(text) - len(text.lstrip("?"))
        return marks <= 2 and _dotted_name(text, marks)
    if text.endswith("?"):
        marks = len(text) - len(text.rstrip("?"))
        name = text[:-marks]
        return marks <= 2 and _dotted_name(name.removesuffix("()"))
    return False


def python_line(line: str) -> str | None:
    """A notebook line as Python; None for an IPython-only line, left out. An assignment from
    the shell or a magic keeps its names bound (``files = !ls`` becomes ``files = []``,
    IPython's list of output lines, empty; ``x = %magic`` ``x = None``), so that the cells
    after it still run. Linear in the line's length, whatever it holds."""
    if "!" not in line and "%" not in line and "?" not in line:
        return line  # nothing IPython could mean: most lines, at the speed of ``in``
    assignment = _shell_assignment(line)
    if assignment is not None:
        return f"{assignment[0]} = {'[]' if assignment[1] == '!' else 'None'}"
    return None if _ipython_only(line) else line
