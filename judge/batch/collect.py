"""From a source to students: a folder of files, a folder of folders, or a .zip of either.

Each student becomes one ``Entry``: the file to grade, or the reason there is none (no file, two
candidates, an unreadable file), which then becomes that student's ``judge_error``. A zip is
unpacked into a scratch folder first; nothing in it can land outside that folder.

Collecting runs before anyone is graded, so it parses as little as it can: a student's one file
is read and hashed, never parsed (its code is parsed by its own grading, in the pool, while
others are graded). Only a folder with several candidate files has them parsed, by the rule
that every place shares (``judge.candidates``: the file that defines the entry point, a pick
among several), within that rule's budget per student.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..candidates import (
    DEFAULT_PICK,
    MAX_CHOICE_BYTES,
    MAX_CHOICE_CODE,
    MAX_FILES_PER_FOLDER,
    Pick,
    choose,
    is_junk,
    note_diagnostic,
)
from ..constants import submission_suffix
from ..errors import SubmissionNotFound, UsageError
from ..result import Diagnostic
from ..submission import MAX_SOURCE_BYTES, max_bytes, read_bytes
from ..untrusted import clean_text

# The rule's limits, named here too: what a folder of a class may hold and cost.
__all__ = [
    "MAX_CHOICE_BYTES",
    "MAX_CHOICE_CODE",
    "MAX_FILES_PER_FOLDER",
    "Collected",
    "Entry",
    "as_text",
    "collect",
    "normalized_hash",
]


@dataclass(frozen=True)
class Entry:
    """One student's submission as found in the source.

    ``issue`` is a ``(code, message)`` pair when there is nothing gradable (no file, two
    candidates, an unreadable file); the student then gets a ``judge_error`` saying so.
    ``sha256`` is the file's bytes' hash. (The hash of its code with comments and layout set
    aside, ``normalized_hash``, is taken by the student's grading: it parses the code.)
    ``display`` is the instructor's name for it (the source's path); the student's own name
    for it is ``judge.candidates.student_name(display, student)``.
    """

    student: str
    display: str
    path: Path | None = None
    sha256: str = ""
    issue: tuple[str, str] | None = None
    # The warning the student's report carries when a pick chose this file among several.
    note: Diagnostic | None = None


@dataclass(frozen=True)
class Collected:
    """The entries of a source, and the names found there that are no submission at all."""

    entries: list[Entry]
    skipped: list[str] = field(default_factory=list)


def collect(
    source: Path,
    entry_point: str | tuple[str, ...],
    scratch: Path,
    exclude: Path | None = None,
    pick: Pick = DEFAULT_PICK,
) -> Collected:
    """Every student in ``source`` with the file to grade, or the reason there is none.

    Args:
        source: a folder of files (student id: the file's stem), a folder of folders (id: the
            folder's name; the file inside that defines ``entry_point``), or a .zip of either.
        entry_point: the function the problem asks for, to pick a folder's file; or an
            assignment's functions (the file that defines any of them).
        scratch: where a zip is unpacked; must outlive the grading.
        exclude: a folder inside ``source`` that is not a student (the output folder).
        pick: how a folder's file is picked among several (``judge.candidates``).

    Raises:
        UsageError: the source is missing, or is neither a folder nor a readable zip.
    """
    shown = str(source)
    wanted = (entry_point,) if isinstance(entry_point, str) else entry_point
    how = _How(wanted, pick)
    if source.is_dir():
        try:
            return _collect_folder(source, shown, how, {}, exclude)
        except OSError as exc:
            raise UsageError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    if source.suffix.lower() != ".zip":
        raise UsageError(f"{source}: expected a folder of submissions or a .zip of one")
    broken = _extract(source, scratch)
    root = _unwrap(scratch, source.stem)
    if root != scratch:
        shown = f"{shown}/{root.name}"
    return _collect_folder(root, shown, how, broken)


def normalized_hash(source: str) -> str | None:
    """A hash of the code that ignores comments, blank lines and layout; None if there is none.

    Parsable code is compared by its syntax tree (``ast.dump``), so reformatting or recommenting
    a file does not make it different; code that does not parse falls back to its lines without
    comments and trailing whitespace. Empty code has no hash: two empty notebooks are not a
    finding. Linear in the code's size: a source over MAX_SOURCE_BYTES (no file read has one)
    is hashed by its lines, never parsed.
    """
    try:
        if len(source) > MAX_SOURCE_BYTES:
            raise ValueError("not parsed: over the size limit")
        tree = ast.parse(source)
        if not tree.body:
            return None
        text = "ast:" + ast.dump(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        lines = [line.partition("#")[0].rstrip() for line in source.splitlines()]
        kept = [line for line in lines if line.strip()]
        if not kept:
            return None
        text = "text:" + "\n".join(kept)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- a folder's students -----------------------------------------------------------------------


@dataclass(frozen=True)
class _How:
    """What picks a folder's file: the functions wanted, and the instructor's ``--pick``."""

    wanted: tuple[str, ...]
    pick: Pick


def _collect_folder(
    root: Path,
    shown: str,
    how: _How,
    broken: dict[Path, str],
    exclude: Path | None = None,
) -> Collected:
    found, skipped = _students(root, exclude)
    entries = []
    for student, paths in sorted(found.items()):
        display = f"{shown}/{as_text(paths[0].name)}"
        if len(paths) > 1:  # two entries, one id: not a pick among a folder's files
            names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in paths)
            message = f"{shown}/{student}: several submissions under one name ({names}); keep one"
            entries.append(
                Entry(student, f"{shown}/{student}", issue=("ambiguous_submission", message))
            )
            continue
        if _leaves(paths[0], root):
            message = f"{display}: a link out of the submitted folder; submit the file itself"
            entries.append(Entry(student, display, issue=("unreadable_submission", message)))
            continue
        try:
            if paths[0].is_dir():
                entries.append(
                    _from_folder(student, paths[0], display, how.wanted, broken, how.pick)
                )
            else:
                entries.append(_from_file(student, paths[0], display, broken))
        except OSError as exc:  # a folder that cannot be listed: this student's, not the batch's
            entries.append(_unreadable(student, display, exc, paths[0]))
    return Collected(entries, skipped)


def as_text(name: str) -> str:
    """A file name as text every file, terminal and spreadsheet takes: bytes that are not UTF-8
    (kept by Python as lone surrogates) become ``\\xff``; control characters become escapes."""
    return clean_text(os.fsencode(name).decode("utf-8", "backslashreplace"), 300)


def _leaves(path: Path, root: Path) -> bool:
    """Whether ``path`` is a link to somewhere outside ``root``: the judge's own process would
    read it (a classmate's file, the reference, a secret)."""
    if not path.is_symlink() or not path.exists():  # a dangling link: "no such file" later
        return False
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def _students(root: Path, exclude: Path | None) -> tuple[dict[str, list[Path]], list[str]]:
    """Each student id with what the folder holds under it, and the names that are no student."""
    found: dict[str, list[Path]] = {}
    skipped: list[str] = []
    for child in sorted(root.iterdir()):
        if is_junk(child.name) or (exclude is not None and child.resolve() == exclude):
            continue
        if child.is_dir():
            student = as_text(child.name)
        elif submission_suffix(child) is not None:  # a dangling link too: reported, not skipped
            student = as_text(child.stem)
        else:
            skipped.append(child.name)
            continue
        found.setdefault(student, []).append(child)
    return found, skipped


def _unreadable(student: str, display: str, exc: Exception, path: Path) -> Entry:
    reason = str(exc).replace(str(path), display)
    return Entry(student, display, issue=("unreadable_submission", reason))


def _from_file(student: str, path: Path, display: str, broken: dict[Path, str]) -> Entry:
    """The file's entry: read (at most its size limit, never through a link) and hashed, not
    parsed, so that collecting a class costs its bytes' hashing and no more."""
    if path in broken:
        reason = f"{display}: {broken[path]}"
        return Entry(student, display, issue=("unreadable_submission", reason))
    try:
        data = read_bytes(path)
    except (SubmissionNotFound, OSError) as exc:
        return _unreadable(student, display, exc, path)
    return Entry(student, display, path, hashlib.sha256(data).hexdigest())


def _from_folder(
    student: str,
    folder: Path,
    display: str,
    wanted: tuple[str, ...],
    broken: dict[Path, str],
    pick: Pick,
) -> Entry:
    """The folder's file by the one rule of ``judge.candidates``; else an issue. A pick among
    several files leaves its note on the entry, for the student's report."""
    choice = choose(folder, wanted, pick, broken)
    if choice.path is None:
        assert choice.issue is not None
        code, message = choice.issue
        return Entry(student, display, issue=(code, f"{display}: {message}"))
    entry = _from_file(student, choice.path, f"{display}/{choice.name}", broken)
    if choice.note and entry.issue is None:
        return dataclasses.replace(entry, note=note_diagnostic(choice))
    return entry


# --- a zip -------------------------------------------------------------------------------------


def _member_parts(name: str) -> tuple[str, ...] | None:
    """A zip member's path as safe parts, or None for one that would land outside the folder."""
    posix = PurePosixPath(name.replace("\\", "/"))
    parts = tuple(p for p in posix.parts if p not in ("", "."))
    if posix.is_absolute() or not parts or ".." in parts or ":" in parts[0]:
        return None
    return parts


def _extract(archive: Path, into: Path) -> dict[Path, str]:
    """Unpack the .py and .ipynb files of a zip (and its folders); returns members that failed,
    each with the reason (whoever reports it says which file it is).

    Nothing leaves ``into`` (absolute names, ``..`` and links are skipped) and each file is cut
    at one byte past the judge's size limit, so a zip bomb costs at most that per file and the
    oversized file is still reported as too large.
    """
    broken: dict[Path, str] = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                parts = _member_parts(info.filename)
                if parts is None:
                    continue
                target = into.joinpath(*parts)
                try:
                    _extract_member(zf, info, target)
                except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                    # One bad member (encrypted, corrupt, a name clash) is that student's issue.
                    with contextlib.suppress(OSError):
                        target.touch()
                    broken[target] = f"cannot be unpacked ({exc})"
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
        # A member name that claims UTF-8 and is not: zipfile cannot list the archive at all.
        raise UsageError(f"{archive}: not a readable zip file ({exc})"[:500]) from None
    return broken


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """One member to ``target``: a folder, or a .py/.ipynb file cut past the size limit."""
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if stat.S_ISLNK(info.external_attr >> 16) or submission_suffix(target) is None:
        return
    with zf.open(info) as source, target.open("wb") as sink:
        sink.write(source.read(max_bytes(target) + 1))


def _unwrap(root: Path, stem: str) -> Path:
    """The folder inside a zip that holds the students, when the zip wraps them in one.

    ``zip -r class.zip class/`` puts everything under ``class/``: a single top folder is
    unwrapped when it has the zip's name, or when it holds only folders (a folder of folders).
    """
    children = [c for c in root.iterdir() if not is_junk(c.name)]
    if len(children) != 1 or not children[0].is_dir():
        return root
    inner = children[0]
    inside = [c for c in inner.iterdir() if not is_junk(c.name)]
    if inner.name == stem or (inside and all(c.is_dir() for c in inside)):
        return inner
    return root
