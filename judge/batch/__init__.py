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
``judge_error`` results are retried (a grading that ends in one is also graded once more in the
run that met it). Everything else in the folder is derived from
``reports.jsonl`` and rewritten at the end of a run, so it is always consistent with it.

A student's trouble (an unreadable file, a folder with two candidate files, a grading that
crashed) is that student's ``judge_error``, never the batch's end.

The package::

    collect.py   a source -> one Entry per student (folders, zips, the file a folder means)
    shard.py     Shard, parse_shard, shard_of: a stable split of the class across machines
    store.py     Record, reports.jsonl read and appended (fsynced), the files derived from it
    student.py   one student's grading on a pool thread: a report for every outcome
    run.py       run_batch: the pool, the main thread's loop, signals, resume; BatchResult
    merge.py     merge: the output folders of shards combined into one
    ungraded.py  a judge_error is never a number: no grade, and the stderr line naming them

The gradebook's CSV and the feedback's Markdown are rendered by ``judge.render.gradebook`` and
``judge.render.feedback``; the summary page by ``judge.render.summary``.
"""

from ..render.gradebook import COLUMNS
from .collect import MAX_FILES_PER_FOLDER, Collected, Entry, collect, normalized_hash
from .merge import MergeResult, merge
from .run import BatchResult, run_batch
from .shard import Shard, parse_shard, shard_of
from .store import (
    FEEDBACK,
    GRADEBOOK,
    REPORTS,
    SUMMARY,
    Record,
    Store,
    feedback_name,
    feedback_text,
    gradebook_text,
    identical_groups,
    latest,
    options_key,
    read_records,
    summary_html,
    write_outputs,
)
from .student import Task
from .ungraded import no_grade, no_grade_line

__all__ = [
    "COLUMNS",
    "FEEDBACK",
    "GRADEBOOK",
    "MAX_FILES_PER_FOLDER",
    "REPORTS",
    "SUMMARY",
    "BatchResult",
    "Collected",
    "Entry",
    "MergeResult",
    "Record",
    "Shard",
    "Store",
    "Task",
    "collect",
    "feedback_name",
    "feedback_text",
    "gradebook_text",
    "identical_groups",
    "latest",
    "merge",
    "no_grade",
    "no_grade_line",
    "normalized_hash",
    "options_key",
    "parse_shard",
    "read_records",
    "run_batch",
    "shard_of",
    "summary_html",
    "write_outputs",
]
