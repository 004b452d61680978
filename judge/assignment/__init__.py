"""Assignments: several problems graded in one learner file, with points and one total.

A course says "hw3 = these problems, these points" in ``assignments/<name>/assignment.yaml``::

    name: hw3                          # must equal the folder name
    title: "Homework 3"
    problems:
      - {problem: first_problem, points: 10}
      - {problem: second_problem, points: 10, entry_point: second}   # optional rename

Assignments are found like problems: ``assignments/`` beside the problem folder in use
(``--problems DIR``'s sibling, ``$JUDGE_PROBLEMS``'s, ``./problems`` or a parent's, or the
bundled set's), or ``$JUDGE_ASSIGNMENTS``; a path to a folder or YAML file works too.

Library API (what ``judge grade --assignment``, ``judge batch --assignment``, the Gradescope
bundle and the notebook check call)::

    from judge.assignment import load_assignment, grade_assignment
    assignment = load_assignment("hw3", problems_dir=None)   # -> Assignment
    report = grade_assignment("hw.ipynb", assignment, options=None)  # -> AssignmentReport
    report.points, report.max_points, report.score   # earned, total, earned / total (0..1)
    for part in report.parts:                         # one per problem, assignment order
        part.problem, part.points, part.max_points, part.report   # report: a judge Report
    report.to_dict()                                  # the ``judge.assignment/1`` JSON object
    report.exit_code                                  # 0 all accepted, 1 otherwise, 3 judge

``grade_assignment`` also takes a ``judge.submission.Submission`` (already read, e.g. from a
notebook's source). Each problem is graded by the ordinary engine on its own, so a function
missing for one problem costs that problem (``compile_error``, ``entry_point_missing``), not the
others. Modules: ``model`` (the YAML -> frozen dataclasses, discovery), ``report`` (the
``judge.assignment/1`` document), ``grade`` (one file, every problem), ``render`` (text, JSON,
feedback, Gradescope), ``check`` (``judge check``: the assignments and their examples). The
commands that take ``--assignment`` are in ``judge/cli_assignment.py``; a class's records in
``judge/batch/assigned.py``.
"""

from __future__ import annotations

from .grade import grade_assignment, unrun_assignment
from .model import (
    ASSIGNMENT_FILE,
    Assignment,
    Part,
    assignment_names,
    default_assignments_dir,
    load_assignment,
)
from .report import ASSIGNMENT_SCHEMA, AssignmentReport, PartReport, is_assignment

__all__ = [
    "ASSIGNMENT_FILE",
    "ASSIGNMENT_SCHEMA",
    "Assignment",
    "AssignmentReport",
    "Part",
    "PartReport",
    "assignment_names",
    "default_assignments_dir",
    "grade_assignment",
    "is_assignment",
    "load_assignment",
    "unrun_assignment",
]
