"""The run: grade the students of a source on a thread pool, saving each result as it comes.

Threads are enough: the learner's code already runs in worker processes that ``grade()``
starts, and the reference's results, kept in this process, are then shared by every job. Only
the main thread writes to the output folder. A rerun reuses every stored record made from the
same file content, problem name and version, judge version and grading options.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import backends
from ..assignment import Assignment, AssignmentReport
from ..candidates import DEFAULT_PICK, Pick, student_name
from ..constants import judge_version
from ..errors import UsageError
from ..grading import GradeOptions
from ..result import Report, Verdict
from ..sandbox import kill_all_workers
from .collect import Entry, collect
from .shard import Shard
from .store import (
    FEEDBACK,
    GRADEBOOK,
    REPORTS,
    SUMMARY,
    Record,
    Store,
    common_notes,
    identical_groups,
    options_key,
)
from .student import Outcome, Task, grade_one, issue_report

_POLL_S = 0.25


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
    # Students whose first grading was a judge_error, graded once more in the same run: their
    # first grading's summary (the record holds the second's).
    retried: dict[str, str] = dataclasses.field(default_factory=dict)

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
        for student, first in self.retried.items():
            lines.append(f"graded again after a judge error: {student} (first: {first[:200]})")
        return lines + common_notes(self.records, self.ignored_lines)


def run_batch(
    source: Path,
    problem: Task,
    out: Path,
    options: GradeOptions | None = None,
    *,
    jobs: int | None = None,
    shard: Shard | None = None,
    problems_dir: Path | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[Record], None] | None = None,
    stop: threading.Event | None = None,
    regrade: Sequence[str] | None = None,
    pick: Pick = DEFAULT_PICK,
) -> BatchResult:
    """Grade every student of ``source`` (or of one shard) into ``out``; resumable.

    Args:
        source: a folder of files, a folder of folders, or a .zip of either.
        problem: the problem (or assignment), loaded once: all are graded by the same version.
        out: the output folder; what it already holds is reused where still valid.
        options: grading options for every student.
        jobs, shard: gradings at once (default: the CPUs here); grade only this shard.
        problems_dir: passed to ``grade``.
        on_start, on_result: called once with (gradings to run, results reused); with each
            new record, as it is saved.
        stop: set it to stop the run; SIGINT and SIGTERM set it when run on the main thread.
        regrade: students to grade again though unchanged ([]: all; None: none; unknown: error).
        pick: which of a folder's several files is graded (``judge.candidates``).

    Raises:
        UsageError: an unreadable source or --out, an unavailable backend; ProblemError.
    """
    options, stop = options or GradeOptions(), stop or threading.Event()
    out_resolved = out.resolve()
    with tempfile.TemporaryDirectory(prefix="judge-batch-") as scratch:
        collected = collect(source, _wanted(problem), Path(scratch), out_resolved, pick)
        _refuse_unknown(regrade or (), [e.student for e in collected.entries], source)
        options = _hiding(options, out_resolved, source.resolve(), Path(scratch).resolve())
        entries = _in_shard(collected.entries, shard)
        store = Store(out)
        try:
            run = _Run(problem, options, problems_dir, store, on_result, stop)
            todo, reused = run.split(entries, regrade)
            if on_start is not None:
                on_start(len(todo), len(reused))
            with _stop_on_signals(stop) as received:
                run.grade(todo, jobs or _cpus())
        finally:
            store.close()
    return BatchResult(
        out=out,
        records=sorted(store.records.values(), key=lambda r: r.student),
        graded=run.graded,
        reused=reused,
        skipped=collected.skipped,
        ignored_lines=store.ignored_lines,
        stopped_by=(received[0] if received else 0) if stop.is_set() else None,
        retried=run.retried,
    )


def _wanted(problem: Task) -> str | tuple[str, ...]:
    """The function a student's file must define: for an assignment, any of its functions."""
    return problem.entry_points if isinstance(problem, Assignment) else problem.entry_point


def _refuse_unknown(wanted: Sequence[str], students: Sequence[str], source: Path) -> None:
    """A ``--regrade`` id that names no student of ``source`` is a typo, not a no-op: refused
    with the closest ids, so a regrade the instructor asked for is never silently skipped."""
    known = set(students)
    unknown = [student for student in dict.fromkeys(wanted) if student not in known]
    if not unknown:
        return
    lines = []
    for student in unknown:
        close = difflib.get_close_matches(student, sorted(known), n=3, cutoff=0.6)
        guess = f" (did you mean {', '.join(close)}?)" if close else ""
        lines.append(f"{student!r}{guess}")
    raise UsageError(f"--regrade: {source} has no student " + "; no student ".join(lines))


def _in_shard(entries: list[Entry], shard: Shard | None) -> list[Entry]:
    mine = shard.select(e.student for e in entries) if shard is not None else None
    return [e for e in entries if mine is None or e.student in mine]


def _reusable(record: Record | None, entry: Entry, problem: Task, key: str) -> bool:
    return (
        record is not None
        and entry.issue is None
        and record.verdict != str(Verdict.JUDGE_ERROR)
        and record.sha256 == entry.sha256
        and _same_file(record, entry)
        and record.problem == problem.name
        and record.problem_version == problem.version
        and record.judge_version == judge_version()
        and record.options == key
    )


def _same_file(record: Record, entry: Entry) -> bool:
    """Whether the record graded the file this entry would, by the student's own name for it:
    a pick may choose a twin with the same bytes, while the same class moved (a folder, then
    its zip) keeps every result."""
    graded = str(record.report.get("submission", ""))
    return student_name(graded, record.student) == student_name(entry.display, entry.student)


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
    return dataclasses.replace(options, hide=hidden + extra)


def _unreadable(report: Report | AssignmentReport) -> bool:
    """Whether the file could not be read when graded (its notebook's code is too large, say):
    no passing fault, so not graded again."""
    reports = [p.report for p in report.parts] if isinstance(report, AssignmentReport) else [report]
    return any(d.code == "unreadable_submission" for r in reports for d in r.diagnostics)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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


class _Run:
    """The pool and the main thread's loop of one run: save each result as it finishes.

    Only the main thread calls its methods; pool threads run ``grade_one`` alone.
    """

    def __init__(
        self,
        problem: Task,
        options: GradeOptions,
        problems_dir: Path | None,
        store: Store,
        on_result: Callable[[Record], None] | None,
        stop: threading.Event,
    ) -> None:
        self.problem = problem
        self.options = options
        self.problems_dir = problems_dir
        self.store = store
        self.on_result = on_result
        self.stop = stop
        self.key = options_key(options)
        self.graded: list[str] = []
        self.fatal: list[BaseException] = []
        self.running: dict[Future[Outcome], Entry] = {}
        self.saved: set[Future[Outcome]] = set()
        self.retried: dict[str, str] = {}
        self._submit: Callable[[Entry, int], Future[Outcome]] | None = None

    def split(
        self, entries: list[Entry], regrade: Sequence[str] | None = None
    ) -> tuple[list[Entry], list[str]]:
        """The entries to grade, and the students whose stored record is still valid (and who
        are not to be graded again)."""
        again = None if regrade is None else set(regrade)
        reused = [
            e.student
            for e in entries
            if (again is None or (again and e.student not in again))
            and _reusable(self.store.records.get(e.student), e, self.problem, self.key)
        ]
        todo = [e for e in entries if e.student not in set(reused)]
        return todo, reused

    def grade(self, todo: list[Entry], jobs: int) -> None:
        """Grade ``todo`` with ``jobs`` threads; raises the first fault of the whole batch."""
        devices = backends.visible_devices(self.options.backend)
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="judge-batch") as pool:

            def submit(entry: Entry, number: int) -> Future[Outcome]:
                # Accelerators: gradings spread round-robin over the visible devices.
                device = self.options.device or backends.assign(devices, number)
                future = pool.submit(
                    grade_one,
                    entry,
                    self.problem,
                    dataclasses.replace(self.options, device=device),
                    self.problems_dir,
                    self.stop,
                )
                self.running[future] = entry
                return future

            self._submit = submit
            try:
                for number, entry in enumerate(todo):
                    if entry.issue is None:
                        submit(entry, number)
                for entry in todo:  # nothing to grade: saved at once
                    if entry.issue is not None and not self.stop.is_set():
                        report = issue_report(entry, self.problem, self.options)
                        self._save(entry, report, 0.0, None)
                pending = set(self.running)
                while pending and not self.stop.is_set():
                    done, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                    pending |= self._collect_done(done)
            finally:
                self._submit = None
                self._wind_down()
        if self.fatal:
            raise self.fatal[0]

    def _save(
        self,
        entry: Entry,
        report: Report | AssignmentReport,
        seconds: float,
        normalized: str | None,
    ) -> None:
        record = Record(
            student=entry.student,
            report=report.to_dict(),
            sha256=entry.sha256,
            normalized=normalized,
            problem_version=self.problem.version,
            judge_version=judge_version(),
            options=self.key,
            finished_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            duration_s=seconds,
        )
        self.store.add(record)
        self.graded.append(entry.student)
        if self.on_result is not None:
            self.on_result(record)

    def _collect_done(self, futures: Iterable[Future[Outcome]]) -> set[Future[Outcome]]:
        """Save what finished; the gradings started again (see ``_again``)."""
        again: set[Future[Outcome]] = set()
        for future in sorted(futures, key=lambda f: self.running[f].student):
            if future.cancelled():
                continue
            self.saved.add(future)
            report, seconds, error, normalized = future.result()
            entry = self.running[future]
            if error is not None:
                self.fatal.append(error)
                self.stop.set()
            elif report is not None and not self.fatal:
                retry = self._again(entry, report)
                if retry is not None:
                    again.add(retry)
                else:
                    self._save(entry, report, seconds, normalized)
        return again

    def _again(self, entry: Entry, report: Report | AssignmentReport) -> Future[Outcome] | None:
        """A judge_error is the judge's fault, and may be a passing one (a worker of the judge's
        that died on a busy machine): such a student is graded once more, in this run, rather
        than left for a rerun. Once only, so a judge_error that stays costs one grading more;
        the first one's summary is kept for ``notes``."""
        if (
            self._submit is None
            or self.stop.is_set()
            or report.verdict != Verdict.JUDGE_ERROR
            or entry.student in self.retried
            or _unreadable(report)
        ):
            return None
        self.retried[entry.student] = str(report.summary)
        return self._submit(entry, len(self.running))

    def _wind_down(self) -> None:
        """Keep what finished before a stop was seen; cancel the rest and end its workers."""
        if self.stop.is_set() and not self.fatal:
            # Finished before the stop was seen: complete, so kept.
            self._collect_done(f for f in self.running if f.done() and f not in self.saved)
        unfinished = [f for f in self.running if not f.done()]
        for future in unfinished:
            future.cancel()
        while any(not f.done() for f in unfinished):
            kill_all_workers()  # stopped midway: their reports would be ours, not theirs
            wait(unfinished, timeout=0.2)
