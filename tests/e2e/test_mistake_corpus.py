"""The mistake corpus graded by the judge: every mistake named as a root cause.

``tests/corpus/mistakes.py`` writes learners' files from a template, each with one mistake or
a compatible pair of them, and knows for each mistake the diagnostic codes that name it
(``tests/corpus/test_corpus_files.py`` checks, without the judge, that every file is wrong).
Here each problem's whole corpus is graded in one batch (``run_batch``: the reference's results
are shared by every file), with the options ``test_submissions`` grades the examples with, and
for every file:

(a) the verdict is not accepted;
(b) every mistake in it is named as a root cause: a diagnostic whose code is one of that
    mistake's codes, of severity "error", with no ``consequence_of`` in its evidence;
(c) a pair scores no more than either of its mistakes alone: a second mistake never raises
    the score.

The template with no mistake is graded beside them and must be accepted, or nothing here
means anything. Each failure lists every failing file: its mistakes, verdict, score and
diagnostics (code, severity, consequence_of).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from judge import GradeOptions, Report, load_problem
from judge.batch import Record, run_batch
from judge.consistency import contradictions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the corpus package
from corpus.mistakes import PROBLEMS, corpus, file_name, mistakes, source

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = GradeOptions(
    limits={"call_s": 8.0}
)  # as test_submissions: a learner's grading, shrink and all
RIGHT = "right"  # the template with every slot right: the control
JOBS = 2


@dataclass
class Graded:
    problem: str
    records: dict[tuple[str, ...], Record]  # by the mistakes in the file
    right: Record
    seconds: float


@pytest.fixture(scope="module", params=PROBLEMS)
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    problem = request.param
    folder = tmp_path_factory.mktemp(problem) / "class"
    folder.mkdir()
    by_student: dict[str, tuple[str, ...]] = {}
    for names, text in corpus(problem):
        (folder / file_name(names)).write_text(text)
        by_student[Path(file_name(names)).stem] = names
    (folder / f"{RIGHT}.py").write_text(source(problem))
    started = time.perf_counter()
    result = run_batch(
        folder, load_problem(problem, ROOT / "problems"), folder.parent / "out", OPTIONS, jobs=JOBS
    )
    seconds = time.perf_counter() - started
    records = {r.student: r for r in result.records}
    assert set(records) == {*by_student, RIGHT}
    print(f"\n{problem}: {len(by_student)} files + the control graded in {seconds:.0f} s")
    return Graded(
        problem,
        {names: records[student] for student, names in by_student.items()},
        records[RIGHT],
        seconds,
    )


# --- what a failure shows ------------------------------------------------------------------


def diagnostics(record: Record) -> str:
    shown = []
    for d in record.report.get("diagnostics") or []:
        cause = (d.get("evidence") or {}).get("consequence_of")
        shown.append(f"{d.get('code')}/{d.get('severity')}" + (f"<-{cause}" if cause else ""))
    return "[" + ", ".join(shown) + "]"


def line(names: tuple[str, ...], record: Record, why: str) -> str:
    return (
        f"  {'+'.join(names)}: {why}; verdict {record.verdict}, score {record.score:.3f}, "
        f"diagnostics {diagnostics(record)}"
    )


def failures(graded: Graded, failing: list[str], what: str) -> str:
    head = (
        f"{graded.problem}: {len(failing)} of {len(graded.records)} files {what} "
        f"(graded in {graded.seconds:.0f} s)"
    )
    return "\n".join([head, *failing])


def root_causes(record: Record) -> set[str]:
    """The codes the report names as root causes: errors that are no consequence of another."""
    return {
        str(d.get("code"))
        for d in record.report.get("diagnostics") or []
        if d.get("severity") == "error" and "consequence_of" not in (d.get("evidence") or {})
    }


# --- the tests -------------------------------------------------------------------------------


def test_the_template_without_mistakes_is_accepted(graded: Graded) -> None:
    assert graded.right.verdict == "accepted", line((RIGHT,), graded.right, "not accepted")
    assert graded.right.score == 1.0


def test_no_file_is_accepted(graded: Graded) -> None:
    failing = [
        line(names, record, "accepted")
        for names, record in graded.records.items()
        if record.verdict == "accepted"
    ]
    assert not failing, failures(graded, failing, "accepted")


# Two mistakes the judge names as one class, not one by one: another initializer beside a
# structure that changes the variables' shapes (an ensemble). No variant, alone or composed
# with an input variant (``inputs:``: the reference on seed 0, on seed + 1), has such
# variables, so the judge says what is true of them (``wrong_param_values``: besides the
# structure, another key or another initializer) as a root cause of its own. Naming it needs
# variants that compose two files (an ensemble with another initializer).
CLASS_ONLY = {("nn_vmap_forward", frozenset({"ensemble", "other_initializer"}))}
VALUE_MISTAKES = {"other_initializer"}


def test_every_mistake_is_named_as_a_root_cause(graded: Graded) -> None:
    known = mistakes(graded.problem)
    failing = []
    for names, record in graded.records.items():
        named = root_causes(record)
        missing = [n for n in names if not known[n].codes & named]
        if (graded.problem, frozenset(names)) in CLASS_ONLY and "wrong_param_values" in named:
            missing = [n for n in missing if n not in VALUE_MISTAKES]
        if missing:
            wanted = "; ".join(f"{n} (one of {sorted(known[n].codes)})" for n in missing)
            failing.append(line(names, record, f"not named: {wanted}"))
    assert not failing, failures(graded, failing, "with a mistake not named as a root cause")


def test_a_second_mistake_never_raises_the_score(graded: Graded) -> None:
    failing = []
    for names, record in graded.records.items():
        if len(names) < 2:
            continue
        alone = {n: graded.records[(n,)].score for n in names}
        higher = {n: s for n, s in alone.items() if record.score > s + 1e-9}
        if higher:
            shown = ", ".join(f"{n} alone {s:.3f}" for n, s in higher.items())
            failing.append(line(names, record, f"scores above {shown}"))
    assert not failing, failures(graded, failing, "scoring above one of their mistakes alone")


def test_no_report_contradicts_itself(graded: Graded) -> None:
    problem = load_problem(graded.problem, ROOT / "problems")
    failing = [
        line(names, record, "; ".join(found))
        for names, record in [*graded.records.items(), ((RIGHT,), graded.right)]
        if (found := contradictions(Report.from_dict(record.report), problem))
    ]
    assert not failing, failures(graded, failing, "whose report contradicts itself")
