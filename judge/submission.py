"""Finding and reading a learner's file: Python source or a Jupyter notebook.

Nothing here runs the learner's code. A notebook becomes a Python file of its code cells in
order, with IPython lines (``!pip ...``, ``%matplotlib``) and cell-magic cells left out.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .constants import submission_suffix
from .errors import SubmissionNotFound
from .untrusted import clean_text

MAX_SOURCE_BYTES = 2 * 1024 * 1024
# A notebook is mostly its saved outputs (a plot is megabytes): the file may be this large, and
# its code cells, once read, MAX_SOURCE_BYTES.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
# Cell magics whose body is still Python; any other (%%bash, %%writefile) is not.
_PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")
_CELL_MARK = re.compile(r"^# --- notebook cell (\d+) ---$")
# IPython-only lines, never Python: an assignment from the shell or a magic (``x = !ls``,
# ``x = %who_ls``), and ``%magic``, ``!shell`` and help (``name?``, ``name??``, ``?name``).
_IPYTHON_ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_][\w.,\s\[\]()*]*?)\s*=\s*([!%])")
_IPYTHON_LINE = re.compile(
    r"^\s*(?:[!%]|\?{1,2}[A-Za-z_][\w.]*\s*$|[A-Za-z_][\w.]*(?:\(\))?\?{1,2}\s*$)"
)


def python_line(line: str) -> str | None:
    """A notebook line as Python; None for an IPython-only line, left out. An assignment from
    the shell or a magic keeps its names bound (``files = !ls`` becomes ``files = []``,
    IPython's list of output lines, empty; ``x = %magic`` ``x = None``), so that the cells
    after it still run."""
    assignment = _IPYTHON_ASSIGNMENT.match(line)
    if assignment is not None:
        return f"{assignment.group(1)} = {'[]' if assignment.group(2) == '!' else 'None'}"
    return None if _IPYTHON_LINE.match(line) else line


def max_bytes(path: Path) -> int:
    """The largest file of this kind the judge reads."""
    return MAX_NOTEBOOK_BYTES if submission_suffix(path) == ".ipynb" else MAX_SOURCE_BYTES


@dataclass(frozen=True)
class Submission:
    """A learner's file, read. ``problem`` is set when it cannot be graded as code at all:
    a ``(code, message)`` pair (``notebook_invalid``, ``no_code``) that becomes its verdict."""

    path: Path
    display: str
    kind: str
    source: str
    problem: tuple[str, str] | None = None

    @property
    def module_filename(self) -> str:
        """The file name the worker loads, and the one its tracebacks show."""
        # ``.py`` in lower case: ``Alice.PY`` is loaded as ``Alice.py``.
        name = f"{self.path.stem}.py" if self.kind == "py" else f"{self.path.stem}_ipynb.py"
        # A name that is not UTF-8 (or holds control characters) would reach every message.
        return name if name.isprintable() else "submission.py"

    def cell_of_line(self, line: int | None) -> tuple[int, int] | None:
        """For a notebook, ``(cell, line within that cell)`` of a converted-source line."""
        if self.kind != "ipynb" or not line:
            return None
        found = None
        for number, text in enumerate(self.source.splitlines()[:line], start=1):
            match = _CELL_MARK.match(text)
            if match:
                found = (int(match.group(1)), number)
        return (found[0], line - found[1]) if found else None

    def defined_names(self) -> list[str]:
        """Names of the top-level functions (and assigned names) the source defines.

        Falls back to a textual search when the source does not parse, so that a file with a
        syntax error can still be matched to its problem and given a compile_error.
        """
        try:
            tree = ast.parse(self.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return re.findall(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)", self.source, re.M)
        names = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        return names


def notebook_source(text: str) -> tuple[str | None, str | None]:
    """The Python source of a notebook's code cells, or ``(None, reason)`` if it is not one."""
    try:
        notebook = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        return None, f"not valid JSON ({exc})" if not isinstance(
            exc, RecursionError
        ) else "not valid JSON (nested too deeply)"
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return None, "no 'cells' list: not a Jupyter notebook"
    chunks = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        body = cell.get("source", "")
        if isinstance(body, list) and all(isinstance(s, str) for s in body):
            body = "".join(body)
        if not isinstance(body, str):
            return None, f"cell {number}: 'source' is neither text nor a list of lines"
        lines = body.splitlines()
        first = lines[0].strip() if lines else ""
        if first.startswith("%%") and not first.startswith(_PYTHON_CELL_MAGICS):
            continue
        # IPython-only lines dropped (a cell's lines are numbered from its marker anyway).
        kept = [python for python in map(python_line, lines) if python is not None]
        if any(line.strip() for line in kept):
            chunks.append(f"# --- notebook cell {number} ---\n" + "\n".join(kept))
    return "\n\n".join(chunks) + "\n" if chunks else "", None


def _as_text(name: str) -> str:
    """A path as text every file and terminal takes: bytes that are not UTF-8 (kept by Python
    as lone surrogates) become ``\\xff``, control characters visible escapes."""
    return clean_text(os.fsencode(name).decode("utf-8", "backslashreplace"), 1000)


def _read_no_follow(path: Path, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of a regular file, never through a link (a link swapped in
    after the check above fails with ELOOP)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_submission(path: str | Path) -> Submission:
    """Read a ``.py`` or ``.ipynb`` file. Raises SubmissionNotFound if it cannot be read."""
    given = _as_text(str(path))
    path = Path(path)
    if not path.exists():
        raise SubmissionNotFound(f"{given}: no such file")
    if path.is_dir():
        raise SubmissionNotFound(f"{given}: is a folder; give the .py or .ipynb file inside it")
    if submission_suffix(path) is None:
        raise SubmissionNotFound(f"{given}: expected a .py or .ipynb file")
    if path.is_symlink():
        # The judge's own process reads it: a link could show it the reference or a secret.
        raise SubmissionNotFound(f"{given}: is a symbolic link; submit the file itself")
    limit = max_bytes(path)
    try:
        data = _read_no_follow(path, limit)
    except OSError as exc:
        raise SubmissionNotFound(f"{given}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise SubmissionNotFound(f"{given}: larger than {limit // 1024} KiB")
    # utf-8-sig: editors such as Notepad save a byte-order mark that compile() would reject.
    text = data.decode("utf-8-sig", errors="replace")
    if submission_suffix(path) == ".py":
        return Submission(path, given, "py", text)
    source, reason = notebook_source(text)
    if source is None:
        return Submission(path, given, "ipynb", "", ("notebook_invalid", reason or "invalid"))
    if not source.strip():
        return Submission(
            path,
            given,
            "ipynb",
            "",
            ("no_code", "the notebook has no code cells with Python in them"),
        )
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise SubmissionNotFound(
            f"{given}: its code cells are larger than {MAX_SOURCE_BYTES // 1024} KiB"
        )
    return Submission(path, given, "ipynb", source)
