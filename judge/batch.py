"""Grading a class: many submissions to one problem, results that survive any interruption.

A source (a folder of files, a folder of folders, or a .zip of either) becomes one entry per
student; each is graded by ``grade()`` on a thread pool. Threads are enough: the learner's code
already runs in worker processes that ``grade()`` starts, and the reference's results, kept in
this process, are then shared by every job instead of recomputed per student.

The output folder::

    reports.jsonl        one judge.report/1 object per line, plus a "batch" key (the truth)
    gradebook.csv        one row per student, rewritten atomically after each result
    feedback/<id>.md     what the learner would see
    summary.html         verdicts, pitfalls, scores, slowest, identical submissions

Only the main thread writes. Each result is appended to ``reports.jsonl`` and fsynced as it
finishes, so a run killed at any moment (``kill -9`` included) loses no finished result; a torn
last line is ignored and that student graded again. A rerun skips the students whose record was
made from the same file content, problem name and version, judge version and grading options;
``judge_error`` results are retried. Everything else in the folder is derived from
``reports.jsonl`` and rewritten at the end of a run, so it is always consistent with it.

A student's trouble (an unreadable file, a folder with two candidate files, a grading that
crashed) is that student's ``judge_error``, never the batch's end.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import signal
import stat
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import BackendUnavailable, ProblemError, SubmissionNotFound, UsageError
from .grade import GradeOptions, grade, judge_version, unrun_report
from .problem import Problem
from .render import summary as summary_render
from .render import text as text_render
from .result import Diagnostic, Report, Severity, Verdict
from .sandbox import kill_all_workers
from .submission import MAX_SOURCE_BYTES, SUFFIXES, read_submission

GRADEBOOK = "gradebook.csv"
REPORTS = "reports.jsonl"
FEEDBACK = "feedback"
SUMMARY = "summary.html"
COLUMNS = (
    "student",
    "verdict",
    "score",
    "codes",
    "duration_s",
    "sha256",
    "submission",
    "summary",
    "feedback",
    "finished_at",
    "problem",
    "problem_version",
    "judge_version",
)
# Folders that archivers, editors and Python leave behind: never a student, never a submission.
_JUNK = ("__MACOSX", "__pycache__", ".ipynb_checkpoints")
MAX_FILES_PER_FOLDER = 100
# Read once, at import (one thread): mkstemp makes owner-only files, and a gradebook is to share.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_POLL_S = 0.25


# --- students and their files ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One student's submission as found in the source.

    ``issue`` is a ``(code, message)`` pair when there is nothing gradable (no file, two
    candidates, an unreadable file); the student then gets a ``judge_error`` saying so.
    ``normalized`` hashes the code with comments and layout set aside, to find identical ones.
    """

    student: str
    display: str
    path: Path | None = None
    sha256: str = ""
    normalized: str | None = None
    issue: tuple[str, str] | None = None


@dataclass(frozen=True)
class Collected:
    """The entries of a source, and the names found there that are no submission at all."""

    entries: list[Entry]
    skipped: list[str] = field(default_factory=list)


def _junk(name: str) -> bool:
    return name.startswith(".") or name in _JUNK


def normalized_hash(source: str) -> str | None:
    """A hash of the code that ignores comments, blank lines and layout; None if there is none.

    Parsable code is compared by its syntax tree (``ast.dump``), so reformatting or recommenting
    a file does not make it different; code that does not parse falls back to its lines without
    comments and trailing whitespace. Empty code has no hash: two empty notebooks are not a
    finding.
    """
    try:
        tree = ast.parse(source)
        if not tree.body:
            return None
        text = "ast:" + ast.dump(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        lines = [re.sub(r"#.*", "", line).rstrip() for line in source.splitlines()]
        kept = [line for line in lines if line.strip()]
        if not kept:
            return None
        text = "text:" + "\n".join(kept)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _unreadable(student: str, display: str, exc: Exception, path: Path) -> Entry:
    reason = str(exc).replace(str(path), display)
    return Entry(student, display, issue=("unreadable_submission", reason))


def _from_file(student: str, path: Path, display: str, broken: dict[Path, str]) -> Entry:
    if path in broken:
        return Entry(student, display, issue=("unreadable_submission", broken[path]))
    try:
        submission = read_submission(path)
        data = path.read_bytes()
    except (SubmissionNotFound, OSError) as exc:
        return _unreadable(student, display, exc, path)
    return Entry(
        student,
        display,
        path,
        hashlib.sha256(data).hexdigest(),
        normalized_hash(submission.source),
    )


def _from_folder(
    student: str, folder: Path, display: str, entry_point: str, broken: dict[Path, str]
) -> Entry:
    """The folder's file that defines the entry point, else its only file; else an issue."""
    candidates = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in SUFFIXES
        and not any(_junk(part) for part in p.relative_to(folder).parts)
        and not p.is_dir()
    )
    shown = {p: f"{display}/{p.relative_to(folder).as_posix()}" for p in candidates}
    if not candidates:
        return Entry(student, display, issue=("no_submission", f"{display}: no .py or .ipynb file"))
    if len(candidates) > MAX_FILES_PER_FOLDER:
        return Entry(
            student,
            display,
            issue=(
                "ambiguous_submission",
                f"{display}: {len(candidates)} .py/.ipynb files (more than "
                f"{MAX_FILES_PER_FOLDER}); submit the one that defines {entry_point}",
            ),
        )
    defining: list[Path] = []
    unreadable: list[str] = []
    for path in candidates:
        if path in broken:
            unreadable.append(broken[path])
            continue
        try:
            names = read_submission(path).defined_names()
        except SubmissionNotFound as exc:
            unreadable.append(str(exc).replace(str(path), shown[path]))
            continue
        if entry_point in names:
            defining.append(path)
    if len(defining) == 1:
        return _from_file(student, defining[0], shown[defining[0]], broken)
    listing = ", ".join(p.relative_to(folder).as_posix() for p in (defining or candidates))
    if len(defining) > 1:
        message = f"{display}: {len(defining)} files define {entry_point} ({listing}); keep one"
        return Entry(student, display, issue=("ambiguous_submission", message))
    if len(candidates) == 1:  # graded as it is: its report says what the file lacks
        return _from_file(student, candidates[0], shown[candidates[0]], broken)
    if unreadable:
        return Entry(student, display, issue=("unreadable_submission", "; ".join(unreadable)))
    message = f"{display}: none of its {len(candidates)} files defines {entry_point} ({listing})"
    return Entry(student, display, issue=("ambiguous_submission", message))


def _collect_folder(
    root: Path,
    shown: str,
    entry_point: str,
    broken: dict[Path, str],
    exclude: Path | None = None,
) -> Collected:
    found: dict[str, list[Path]] = {}
    skipped: list[str] = []
    for child in sorted(root.iterdir()):
        if _junk(child.name) or (exclude is not None and child.resolve() == exclude):
            continue
        if child.is_dir():
            student = child.name
        elif child.suffix in SUFFIXES:  # a dangling link too: reported, not skipped
            student = child.stem
        else:
            skipped.append(child.name)
            continue
        found.setdefault(student, []).append(child)
    entries = []
    for student, paths in sorted(found.items()):
        display = f"{shown}/{paths[0].name}"
        if len(paths) > 1:
            names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in paths)
            message = f"{shown}: {student} has several submissions ({names}); keep one"
            entries.append(
                Entry(student, f"{shown}/{student}", issue=("ambiguous_submission", message))
            )
            continue
        try:
            if paths[0].is_dir():
                entries.append(_from_folder(student, paths[0], display, entry_point, broken))
            else:
                entries.append(_from_file(student, paths[0], display, broken))
        except OSError as exc:  # a folder that cannot be listed: this student's, not the batch's
            entries.append(_unreadable(student, display, exc, paths[0]))
    return Collected(entries, skipped)


def _member_parts(name: str) -> tuple[str, ...] | None:
    """A zip member's path as safe parts, or None for one that would land outside the folder."""
    posix = PurePosixPath(name.replace("\\", "/"))
    parts = tuple(p for p in posix.parts if p not in ("", "."))
    if posix.is_absolute() or not parts or ".." in parts or ":" in parts[0]:
        return None
    return parts


def _extract(archive: Path, into: Path) -> dict[Path, str]:
    """Unpack the .py and .ipynb files of a zip (and its folders); returns members that failed.

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
                    if info.is_dir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if stat.S_ISLNK(info.external_attr >> 16) or target.suffix not in SUFFIXES:
                        continue
                    with zf.open(info) as source, target.open("wb") as sink:
                        sink.write(source.read(MAX_SOURCE_BYTES + 1))
                except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                    # One bad member (encrypted, corrupt, a name clash) is that student's issue.
                    with contextlib.suppress(OSError):
                        target.touch()
                    broken[target] = f"{archive}/{'/'.join(parts)}: cannot be unpacked ({exc})"
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"{archive}: not a readable zip file ({exc})") from None
    return broken


def _unwrap(root: Path, stem: str) -> Path:
    """The folder inside a zip that holds the students, when the zip wraps them in one.

    ``zip -r class.zip class/`` puts everything under ``class/``: a single top folder is
    unwrapped when it has the zip's name, or when it holds only folders (a folder of folders).
    """
    children = [c for c in root.iterdir() if not _junk(c.name)]
    if len(children) != 1 or not children[0].is_dir():
        return root
    inner = children[0]
    inside = [c for c in inner.iterdir() if not _junk(c.name)]
    if inner.name == stem or (inside and all(c.is_dir() for c in inside)):
        return inner
    return root


def collect(
    source: Path, entry_point: str, scratch: Path, exclude: Path | None = None
) -> Collected:
    """Every student in ``source`` with the file to grade, or the reason there is none.

    Args:
        source: a folder of files (student id: the file's stem), a folder of folders (id: the
            folder's name; the file inside that defines ``entry_point``), or a .zip of either.
        entry_point: the function the problem asks for, to pick a folder's file.
        scratch: where a zip is unpacked; must outlive the grading.
        exclude: a folder inside ``source`` that is not a student (the output folder).

    Raises:
        UsageError: the source is missing, or is neither a folder nor a readable zip.
    """
    shown = str(source)
    if source.is_dir():
        try:
            return _collect_folder(source, shown, entry_point, {}, exclude)
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
    return _collect_folder(root, shown, entry_point, broken)


# --- shards ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based, like array job indices)."""

    index: int
    count: int

    def __contains__(self, student: object) -> bool:
        return isinstance(student, str) and shard_of(student, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(student: str, count: int) -> int:
    """The shard a student belongs to: a stable hash of the id, never the listing order.

    The same id lands in the same shard on every machine, whatever else the source holds, so
    shards graded apart never overlap and never miss anyone.
    """
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str) -> Shard:
    """``"I/N"`` with 0 <= I < N; a UsageError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise UsageError(f"--shard {text!r}: expected I/N, such as 0/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise UsageError(f"--shard {text}: I must be between 0 and N-1 (N >= 1)")
    return Shard(index, count)


# --- records -----------------------------------------------------------------------------------


# Options that change where things are, not what a grading finds: they never block a reuse.
_NOT_IN_KEY = ("hide",)


def options_key(options: GradeOptions) -> str:
    """A short hash of the grading options: results made with other options are not reused."""
    values = {k: v for k, v in dataclasses.asdict(options).items() if k not in _NOT_IN_KEY}
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def feedback_name(student: str) -> str:
    """A file name for a student's feedback, safe on every file system.

    Ids that are not already plain lower-case names get a hash of the id appended, so two ids
    never share a file (``Alice`` and ``alice`` on a case-insensitive disk, ``a b`` and ``a_b``).
    """
    safe = re.sub(r"[^a-z0-9._-]+", "_", student.lower()).strip("._-")[:80]
    reserved = safe.split(".")[0] in {"con", "prn", "aux", "nul", "com1", "lpt1"}
    if safe != student or reserved or not safe:
        digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        safe = f"{safe}-{digest}" if safe else digest
    return f"{safe}.md"


@dataclass
class Record:
    """One student's result as stored: the report (``judge.report/1``) and the batch's facts."""

    student: str
    report: dict[str, Any]
    sha256: str
    normalized: str | None
    problem_version: str
    judge_version: str
    options: str
    finished_at: str
    duration_s: float

    @property
    def verdict(self) -> str:
        return str(self.report.get("verdict", ""))

    @property
    def problem(self) -> str:
        return str(self.report.get("problem", ""))

    @property
    def score(self) -> float:
        return float(self.report.get("score") or 0.0)

    @property
    def codes(self) -> list[str]:
        return [str(d.get("code")) for d in self.report.get("diagnostics") or []]

    @property
    def feedback(self) -> str:
        return f"{FEEDBACK}/{feedback_name(self.student)}"

    def to_json(self) -> str:
        facts = {
            "student": self.student,
            "sha256": self.sha256,
            "normalized_sha256": self.normalized,
            "problem_version": self.problem_version,
            "judge_version": self.judge_version,
            "options": self.options,
            "finished_at": self.finished_at,
            "duration_s": round(self.duration_s, 4),
            "feedback": self.feedback,
        }
        return json.dumps({**self.report, "batch": facts}, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, line: str | bytes) -> Record | None:
        """The record on a line, or None for a torn or foreign line."""
        try:
            data = json.loads(line)
            facts = data.pop("batch")
            Verdict(data["verdict"])
            return cls(
                student=str(facts["student"]),
                report=data,
                sha256=str(facts.get("sha256") or ""),
                normalized=facts.get("normalized_sha256"),
                problem_version=str(facts.get("problem_version") or ""),
                judge_version=str(facts.get("judge_version") or ""),
                options=str(facts.get("options") or ""),
                finished_at=str(facts.get("finished_at") or ""),
                duration_s=float(facts.get("duration_s") or 0.0),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def gradebook_row(self) -> dict[str, str]:
        return {
            "student": self.student,
            "verdict": self.verdict,
            "score": f"{self.score:g}",
            "codes": " ".join(self.codes),
            "duration_s": f"{self.duration_s:.2f}",
            "sha256": self.sha256,
            "submission": str(self.report.get("submission", "")),
            "summary": str(self.report.get("summary", "")),
            "feedback": self.feedback,
            "finished_at": self.finished_at,
            "problem": self.problem,
            "problem_version": self.problem_version,
            "judge_version": self.judge_version,
        }

    def summary_row(self) -> summary_render.Row:
        pitfalls = [
            str(d.get("code"))
            for d in self.report.get("diagnostics") or []
            if d.get("severity") in ("error", "warning")
        ]
        return summary_render.Row(
            student=self.student,
            verdict=self.verdict,
            score=self.score,
            duration_s=self.duration_s,
            codes=tuple(dict.fromkeys(pitfalls)),
            root_cause=pitfalls[0] if pitfalls else None,
            summary=str(self.report.get("summary", "")),
            feedback=self.feedback,
        )


def read_records(path: Path) -> tuple[list[Record], int]:
    """The records of a ``reports.jsonl`` in file order, and how many lines were unreadable.

    A run killed while writing leaves a torn last line: it is skipped (and so that student is
    graded again), never fatal.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    records, bad = [], 0
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        record = Record.from_json(raw)
        if record is None:
            bad += 1
        else:
            records.append(record)
    return records, bad


def latest(records: Iterable[Record]) -> dict[str, Record]:
    """One record per student: the newest (ties: the later one)."""
    kept: dict[str, Record] = {}
    for record in records:
        old = kept.get(record.student)
        if old is None or record.finished_at >= old.finished_at:
            kept[record.student] = record
    return kept


def identical_groups(records: Iterable[Record]) -> list[list[str]]:
    """Students whose code is the same once normalised, in groups of two or more."""
    by_hash: dict[str, list[str]] = {}
    for record in records:
        if record.normalized:
            by_hash.setdefault(record.normalized, []).append(record.student)
    groups = [sorted(g) for g in by_hash.values() if len(g) > 1]
    return sorted(groups, key=lambda g: (-len(g), g))


# --- writing -----------------------------------------------------------------------------------


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str, sync: bool = True) -> None:
    """Replace ``path`` with ``text`` so that a reader (or a crash) sees the old or the new.

    ``sync=False`` for files derived from ``reports.jsonl`` and rewritten on every run anyway
    (feedback, the summary): an fsync each costs seconds over a class on a network disk.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(temporary, 0o666 & ~_UMASK)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if sync:
        _fsync_folder(path.parent)


def _csv_cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet; file names are learners'.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def gradebook_text(records: Iterable[Record]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in sorted(records, key=lambda r: r.student):
        writer.writerow({k: _csv_cell(v) for k, v in record.gradebook_row().items()})
    return buffer.getvalue()


def feedback_text(record: Record) -> str:
    """The learner's feedback: the text report in a fenced block under a short heading."""
    body = text_render.render(Report.from_dict(record.report), color=False).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return (
        f"# Feedback: {record.problem}\n\n"
        f"Student: {record.student} · verdict: {record.verdict} · score {record.score:.2f}\n\n"
        f"{fence}text\n{body}\n{fence}\n"
    )


def summary_html(records: Sequence[Record], title: str | None = None) -> str:
    problems = sorted({r.problem for r in records})
    facts = [
        ("problem", ", ".join(problems) or "-"),
        ("problem version", ", ".join(sorted({r.problem_version for r in records})) or "-"),
        ("judge", ", ".join(sorted({r.judge_version for r in records})) or "-"),
        ("written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    return summary_render.render(
        [r.summary_row() for r in sorted(records, key=lambda r: r.student)],
        title=title or f"judge batch: {', '.join(problems) or 'no results'}",
        groups=identical_groups(records),
        facts=facts,
    )


def write_outputs(out: Path, records: Sequence[Record]) -> None:
    """Everything from the records: reports.jsonl compacted, gradebook, feedback, summary."""
    (out / FEEDBACK).mkdir(parents=True, exist_ok=True)
    ordered = sorted(records, key=lambda r: r.student)
    _write_atomic(out / REPORTS, "".join(r.to_json() + "\n" for r in ordered))
    _write_atomic(out / GRADEBOOK, gradebook_text(ordered))
    for record in ordered:
        _write_atomic(out / record.feedback, feedback_text(record), sync=False)
    _write_atomic(out / SUMMARY, summary_html(ordered), sync=False)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


class Store:
    """The output folder while a run writes to it. Only the main thread calls it.

    Opening compacts ``reports.jsonl`` (drops torn lines and older duplicates); ``add`` appends
    one line and fsyncs before touching anything else, so the line is the commit point.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        try:
            (out / FEEDBACK).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {out}: cannot create ({exc.strerror or exc})") from None
        path = out / REPORTS
        try:
            found, self.ignored_lines = read_records(path)
        except OSError as exc:
            raise UsageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        self.records = latest(found)
        # A last line cut just before its newline parses, but the next append would join it.
        unterminated = path.is_file() and path.stat().st_size > 0 and not _ends_with_newline(path)
        if self.ignored_lines or unterminated or len(self.records) != len(found):
            ordered = sorted(self.records.values(), key=lambda r: r.student)
            _write_atomic(out / REPORTS, "".join(r.to_json() + "\n" for r in ordered))
        created = not path.exists()
        self._handle = path.open("a", encoding="utf-8")
        if created:  # the new file's name must reach the disk too, not only its lines
            _fsync_folder(out)

    def add(self, record: Record) -> None:
        self._handle.write(record.to_json() + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.records[record.student] = record
        _write_atomic(self.out / record.feedback, feedback_text(record), sync=False)
        _write_atomic(self.out / GRADEBOOK, gradebook_text(self.records.values()))

    def close(self) -> None:
        self._handle.close()
        write_outputs(self.out, list(self.records.values()))


# --- the run -----------------------------------------------------------------------------------


@dataclass
class BatchResult:
    """What a run did. ``records`` is everything in the output folder afterwards."""

    out: Path
    records: list[Record]
    graded: list[str]
    reused: list[str]
    skipped: list[str]
    ignored_lines: int
    stopped_by: int | None = None  # the signal number; 0 when stopped by the caller's event

    @property
    def interrupted(self) -> bool:
        return self.stopped_by is not None

    @property
    def groups(self) -> list[list[str]]:
        return identical_groups(self.records)

    def notes(self) -> list[str]:
        """Lines for the instructor after the table: what was done and what needs a look."""
        lines = [
            f"graded {len(self.graded)}, reused {len(self.reused)}; wrote {self.out}/"
            f"{{{GRADEBOOK}, {REPORTS}, {FEEDBACK}/, {SUMMARY}}}"
        ]
        if self.skipped:
            names = ", ".join(self.skipped)
            lines.append(f"skipped (neither a .py/.ipynb file nor a folder): {names}")
        return lines + _common_notes(self.records, self.ignored_lines)


def _common_notes(records: Sequence[Record], ignored_lines: int) -> list[str]:
    lines = []
    codes = summary_render.code_counts([r.summary_row() for r in records])[:8]
    if codes:
        lines.append("students per code: " + ", ".join(f"{c} {n}" for c, n, _ in codes))
    lines += [f"identical submissions: {', '.join(group)}" for group in identical_groups(records)]
    errors = [r.student for r in records if r.verdict == str(Verdict.JUDGE_ERROR)]
    if errors:
        lines.append(f"judge_error (needs a look, retried on a rerun): {', '.join(errors)}")
    if ignored_lines:
        lines.append(
            f"ignored {ignored_lines} unreadable line(s) of {REPORTS} (a write cut short); "
            "those students are graded again"
        )
    return lines


def _issue_report(entry: Entry, problem: Problem, options: GradeOptions) -> Report:
    assert entry.issue is not None
    code, message = entry.issue
    hints = {
        "ambiguous_submission": f"Keep exactly one file that defines {problem.entry_point}, or "
        "grade the right one with `judge grade FILE`.",
        "no_submission": f"Submit a .py or .ipynb file that defines {problem.entry_point}.",
        "unreadable_submission": "Check the file (a broken link, its size, its permissions) "
        "and run the batch again: it grades only what is missing.",
    }
    diagnostic = Diagnostic(code, Severity.ERROR, message, hints.get(code, ""))
    return unrun_report(problem, options, entry.display, Verdict.JUDGE_ERROR, diagnostic)


def _crash_report(entry: Entry, problem: Problem, options: GradeOptions, exc: Exception) -> Report:
    """A grading that raised: the judge's fault, recorded for this student alone."""
    message = f"grading failed inside the judge: {type(exc).__name__}: {exc}"[:1000]
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    diagnostic = Diagnostic(
        "grading_crashed",
        Severity.ERROR,
        message,
        "Not a mistake in your code: the judge failed. Running the batch again retries it.",
        # Not under "traceback": the text report shows that key, and these lines are the
        # judge's, for the instructor only.
        {"exception": type(exc).__name__, "judge_traceback": "".join(lines)[-4000:]},
    )
    return unrun_report(problem, options, entry.display, Verdict.JUDGE_ERROR, diagnostic)


def _relabel(report: Report, entry: Entry) -> Report:
    """Show the submission as the source names it, not where it was unpacked."""
    assert entry.path is not None
    real = str(entry.path)
    report.submission = entry.display
    if real != entry.display:
        report.diagnostics = [
            dataclasses.replace(d, message=d.message.replace(real, entry.display))
            for d in report.diagnostics
        ]
        report.summary = report.summary.replace(real, entry.display)
    return report


_FATAL = (BackendUnavailable, ProblemError)


def _grade_one(
    entry: Entry,
    problem: Problem,
    options: GradeOptions,
    problems_dir: Path | None,
    stop: threading.Event,
) -> tuple[Report | None, float, BaseException | None]:
    """Runs on a pool thread: the report and the seconds it took; never raises.

    No report when the batch was stopped before this grading began. A fault of the whole
    batch (the backend is missing, the problem package is invalid) comes back as the third
    value, to stop the batch; any other exception is this student's ``judge_error``.
    """
    started = time.perf_counter()
    assert entry.path is not None
    if stop.is_set():
        return None, 0.0, None
    try:
        report = grade(entry.path, problem, options, problems_dir=problems_dir)
        report = _relabel(report, entry)
    except _FATAL as exc:
        return None, time.perf_counter() - started, exc
    except SubmissionNotFound as exc:  # gone or changed since it was collected
        missing = Entry(entry.student, entry.display, issue=("unreadable_submission", str(exc)))
        report = _issue_report(missing, problem, options)
    except Exception as exc:
        report = _crash_report(entry, problem, options, exc)
    return report, time.perf_counter() - started, None


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[list[int]]:
    """SIGINT and SIGTERM set ``stop`` (the run then saves and returns); a second one raises.

    Only the main thread may set signal handlers; elsewhere (a library caller's thread) the
    caller's ``stop`` event is the way to stop.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _reusable(record: Record | None, entry: Entry, problem: Problem, key: str) -> bool:
    return (
        record is not None
        and entry.issue is None
        and record.verdict != str(Verdict.JUDGE_ERROR)
        and record.sha256 == entry.sha256
        and record.problem == problem.name
        and record.problem_version == problem.version
        and record.judge_version == judge_version()
        and record.options == key
    )


def run_batch(
    source: Path,
    problem: Problem,
    out: Path,
    options: GradeOptions | None = None,
    *,
    jobs: int | None = None,
    shard: Shard | None = None,
    problems_dir: Path | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[Record], None] | None = None,
    stop: threading.Event | None = None,
) -> BatchResult:
    """Grade every student of ``source`` (or of one shard) into ``out``; resumable.

    Args:
        source: a folder of files, a folder of folders, or a .zip of either.
        problem: the problem, loaded once, so every student is graded against the same version.
        out: the output folder; what it already holds is reused where still valid.
        options: grading options for every student.
        jobs: gradings at once (default: the CPUs this process may use).
        shard: grade only the students in this shard.
        problems_dir: passed to ``grade``.
        on_start: called once with (gradings to run, results reused).
        on_result: called with each new record, as it is saved.
        stop: set it to stop the run; SIGINT and SIGTERM set it when run on the main thread.

    Raises:
        UsageError: a missing or unreadable source, an output folder that cannot be written, an
            unavailable backend. ProblemError for an invalid problem package.
    """
    options = options or GradeOptions()
    jobs = jobs or _cpus()
    stop = stop or threading.Event()
    key = options_key(options)
    out_resolved = out.resolve()
    with tempfile.TemporaryDirectory(prefix="judge-batch-") as scratch:
        collected = collect(source, problem.entry_point, Path(scratch), exclude=out_resolved)
        options = _hiding(options, out_resolved, source.resolve(), Path(scratch).resolve())
        entries = [e for e in collected.entries if shard is None or e.student in shard]
        store = Store(out)
        try:
            reused = [
                e.student
                for e in entries
                if _reusable(store.records.get(e.student), e, problem, key)
            ]
            todo = [e for e in entries if e.student not in set(reused)]
            if on_start is not None:
                on_start(len(todo), len(reused))
            with _stop_on_signals(stop) as received:
                graded = _run(todo, problem, options, problems_dir, jobs, store, on_result, stop)
        finally:
            store.close()
    stopped_by = (received[0] if received else 0) if stop.is_set() else None
    return BatchResult(
        out=out,
        records=sorted(store.records.values(), key=lambda r: r.student),
        graded=graded,
        reused=reused,
        skipped=collected.skipped,
        ignored_lines=store.ignored_lines,
        stopped_by=stopped_by,
    )


def _hiding(options: GradeOptions, *folders: Path) -> GradeOptions:
    """The options, with the class's files and the results kept out of the learner's sight.

    Learner code runs as the judge's user: unhidden, it could read classmates' files or write
    a record of its own into ``reports.jsonl``. Sandboxes that can hide folders (``hide``) are
    told to; with none, the option is absent and this changes nothing.
    """
    if "hide" not in {f.name for f in dataclasses.fields(options)}:
        return options
    hidden = tuple(getattr(options, "hide", ()) or ())
    extra = tuple(str(f) for f in folders if str(f) not in hidden)
    return dataclasses.replace(options, **{"hide": hidden + extra})


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run(
    todo: list[Entry],
    problem: Problem,
    options: GradeOptions,
    problems_dir: Path | None,
    jobs: int,
    store: Store,
    on_result: Callable[[Record], None] | None,
    stop: threading.Event,
) -> list[str]:
    """The pool and the main thread's loop: save each result as it finishes."""
    key = options_key(options)
    graded: list[str] = []
    fatal: list[BaseException] = []

    def save(entry: Entry, report: Report, seconds: float) -> None:
        record = Record(
            student=entry.student,
            report=report.to_dict(),
            sha256=entry.sha256,
            normalized=entry.normalized,
            problem_version=problem.version,
            judge_version=judge_version(),
            options=key,
            finished_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            duration_s=seconds,
        )
        store.add(record)
        graded.append(entry.student)
        if on_result is not None:
            on_result(record)

    def collect_done(futures: Iterable[Future[Any]]) -> None:
        for future in sorted(futures, key=lambda f: running[f].student):
            if future.cancelled():
                continue
            saved.add(future)
            report, seconds, error = future.result()
            if error is not None:
                fatal.append(error)
                stop.set()
            elif report is not None and not fatal:
                save(running[future], report, seconds)

    running: dict[Future[Any], Entry] = {}
    saved: set[Future[Any]] = set()
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="judge-batch") as pool:
        try:
            for entry in todo:
                if entry.issue is None:
                    future = pool.submit(_grade_one, entry, problem, options, problems_dir, stop)
                    running[future] = entry
            for entry in todo:  # nothing to grade: saved at once
                if entry.issue is not None and not stop.is_set():
                    save(entry, _issue_report(entry, problem, options), 0.0)
            pending = set(running)
            while pending and not stop.is_set():
                done, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                collect_done(done)
        finally:
            if stop.is_set() and not fatal:
                # Finished before the stop was seen: complete, so kept.
                collect_done(f for f in running if f.done() and f not in saved)
            unfinished = [f for f in running if not f.done()]
            for future in unfinished:
                future.cancel()
            while any(not f.done() for f in unfinished):
                kill_all_workers()  # stopped midway: their reports would be ours, not theirs
                wait(unfinished, timeout=0.2)
    if fatal:
        raise fatal[0]
    return graded


# --- merging shards ----------------------------------------------------------------------------


@dataclass
class MergeResult:
    """What a merge wrote. ``duplicates``: students found in more than one folder."""

    out: Path
    records: list[Record]
    inputs: int
    duplicates: list[str]
    ignored_lines: int

    def notes(self) -> list[str]:
        lines = [f"merged {self.inputs} folders: {len(self.records)} students into {self.out}"]
        if self.duplicates:
            lines.append(
                f"in several folders (the newest result kept): {', '.join(self.duplicates)}"
            )
        return lines + _common_notes(self.records, self.ignored_lines)


def merge(folders: Sequence[Path], out: Path) -> MergeResult:
    """Combine the output folders of shards (or of separate runs) into one.

    A student found in several keeps the newest record. What ``out`` already holds counts as one
    more input, so merging never drops a result. Feedback and the summary are rendered again
    from the records.

    Raises:
        UsageError: a folder without ``reports.jsonl``, or folders graded on different problems.
    """
    inputs = list(folders)
    for folder in inputs:
        if not (folder / REPORTS).is_file():
            raise UsageError(
                f"{folder}: no {REPORTS} here; expected the --out folder of judge batch"
            )
    if (out / REPORTS).is_file() and out.resolve() not in {f.resolve() for f in inputs}:
        inputs.append(out)
    found: list[Record] = []
    ignored = 0
    seen: dict[str, int] = {}
    for folder in inputs:
        records, bad = read_records(folder / REPORTS)
        ignored += bad
        for student in {r.student for r in records}:
            seen[student] = seen.get(student, 0) + 1
        found.extend(records)
    kept = latest(found)
    problems = sorted({r.problem for r in kept.values()})
    if len(problems) > 1:
        raise UsageError(f"the folders hold results of different problems: {', '.join(problems)}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create ({exc.strerror or exc})") from None
    records = sorted(kept.values(), key=lambda r: r.student)
    write_outputs(out, records)
    return MergeResult(
        out=out,
        records=records,
        inputs=len(inputs),
        duplicates=sorted(s for s, n in seen.items() if n > 1),
        ignored_lines=ignored,
    )
