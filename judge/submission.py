"""Finding and reading a learner's file: Python source or a Jupyter notebook.

Nothing here runs the learner's code. A notebook becomes a Python file of its code cells in
order, with IPython lines (``!pip ...``, ``%matplotlib``) and cell-magic cells left out.

Everything here reads text a learner wrote, in the judge's own process, so every reading is
linear in the text's length and bounded by the size limits below: lines are read with string
methods and single-class patterns that cannot backtrack (a regular expression with nested
quantifiers took 74 s on one line of ``x`` and 300,000 blanks), and conversion stops as soon
as a notebook's code is known to be over the limit.
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

from .constants import MAX_SOURCE_BYTES, submission_suffix
from .errors import SubmissionNotFound
from .ipython_lines import PYTHON_CELL_MAGICS, python_line
from .untrusted import clean_text

# A notebook is mostly its saved outputs (a plot is megabytes): the file may be this large, and
# its code cells, once read, MAX_SOURCE_BYTES.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
_MARK_HEAD, _MARK_TAIL = "# --- notebook cell ", " ---"
# A marker's number has at most this many digits, more than any notebook the judge reads has
# cells: a longer "number" is the learner's text, not a marker (and int() refuses over 4300).
_MARK_DIGITS = 9
_TOO_LARGE = f"its code cells are larger than {MAX_SOURCE_BYTES // 1024} KiB"
# ``def name`` at the start of a line, for a file that does not parse. Linear: the blanks
# before ``def`` stay on their line (``\s*`` there crossed lines, and every line start of a
# run of blank lines rescanned the rest of the run), and each repeated class is followed by
# a character it cannot match, so no repetition is ever retried.
_DEF_NAME = re.compile(r"^[^\S\n]*(?:async\s+)?def\s+([A-Za-z_]\w*)", re.MULTILINE)


def _cell_number(line: str) -> int | None:
    """The number of a ``# --- notebook cell N ---`` marker line; None for any other line."""
    if not (line.startswith(_MARK_HEAD) and line.endswith(_MARK_TAIL)):
        return None
    digits = line[len(_MARK_HEAD) : len(line) - len(_MARK_TAIL)]
    return int(digits) if digits.isdecimal() and len(digits) <= _MARK_DIGITS else None


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
            cell = _cell_number(text)
            if cell is not None:
                found = (cell, number)
        return (found[0], line - found[1]) if found else None

    def defined_names(self) -> list[str]:
        """Names of the top-level functions (and assigned names) the source defines.

        Falls back to a textual search when the source does not parse, so that a file with a
        syntax error can still be matched to its problem and given a compile_error. A source
        over the size limit (made by hand, never read from a file) is only searched: parsing
        costs time and memory in proportion to its size.
        """
        if len(self.source) > MAX_SOURCE_BYTES:
            return _DEF_NAME.findall(self.source)
        try:
            tree = ast.parse(self.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return _DEF_NAME.findall(self.source)
        names = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        return names


def _foreign_magic(lines: list[str]) -> bool:
    """Whether a cell is under a cell magic whose body is not Python (``%%bash``)."""
    first = lines[0].strip() if lines else ""
    return first.startswith("%%") and not first.startswith(PYTHON_CELL_MAGICS)


def _code_chunks(cells: list[object]) -> tuple[list[str] | None, str | None]:
    """Each code cell with Python in it, as its marker line and its lines; or None and why.

    The judge's own statements (``import judge``, a ``judge.check(...)`` cell) are blanked,
    as ``judge.check`` leaves them out of a kernel's cells: in a notebook graded as a file they
    would check again, in a worker where no kernel runs. Blanked, not removed: every line keeps
    its number, so a report names the line of the notebook's cell.
    """
    found, reason = _python_cells(cells)
    if found is None:
        return None, reason
    from .notebook.cells import without_judges

    texts = without_judges([text for _, text in found])
    if not any(text.strip() for text in texts):
        return [], None  # only the judge's lines: no code to grade
    numbers = [number for number, _ in found]
    return [f"{_MARK_HEAD}{n}{_MARK_TAIL}\n{t}" for n, t in zip(numbers, texts, strict=True)], None


def _python_cells(cells: list[object]) -> tuple[list[tuple[int, str]] | None, str | None]:
    """Each code cell with Python in it, as its number and its text; or None and why.

    Bounded: it stops at the cell that takes the source past MAX_SOURCE_BYTES, and reads at
    most that many lines of Python cells in all (a kept line costs at least its newline; a
    left-out one costs nothing in the source, so lines are counted as well).
    """
    chunks: list[tuple[int, str]] = []
    size, lines_left = 0, MAX_SOURCE_BYTES
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        body = cell.get("source", "")
        if isinstance(body, list) and all(isinstance(s, str) for s in body):
            body = "".join(body)
        if not isinstance(body, str):
            return None, f"cell {number}: 'source' is neither text nor a list of lines"
        lines = body.splitlines()
        if _foreign_magic(lines):
            continue
        lines_left -= len(lines)
        if lines_left < 0:
            return None, _TOO_LARGE
        kept = [python for python in map(python_line, lines) if python is not None]
        if not any(line.strip() for line in kept):
            continue
        chunks.append((number, "\n".join(kept)))
        # The source's size so far: its chunks (a marker line each), the blank lines between
        # them, the last newline.
        marker = len(f"{_MARK_HEAD}{number}{_MARK_TAIL}\n")
        size += marker + len(chunks[-1][1].encode("utf-8", "surrogatepass")) + 2
        if size - 1 > MAX_SOURCE_BYTES:
            return None, _TOO_LARGE
    return chunks, None


def notebook_source(text: str) -> tuple[str | None, str | None]:
    """The Python source of a notebook's code cells, or ``(None, reason)`` if it is not one,
    or if its code is larger than MAX_SOURCE_BYTES (read no further than needed to know)."""
    if len(text) > MAX_NOTEBOOK_BYTES:
        return None, f"larger than {MAX_NOTEBOOK_BYTES // 1024} KiB"
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc})"
    except RecursionError:
        return None, "not valid JSON (nested too deeply)"
    except MemoryError:
        return None, "too many JSON values to read"
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return None, "no 'cells' list: not a Jupyter notebook"
    chunks, reason = _code_chunks(cells)
    if chunks is None:
        return None, reason
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


def read_bytes(path: str | Path) -> bytes:
    """A ``.py`` or ``.ipynb`` file's bytes, read as ``read_submission`` reads them, and
    nothing parsed: what ``judge batch`` hashes before grading anyone.

    Raises SubmissionNotFound if it cannot be read, is not such a file, is a link, or is
    larger than ``max_bytes``.
    """
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
    return data


def read_submission(path: str | Path) -> Submission:
    """Read a ``.py`` or ``.ipynb`` file. Raises SubmissionNotFound if it cannot be read, or
    if a notebook's code cells are larger than MAX_SOURCE_BYTES."""
    return parse_submission(path, read_bytes(path))


def parse_submission(path: str | Path, data: bytes) -> Submission:
    """The submission that ``data``, ``read_bytes(path)``, holds: a ``.py`` file's text, or a
    notebook's code cells. Raises SubmissionNotFound if those are larger than MAX_SOURCE_BYTES.
    """
    given, path = _as_text(str(path)), Path(path)
    # utf-8-sig: editors such as Notepad save a byte-order mark that compile() would reject.
    text = data.decode("utf-8-sig", errors="replace")
    if submission_suffix(path) == ".py":
        return Submission(path, given, "py", text)
    source, reason = notebook_source(text)
    if reason == _TOO_LARGE:
        raise SubmissionNotFound(f"{given}: {reason}")
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
    return Submission(path, given, "ipynb", source)
