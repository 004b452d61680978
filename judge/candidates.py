"""One rule for a folder holding several candidate files: which one is graded, and why.

A learner's folder (a ``judge batch`` student's folder, Gradescope's ``submission/``, the
folder given to ``judge grade``) may hold helpers, tests, copies. The rule, the same in every
place:

- candidates: the ``.py``/``.ipynb`` files under the folder, at any depth, but none inside a
  hidden folder, ``__MACOSX``, ``__pycache__`` or ``.ipynb_checkpoints``; none at all when there
  are more than MAX_FILES_PER_FOLDER;
- one candidate: it is graded, unread here (its report says what it lacks);
- those that define the entry point (for an assignment, any of its functions) are preferred;
  one of them: it is graded;
- several of them, or several candidates and none defines it: the instructor's ``--pick``
  decides: ``first`` (in name order), ``newest`` (the latest modification time, ties by name)
  or ``error`` (``ambiguous_submission``: nothing is graded). Whenever a pick was applied the
  report carries a note naming the file graded and those that were not.

The default is ``first``, in every place alike. It is deterministic (a zip, a Gradescope upload
or a copy may not keep modification times, so ``newest`` can differ from one machine to the
next), it grades the learner instead of leaving an empty gradebook cell for a harmless extra
copy (the note tells the learner and the instructor which file counted, and the summary counts
the ``ambiguous_submission`` warnings), and it is what Gradescope has always done. An
instructor who wants nothing graded unless it is unambiguous passes ``--pick error``.

Choosing reads learners' files in the judge's own process, before any sandbox, so it is
bounded: all the candidates' bytes within MAX_CHOICE_BYTES and the code of those that name the
entry point within MAX_CHOICE_CODE, else ``ambiguous_submission`` whatever the pick.

Names here are the learner's: relative to their folder (``sub/solution.py``). Where the
instructor's path goes is the caller's business; ``student_name`` and ``relabel`` turn a
report's instructor path into the learner's name (see ``judge.render.feedback``).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from .constants import submission_suffix
from .errors import SubmissionNotFound, UsageError
from .result import Diagnostic, Report, Severity
from .submission import MAX_NOTEBOOK_BYTES, MAX_SOURCE_BYTES, parse_submission, read_bytes

Pick = Literal["first", "newest", "error"]
PICKS: tuple[str, ...] = get_args(Pick)
DEFAULT_PICK: Pick = "first"
PICK_HELP = (
    "when several files qualify (several define the entry point, or several files and none "
    "does): grade the first by name (first, the default), the last modified (newest), or none, "
    "reporting ambiguous_submission (error); a note names the file graded and the others"
)
# Folders that archivers, editors and Python leave behind: never a student, never a submission.
JUNK = ("__MACOSX", "__pycache__", ".ipynb_checkpoints")
MAX_FILES_PER_FOLDER = 100
# What choosing among a folder's files may read (all its candidates' bytes) and parse (the code
# of those that name the entry point): one largest file's worth, whatever the folder holds.
MAX_CHOICE_BYTES = MAX_NOTEBOOK_BYTES
MAX_CHOICE_CODE = MAX_SOURCE_BYTES
# The name a report gives the learner's submission when it is their whole folder (no file).
YOUR_SUBMISSION = "your submission"
# The code of a note that a pick chose among several files, and of a folder with no choice.
AMBIGUOUS = "ambiguous_submission"


@dataclass(frozen=True)
class Choice:
    """What the rule made of a folder: the file to grade, or why there is none.

    ``name`` is the file as the learner knows it (relative to the folder); ``note`` is set when
    a pick chose among several files (``others``: those not graded). ``issue`` is a ``(code,
    message)`` pair when nothing is graded; the message names files as the learner does, and
    the caller says where the folder is.
    """

    path: Path | None = None
    name: str = ""
    note: str = ""
    others: tuple[str, ...] = ()
    issue: tuple[str, str] | None = None


def is_junk(name: str) -> bool:
    """Whether a file or folder name is something left behind, never a submission."""
    return name.startswith(".") or name in JUNK


def find(folder: Path) -> list[Path]:
    """The candidates under ``folder`` in name order (a dangling link too: it is reported as
    unreadable, never silently skipped); [] when it is not a folder."""
    if not folder.is_dir():
        return []
    return sorted(
        (
            p
            for p in folder.rglob("*")
            if submission_suffix(p) is not None
            and not any(is_junk(part) for part in p.relative_to(folder).parts)
            and not p.is_dir()
        ),
        key=lambda p: p.relative_to(folder).parts,
    )


def wanted_words(wanted: tuple[str, ...]) -> str:
    """The entry points as the messages say them: ``f`` or ``f or g``."""
    return " or ".join(wanted)


def choose(
    folder: Path,
    wanted: str | tuple[str, ...],
    pick: Pick = DEFAULT_PICK,
    broken: dict[Path, str] | None = None,
) -> Choice:
    """The file of ``folder`` to grade by the rule above, or the issue that stops it.

    Args:
        folder: the learner's folder.
        wanted: the entry point, or an assignment's (a file defining any of them qualifies).
        pick: ``first``, ``newest`` or ``error``, for several qualifying files.
        broken: files known to be unreadable (a zip member that failed), with the reason.
    """
    wanted = (wanted,) if isinstance(wanted, str) else wanted
    words = wanted_words(wanted)
    candidates = find(folder)
    names = {p: p.relative_to(folder).as_posix() for p in candidates}
    if not candidates:
        return Choice(issue=("no_submission", "no .py or .ipynb file"))
    if len(candidates) > MAX_FILES_PER_FOLDER:
        return Choice(
            issue=(
                AMBIGUOUS,
                f"{len(candidates)} .py/.ipynb files (more than {MAX_FILES_PER_FOLDER}); "
                f"submit the one that defines {words}",
            )
        )
    if len(candidates) == 1:  # graded as it is: its report says what the file lacks
        return Choice(candidates[0], names[candidates[0]])
    defining, unreadable = _defining(candidates, names, wanted, broken or {})
    if defining is None:
        return Choice(issue=(AMBIGUOUS, _over_budget(len(candidates), words)))
    if len(defining) == 1:
        return Choice(defining[0], names[defining[0]])
    if not defining and unreadable:  # the unreadable one may be the file meant
        return Choice(issue=("unreadable_submission", "; ".join(unreadable)))
    return _picked(defining or candidates, names, words, pick, bool(defining))


def in_folder(folder: Path, wanted: str | tuple[str, ...], pick: Pick) -> Choice:
    """``judge grade FOLDER``'s file: the rule's choice, or an error worded for the instructor
    who typed the command. With no entry point to choose by (no ``--problem``), only a folder
    of one file is taken.

    Raises:
        SubmissionNotFound: no file there (exit 2, as for a missing file), or none the rule
            can pick (``--pick error``, a folder too large to choose from, unreadable files).
        UsageError: several files and no entry point to choose by.
    """
    found = find(folder)
    if not wanted and len(found) > 1:
        raise UsageError(
            f"{folder}: {len(found)} .py/.ipynb files; pass --problem to grade the one that "
            "defines its entry point, or give the file"
        )
    choice = choose(folder, wanted, pick) if wanted else Choice(issue=("no_submission", ""))
    if not wanted and found:  # one file, nothing to choose
        choice = Choice(found[0], found[0].relative_to(folder).as_posix())
    if choice.path is not None:
        return choice
    assert choice.issue is not None
    code, message = choice.issue
    if code == "no_submission":
        raise SubmissionNotFound(f"{folder}: is a folder with no .py or .ipynb file in it")
    advice = "; give the file, or --pick first|newest" if code == AMBIGUOUS else ""
    raise SubmissionNotFound(f"{folder}: {message}{advice}")


def _over_budget(count: int, words: str) -> str:
    return (
        f"choosing among its {count} .py/.ipynb files would read more than "
        f"{MAX_CHOICE_BYTES // 2**20} MiB of files or parse more than "
        f"{MAX_CHOICE_CODE // 2**20} MiB of code; keep only the one that defines {words}"
    )


def _picked(
    qualifying: list[Path], names: dict[Path, str], words: str, pick: Pick, defining: bool
) -> Choice:
    """The pick among several qualifying files (all defining ``words``, or none does)."""
    listing = ", ".join(names[p] for p in qualifying)
    if pick == "error":
        what = (
            f"{len(qualifying)} files define {words} ({listing}); keep one"
            if defining
            else f"none of its {len(qualifying)} files defines {words} ({listing})"
        )
        return Choice(issue=(AMBIGUOUS, what))
    chosen = qualifying[0] if pick == "first" else _newest(qualifying)
    others = tuple(names[p] for p in qualifying if p != chosen)
    if defining:
        note = (
            f"{len(qualifying)} submitted files define {words}: graded {names[chosen]}, not "
            f"{', '.join(others)}. Submit only the file to grade."
        )
    else:
        note = f"none of the submitted files ({listing}) defines {words}: graded {names[chosen]}."
    return Choice(chosen, names[chosen], note, others)


def _newest(paths: list[Path]) -> Path:
    """The last modified (the link itself for a link), the first by name among equals."""

    def modified(path: Path) -> int:
        try:
            return path.lstat().st_mtime_ns
        except OSError:
            return -1

    latest = max(modified(p) for p in paths)
    return next(p for p in paths if modified(p) == latest)


def _names_any(source: str, wanted: tuple[str, ...]) -> bool:
    """Whether the code spells any of the names: if not, it cannot define one. Python reads
    names as NFKC (``ｆ`` is ``f``), so non-ASCII code is looked at that way too."""
    if any(name in source for name in wanted):
        return True
    if source.isascii():
        return False
    normal = unicodedata.normalize("NFKC", source)
    return any(name in normal for name in wanted)


def _defining(
    candidates: list[Path], names: dict[Path, str], wanted: tuple[str, ...], broken: dict[Path, str]
) -> tuple[list[Path] | None, list[str]]:
    """The candidates that define the entry point, and why each unreadable one is; None
    when choosing would read more than MAX_CHOICE_BYTES or parse more than MAX_CHOICE_CODE.

    A folder may cost no more than one largest file: every candidate is read (a notebook's
    JSON decoded), but only those whose code names the entry point are parsed.
    """
    defining: list[Path] = []
    unreadable: list[str] = []
    read_left, parse_left = MAX_CHOICE_BYTES, MAX_CHOICE_CODE
    for path in candidates:
        if path in broken:
            unreadable.append(f"{names[path]}: {broken[path]}")
            continue
        try:
            data = read_bytes(path)
            read_left -= len(data)
            if read_left < 0:
                return None, unreadable
            submission = parse_submission(path, data)
        except SubmissionNotFound as exc:
            unreadable.append(str(exc).replace(str(path), names[path]))
            continue
        if not _names_any(submission.source, wanted):
            continue
        parse_left -= len(submission.source)
        if parse_left < 0:
            return None, unreadable
        if any(name in submission.defined_names() for name in wanted):
            defining.append(path)
    return defining, unreadable


# --- the report's side -------------------------------------------------------------------------


def note_diagnostic(choice: Choice) -> Diagnostic:
    """The warning a report carries when a pick chose among several files: the learner's
    words, naming the file graded and the others, so it reads the same in every place."""
    return Diagnostic(
        AMBIGUOUS,
        Severity.WARNING,
        choice.note,
        "",
        {"graded": choice.name, "not_graded": list(choice.others)},
    )


def relabel(report: Report, real: str, shown: str) -> Report:
    """``report`` naming its submission ``shown`` instead of ``real`` (where it was read: an
    unpacked zip, ``submission/``), in its submission, summary, messages and hints."""
    report.submission = shown
    if real != shown:
        report.diagnostics = [
            dataclasses.replace(
                d, message=d.message.replace(real, shown), hint=d.hint.replace(real, shown)
            )
            for d in report.diagnostics
        ]
        report.summary = report.summary.replace(real, shown)
    return report


def student_name(display: str, student: str | None) -> str:
    """The submission as the student knows it, from the instructor's name for it in a class
    (``class/oscar/sub/solution.py`` -> ``sub/solution.py``; ``class/alice.py`` -> ``alice.py``).

    A folder student's id is their folder's name, so what follows the last path part equal to
    the id is theirs; a file student's is the file's stem, so their name is the last part. The
    last such part, not the first: the class folder's own path may hold the id (never shown),
    while a folder of theirs named like them only shortens the name. A display that is the
    student's folder itself (nothing graded) is ``YOUR_SUBMISSION``. Without an id, the display
    is the learner's own path (``judge grade``), shown as it is.
    """
    if student is None:
        return display
    parts = display.split("/")
    if parts[-1] == student:
        return YOUR_SUBMISSION
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] == student:
            return "/".join(parts[index + 1 :])
    return parts[-1]


def student_view(report: Report, student: str | None) -> Report:
    """A copy of ``report`` as its learner may read it: the submission by their name for it
    (the class's path left out) and each hint as stored (hints are the learner's advice; the
    instructor's is kept in a diagnostic's evidence, ``instructor_hint``)."""
    shown = student_name(report.submission, student)
    copy = dataclasses.replace(report, diagnostics=list(report.diagnostics))
    return relabel(copy, report.submission, shown)
