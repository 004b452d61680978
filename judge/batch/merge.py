"""Merging: the output folders of shards (or of separate runs) combined into one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .store import REPORTS, Record, common_notes, latest, read_records, write_outputs


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
        return lines + common_notes(self.records, self.ignored_lines)


def merge(
    folders: Sequence[Path],
    out: Path,
    on_start: Callable[[int], None] | None = None,
    on_written: Callable[[Record], None] | None = None,
) -> MergeResult:
    """Combine the output folders of shards (or of separate runs) into one.

    A student found in several keeps the newest record. What ``out`` already holds counts as one
    more input, so merging never drops a result. Feedback and the summary are rendered again
    from the records.

    ``on_start`` gets the number of students once they are read; ``on_written`` each student
    whose feedback is written (progress).

    Raises:
        UsageError: a folder without ``reports.jsonl``, or folders graded on different problems.
    """
    inputs = _inputs(folders, out)
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
    if on_start is not None:
        on_start(len(records))
    write_outputs(out, records, on_written)
    return MergeResult(
        out=out,
        records=records,
        inputs=len(inputs),
        duplicates=sorted(s for s, n in seen.items() if n > 1),
        ignored_lines=ignored,
    )


def _inputs(folders: Sequence[Path], out: Path) -> list[Path]:
    """The folders to read: those given, each checked, and ``out`` when it holds results."""
    inputs = list(folders)
    for folder in inputs:
        if not (folder / REPORTS).is_file():
            raise UsageError(
                f"{folder}: no {REPORTS} here; expected the --out folder of judge batch"
            )
    if (out / REPORTS).is_file() and out.resolve() not in {f.resolve() for f in inputs}:
        inputs.append(out)
    return inputs
