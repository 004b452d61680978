"""The output folder: ``reports.jsonl`` (the truth) and the files derived from it.

Each result is one ``Record``: the ``judge.report/1`` object plus a ``"batch"`` key with the
facts a rerun needs to decide whether to reuse it. ``Store`` appends and fsyncs one line per
result, so a finished result survives any crash; everything else in the folder (gradebook,
feedback, summary) is rewritten from the records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..assignment.report import is_assignment
from ..errors import UsageError
from ..grading import GradeOptions
from ..render import feedback as feedback_render
from ..render import gradebook as gradebook_render
from ..render import summary as summary_render
from ..result import Report, Verdict
from . import assigned, ungraded
from .names import feedback_name

GRADEBOOK = "gradebook.csv"
REPORTS = "reports.jsonl"
FEEDBACK = "feedback"
SUMMARY = "summary.html"
CODES_SHOWN = 8  # codes named in the end-of-run line; summary.html lists them all
# Read once, at import (one thread): mkstemp makes owner-only files, and a gradebook is to share.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
# Options that change where things are, not what a grading finds: they never block a reuse.
_NOT_IN_KEY = ("hide", "device")  # where it ran, not how it was graded


def options_key(options: GradeOptions) -> str:
    """A short hash of the grading options: results made with other options are not reused."""
    values = {k: v for k, v in dataclasses.asdict(options).items() if k not in _NOT_IN_KEY}
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- records -----------------------------------------------------------------------------------


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
        """The problem graded, or the assignment (``judge.assignment/1`` records)."""
        return str(self.report.get("problem") or self.report.get("assignment") or "")

    @property
    def score(self) -> float | None:
        """The score (0..1), or None when there is no real grading (a judge_error): never 0."""
        return ungraded.score_of(self.report)

    @property
    def codes(self) -> list[str]:
        if is_assignment(self.report):
            return assigned.codes(self)
        return [str(d.get("code")) for d in self.report.get("diagnostics") or []]

    @property
    def feedback(self) -> str:
        return f"{FEEDBACK}/{feedback_name(self.student)}"

    @property
    def feedback_page(self) -> str:
        """The same feedback as an HTML page, for a browser (the summary links to it)."""
        return self.feedback.removesuffix(".md") + ".html"

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
        line = json.dumps({**self.report, "batch": facts}, ensure_ascii=False, allow_nan=False)
        # Belt and braces: anything that still is not UTF-8 is stored as an escape, never a crash.
        return line.encode("utf-8", "backslashreplace").decode("utf-8")

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
        """The record's row of the gradebook, a text for each of ``render.gradebook.COLUMNS``."""
        extra = assigned.gradebook_columns(self) if is_assignment(self.report) else {}
        return extra | {
            "student": self.student,
            "verdict": self.verdict,
            "score": "" if self.score is None else f"{self.score:g}",
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
            "sandbox": _sandbox_of(self),
            **{
                f"{gradebook_render.RUBRIC_PREFIX}{item.get('id')}": f"{item.get('score', 0):g}"
                for item in self.report.get("rubric") or []
                if isinstance(item, dict)
                and isinstance(item.get("score"), int | float)
                and self.score is not None
            },
        }

    def summary_row(self) -> summary_render.Row:
        if is_assignment(self.report):
            return assigned.summary_row(self)
        pitfalls = [
            str(d.get("code"))
            for d in self.report.get("diagnostics") or []
            if d.get("severity") in ("error", "warning")
        ]
        diagnostics = [d for d in self.report.get("diagnostics") or [] if isinstance(d, dict)]
        errors = [d for d in diagnostics if d.get("severity") == "error"]
        rubric = tuple(
            (str(item.get("id")), str(item.get("title")), item.get("passed") is True)
            for item in self.report.get("rubric") or []
            if isinstance(item, dict)
        )
        return summary_render.Row(
            student=self.student,
            verdict=self.verdict,
            score=self.score,
            duration_s=self.duration_s,
            codes=tuple(dict.fromkeys(pitfalls)),
            root_cause=pitfalls[0] if pitfalls else None,
            summary=str(self.report.get("summary", "")),
            feedback=self.feedback_page,
            root_message=str(errors[0].get("message", ""))[:300] if errors else "",
            rubric=rubric,
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


# What a grading's cases and numbers depend on, as each report's ``environment`` records it.
VERSIONED = ("python", "jax", "jaxlib", "flax", "numpy", "hypothesis", "judge")


def mixed_versions(records: Iterable[Record]) -> list[str]:
    """Each of ``VERSIONED`` the records were graded under several versions of, with counts:
    ``jax 0.4.30 (3), 0.10.2 (27)``. Empty when the class met one environment."""
    seen: dict[str, Counter[str]] = {key: Counter() for key in VERSIONED}
    for record in records:
        environment = record.report.get("environment")
        for key in VERSIONED:
            value = environment.get(key) if isinstance(environment, dict) else None
            if value:
                seen[key][str(value)] += 1
    return [
        f"{key} " + ", ".join(f"{value} ({n})" for value, n in sorted(counts.items()))
        for key, counts in seen.items()
        if len(counts) > 1
    ]


def mixed_versions_warning(records: Sequence[Record]) -> str | None:
    mixed = mixed_versions(records)
    if not mixed:
        return None
    return (
        "warning: graded under mixed versions, so cases or numbers may differ between "
        f"students (pin them with judge lock): {'; '.join(mixed)}"
    )


def common_notes(records: Sequence[Record], ignored_lines: int) -> list[str]:
    """Lines for the instructor about any set of records: mixed versions, codes, look-alikes,
    judge errors."""
    warning = mixed_versions_warning(records)
    lines = [warning] if warning else []
    codes = summary_render.code_counts([r.summary_row() for r in records])
    if codes:
        shown = ", ".join(f"{c} {n}" for c, n, _ in codes[:CODES_SHOWN])
        more = len(codes) - CODES_SHOWN
        rest = f", +{more} more (all in {SUMMARY})" if more > 0 else ""
        lines.append(f"students per code: {shown}{rest}")
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


# --- the derived files -------------------------------------------------------------------------


def gradebook_text(records: Iterable[Record]) -> str:
    return gradebook_render.render(record.gradebook_row() for record in records)


def feedback_text(record: Record) -> str:
    """The learner's feedback: the text report in a fenced block under a short heading."""
    if is_assignment(record.report):
        return assigned.feedback_markdown(record)
    return feedback_render.render(Report.from_dict(record.report), record.student)


def summary_html(records: Sequence[Record], title: str | None = None) -> str:
    """The summary page of the records, with the versions they were graded with.

    Not in ``render.summary``: the facts and the groups are read from batch records, which that
    renderer does not know.
    """
    problems = sorted({r.problem for r in records})
    facts = [
        ("problem", ", ".join(problems) or "-"),
        ("problem version", ", ".join(sorted({r.problem_version for r in records})) or "-"),
        ("judge", ", ".join(sorted({r.judge_version for r in records})) or "-"),
        ("isolation", ", ".join(sorted({_sandbox_of(r) for r in records} - {"-"})) or "-"),
        ("written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    warning = mixed_versions_warning(records)
    if warning:
        facts.insert(3, ("versions", warning))
    facts[1:1] = assigned.problem_means(records)  # an assignment's: mean points per problem
    return summary_render.render(
        [r.summary_row() for r in sorted(records, key=lambda r: r.student)],
        title=title or f"judge batch: {', '.join(problems) or 'no results'}",
        groups=identical_groups(records),
        facts=facts,
    )


def write_outputs(
    out: Path, records: Sequence[Record], on_written: Callable[[Record], None] | None = None
) -> None:
    """Everything from the records: reports.jsonl compacted, gradebook, feedback, summary;
    ``on_written`` after each student's feedback, the slow part (a merge's progress)."""
    (out / FEEDBACK).mkdir(parents=True, exist_ok=True)
    ordered = sorted(records, key=lambda r: r.student)
    _write_atomic(out / REPORTS, _jsonl(ordered))
    _write_atomic(out / GRADEBOOK, gradebook_text(ordered))
    for record in ordered:
        _write_feedback(out, record)
        if on_written is not None:
            on_written(record)
    _write_atomic(out / SUMMARY, summary_html(ordered), sync=False)


def _write_feedback(out: Path, record: Record) -> None:
    """The student's feedback, as Markdown and as an HTML page."""
    _write_atomic(out / record.feedback, feedback_text(record), sync=False)
    page = (
        assigned.feedback_html(record)
        if is_assignment(record.report)
        else feedback_render.render_html(Report.from_dict(record.report), record.student)
    )
    _write_atomic(out / record.feedback_page, page, sync=False)


def _jsonl(records: Iterable[Record]) -> str:
    return "".join(r.to_json() + "\n" for r in records)


# --- writing safely ----------------------------------------------------------------------------


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
            _write_atomic(path, _jsonl(sorted(self.records.values(), key=lambda r: r.student)))
        created = not path.exists()
        self._handle = path.open("a", encoding="utf-8")
        if created:  # the new file's name must reach the disk too, not only its lines
            _fsync_folder(out)

    def add(self, record: Record) -> None:
        self._handle.write(record.to_json() + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.records[record.student] = record
        _write_feedback(self.out, record)
        _write_atomic(self.out / GRADEBOOK, gradebook_text(self.records.values()))

    def close(self) -> None:
        self._handle.close()
        write_outputs(self.out, list(self.records.values()))


def _sandbox_of(record: Record) -> str:
    """The sandbox a student's code ran under, as its report says (``-`` if it never ran)."""
    environment = record.report.get("environment")
    sandbox = environment.get("sandbox") if isinstance(environment, dict) else None
    return str(sandbox) if sandbox else "-"
