"""Every text a learner controls is read in the judge's own process in linear time, within a
size bound; ``judge batch`` parses nobody's code before grading everyone.

The regular expressions that the hand-written readers replaced are kept here as oracles: on
ordinary (short) lines the new readers must give exactly their results. Timing checks compare
growth (a 4x longer input may take at most 8x as long: linear is 4x, the old backtracking 16x),
never absolute speed, except for generous bounds on the attacks themselves.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib
import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from judge import diagnose
from judge import submission as sub
from judge.batch import run_batch
from judge.batch import student as batch_student
from judge.batch.collect import collect, normalized_hash
from judge.errors import SubmissionNotFound
from judge.notebook.cells import gradable_cells
from judge.problem import KnownError, Problem, load_problem
from judge.result import Diagnostic, Report, Severity, Verdict

# ``judge.batch.collect`` is also the name of the function the package exports.
collect_module = importlib.import_module("judge.batch.collect")
# The rule that picks a folder's file, and its budgets (``judge batch`` collects by it).
candidates_module = importlib.import_module("judge.candidates")
ENTRY = "nn_vmap_forward"
SOLUTION = f"def {ENTRY}(seed, x_batch, features):\n    return x_batch\n"

# --- the old readers, as oracles ---------------------------------------------------------------

OLD_ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_][\w.,\s\[\]()*]*?)\s*=\s*([!%])")
OLD_LINE = re.compile(
    r"^\s*(?:[!%]|\?{1,2}[A-Za-z_][\w.]*\s*$|[A-Za-z_][\w.]*(?:\(\))?\?{1,2}\s*$)"
)
OLD_MARK = re.compile(r"^# --- notebook cell (\d+) ---$")
OLD_DEF = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)", re.M)


def old_python_line(line: str) -> str | None:
    found = OLD_ASSIGNMENT.match(line)
    if found is not None:
        return f"{found.group(1)} = {'[]' if found.group(2) == '!' else 'None'}"
    return None if OLD_LINE.match(line) else line


def old_cell_number(line: str) -> int | None:
    found = OLD_MARK.match(line)
    return int(found.group(1)) if found else None


def old_text_hash(source: str) -> str | None:
    """``normalized_hash`` of code that does not parse, as it was."""
    lines = [re.sub(r"#.*", "", line).rstrip() for line in source.splitlines()]
    kept = [line for line in lines if line.strip()]
    text = "text:" + "\n".join(kept)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() if kept else None


# --- generated ordinary text -------------------------------------------------------------------

PIECES = [
    *"ab_Z9é.,[]()*=!%?#: \t",
    "\u00a0",
    "\u2003",
    "²",
    "٣",
    "x",
    "==",
    "()",
    "??",
    "files",
    " = ",
    "!ls",
    "%who",
    "nn.Dense",
    "jax.random.PRNGKey",
]
LINE = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)
SOURCE_PIECES = [*PIECES, "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "def", "async", " def f"]
SOURCE = st.lists(st.sampled_from(SOURCE_PIECES), max_size=30).map("".join)
MARK = st.builds(
    lambda digits, head, tail: f"{head}{digits}{tail}",
    st.text(alphabet="0123456789٣ x", max_size=9),
    st.sampled_from(["# --- notebook cell ", "# --- notebook cell", "#--- notebook cell ", ""]),
    st.sampled_from([" ---", "---", " --- ", ""]),
)


@settings(max_examples=3000, deadline=None)
@given(LINE)
def test_python_line_gives_what_the_old_patterns_gave(line: str) -> None:
    assert sub.python_line(line) == old_python_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "files = !ls",
        "  out=!echo hi",
        "a, b[0] = %who_ls",
        "x = 5 % 3",
        "x == !y",
        "a[i=1] = !ls",
        "nn.vmap?",
        "f()??",
        "f()()?",
        "???x",
        "?nn.Dense",
        "%%time",
        "  !pip install flax",
        "print('why?')",
        "x ²= !ls",
        "x\u2003=\u2003%y",
        "é = !ls",
    ],
)
def test_python_line_on_chosen_lines(line: str) -> None:
    assert sub.python_line(line) == old_python_line(line)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(MARK, LINE))
def test_cell_markers_are_read_as_before(line: str) -> None:
    assert sub._cell_number(line) == old_cell_number(line)


@settings(max_examples=3000, deadline=None)
@given(SOURCE)
def test_def_names_of_unparsable_code_are_found_as_before(source: str) -> None:
    assert sub._DEF_NAME.findall(source) == OLD_DEF.findall(source)


@settings(max_examples=1000, deadline=None)
@given(SOURCE)
def test_normalized_hash_of_unparsable_code_is_as_before(source: str) -> None:
    broken = source + "\n)("  # never parses: the text route
    assert normalized_hash(broken) == old_text_hash(broken)


def test_a_cell_number_longer_than_any_notebook_has_is_no_marker(tmp_path: Path) -> None:
    """``int()`` refuses more than 4300 digits: such a "marker" in a cell once crashed the
    lookup of a line's cell."""
    fake = f"# --- notebook cell {'9' * 5000} ---"
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": f"{fake}\nx = 1"}]}))
    read = sub.read_submission(path)
    assert sub._cell_number(fake) is None
    assert read.cell_of_line(3) == (1, 2)


# --- growth -------------------------------------------------------------------------------------


# A 4x longer input may take at most this many times as long: linear is 4, quadratic 16.
LINEAR = 8


def _best(run: Callable[[], object], repeat: int = 5) -> float:
    """The shortest of a few runs (one, if it takes a second: a regression fails fast)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
        if best > 1.0:
            break
    return best


def growth(read: Callable[[str], object], make: Callable[[int], str], n: int) -> float:
    """How much longer ``read`` takes on ``make(4 n)`` than on ``make(n)``.

    Each is timed over enough rounds that the shorter takes 20 ms or more, so that a busy
    machine slows both alike; sizes are chosen so that the old readers took a tenth of a
    second or more on the shorter, so that a regression shows, and fails quickly.
    """
    small, large = make(n), make(4 * n)
    once = _best(lambda: read(small), repeat=2)
    rounds = max(1, min(10_000, int(0.02 / max(once, 1e-6))))

    def timed(text: str) -> float:
        return _best(lambda: [read(text) for _ in range(rounds)], repeat=3)

    ratio = float("inf")
    for _ in range(3):  # a busy machine can slow one measurement; it cannot make 16x look 4x
        ratio = min(ratio, timed(large) / timed(small))
        if ratio < LINEAR:
            break
    return ratio


def notebook(*sources: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": s} for s in sources]})


def converted(text: str) -> str | None:
    return sub.notebook_source(text)[0]


def lines_of(line: Callable[[int], str]) -> Callable[[int], str]:
    """A notebook of one cell: three such lines, then a line of Python."""
    return lambda n: notebook("\n".join([line(n)] * 3) + "\nz = 1\n")


NOTEBOOK_FAMILIES = {
    "blanks": lines_of(lambda n: " " * n),
    "x then blanks": lines_of(lambda n: "x" + " " * n),
    "x, blanks, !": lines_of(lambda n: "x" + " " * n + "!"),
    "x, blanks, = 1": lines_of(lambda n: "x" + " " * n + "= 1"),
    "x, blanks, = !": lines_of(lambda n: "x" + " " * n + "= !ls"),
    "nested brackets": lines_of(lambda n: "x" + "([" * (n // 2) + "= !ls"),
    "a= prefixes": lines_of(lambda n: "a=" * (n // 2)),
    "a, prefixes": lines_of(lambda n: "a," * (n // 2) + "= %who"),
    "question marks": lines_of(lambda n: "?" * n),
    "name then ??": lines_of(lambda n: "a" * n + "??"),
    "long comment": lines_of(lambda n: "#" * n),
    "many cell markers": lambda n: notebook(*(["x = 1\n"] * (n // 20))),
}


@pytest.mark.parametrize("family", sorted(NOTEBOOK_FAMILIES))
def test_reading_a_notebook_grows_linearly(family: str) -> None:
    assert growth(converted, NOTEBOOK_FAMILIES[family], 20_000) < LINEAR


SOURCE_FAMILIES: dict[str, Callable[[int], str]] = {
    "blank lines": lambda n: "\n" * n + "(",
    "blanks and newlines": lambda n: " \n" * (n // 2) + "(",
    "def then newlines": lambda n: ("def" + "\n" * 100) * (n // 103) + "(",
    "async then blanks": lambda n: ("async" + " " * 100 + "\n") * (n // 106) + "(",
    "indented defs": lambda n: ("    def f(\n") * (n // 11),
}


@pytest.mark.parametrize("family", sorted(SOURCE_FAMILIES))
def test_names_of_unparsable_code_grow_linearly(family: str) -> None:
    def names(source: str) -> object:
        return sub.Submission(Path("a.py"), "a.py", "py", source).defined_names()

    assert growth(names, SOURCE_FAMILIES[family], 5_000) < LINEAR


@pytest.mark.parametrize("family", sorted(SOURCE_FAMILIES))
def test_the_hash_of_unparsable_code_grows_linearly(family: str) -> None:
    assert growth(normalized_hash, SOURCE_FAMILIES[family], 20_000) < LINEAR


def test_finding_a_lines_cell_grows_linearly() -> None:
    def many_markers(n: int) -> str:
        return "".join(f"# --- notebook cell {k} ---\nx = 1\n\n" for k in range(n // 30))

    def last_line_cell(source: str) -> object:
        read = sub.Submission(Path("nb.ipynb"), "nb.ipynb", "ipynb", source)
        return read.cell_of_line(source.count("\n"))

    assert last_line_cell(many_markers(300)) == (9, 2)
    assert growth(last_line_cell, many_markers, 100_000) < LINEAR


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from([*" x(=!%?,.a[*#\t"]), min_size=1, max_size=4).map("".join),
    st.sampled_from(["", "!", "?", "??", "= 1", "= !ls", " = %who", "()?"]),
)
@example(" ", "")  # the attack: a name, then blanks, and no ``=``
def test_any_repeated_line_is_read_in_linear_time(unit: str, end: str) -> None:
    """Whatever a line repeats, and however it ends, reading it grows linearly (and stays
    fast: the old patterns took seconds on such lines well before this length)."""

    def read(line: str) -> object:
        return [sub.python_line(line) for _ in range(5)]

    def make(n: int) -> str:
        return "x" + unit * (n // len(unit)) + end

    assert growth(read, make, 5_000) < LINEAR
    assert _best(lambda: read(make(200_000)), repeat=1) < 2.0


def test_the_growth_check_catches_the_old_backtracking() -> None:
    """The check above is not blind: the old assignment pattern grows quadratically."""

    def old(text: str) -> object:
        return OLD_ASSIGNMENT.match(text)

    assert growth(old, lambda n: "x" + " " * n, 3_000) > LINEAR


# --- the attack, and the size bounds -----------------------------------------------------------


@pytest.mark.parametrize("line", [" " * 300_000, "x" + " " * 300_000, "x" + " " * 300_000 + "!"])
def test_three_lines_of_300000_blanks_are_read_in_seconds(tmp_path: Path, line: str) -> None:
    """The attack: each such line took the old IPython-line pattern 74 s or more."""
    path = tmp_path / "attack.ipynb"
    path.write_text(notebook("\n".join([line] * 3)))
    started = time.perf_counter()
    read = sub.read_submission(path)
    read.defined_names()
    normalized_hash(read.source)
    assert time.perf_counter() - started < 5
    if line.strip():
        assert read.problem is None and read.source.count(line) == 3
    else:
        assert read.problem is not None and read.problem[0] == "no_code"


def test_code_over_the_limit_stops_the_reading_at_that_cell(tmp_path: Path) -> None:
    """Conversion stops at the cell that passes the limit: the invalid cell after it is
    never reached, and the file is refused with the message it always had."""
    big = "x = 1\n" * (sub.MAX_SOURCE_BYTES // 6 + 1)
    cells = [{"cell_type": "code", "source": big}, {"cell_type": "code", "source": 3}]
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    with pytest.raises(SubmissionNotFound, match="code cells are larger than 2048 KiB"):
        sub.read_submission(path)


def test_the_size_limit_is_exact(tmp_path: Path) -> None:
    """The source (markers, cells and the blank lines between them) may be MAX_SOURCE_BYTES
    long, not one byte more: as when it was measured after the whole conversion."""
    marker = len("# --- notebook cell 1 ---\n")
    fill = sub.MAX_SOURCE_BYTES - marker - 1  # the cell, then the source's last newline
    for extra, fits in ((0, True), (1, False)):
        path = tmp_path / f"edge{extra}.ipynb"
        path.write_text(notebook("#" * (fill + extra)))
        if fits:
            assert len(sub.read_submission(path).source.encode()) == sub.MAX_SOURCE_BYTES
        else:
            with pytest.raises(SubmissionNotFound, match="code cells are larger"):
                sub.read_submission(path)


def test_millions_of_left_out_lines_are_refused_not_read(tmp_path: Path) -> None:
    """IPython-only lines leave nothing in the source, so lines are counted too."""
    path = tmp_path / "magics.ipynb"
    path.write_text(notebook("%a\n" * (sub.MAX_SOURCE_BYTES + 1)))
    with pytest.raises(SubmissionNotFound, match="code cells are larger"):
        sub.read_submission(path)
    path.write_text(notebook("%a\n" * 1000))
    few = sub.read_submission(path).problem
    assert few is not None and few[0] == "no_code"


def test_text_over_the_notebook_limit_is_not_decoded() -> None:
    source, reason = sub.notebook_source(" " * (sub.MAX_NOTEBOOK_BYTES + 1))
    assert source is None and reason is not None and "larger than" in reason


def test_code_over_the_limit_is_searched_not_parsed() -> None:
    huge = "def f():\n    pass\nx = 1\n" * (sub.MAX_SOURCE_BYTES // 20)
    assert sub.Submission(Path("a.py"), "a.py", "py", huge).defined_names()[:2] == ["f", "f"]
    assert normalized_hash(huge) is not None


HOSTILE_CODE = {
    "a+a+...": lambda n: "a" + "+a" * (n // 2),
    "((((...))))": lambda n: "(" * (n // 2) + ")" * (n // 2),
    "- - - a": lambda n: "-" * n + "a",
    "not not a": lambda n: "not " * (n // 4) + "a",
    "a.a.a...": lambda n: "a" + ".a" * (n // 2),
    "a()()()": lambda n: "a" + "()" * (n // 2),
    "huge int": lambda n: "1" * n,
    "nested lambdas": lambda n: ("lambda: " * 90 + "a\n") * (n // 722),
    "deep indentation": lambda n: "".join(" " * i + "if a:\n" for i in range(120)) + "a\n",
}


@pytest.mark.parametrize("shape", sorted(HOSTILE_CODE))
def test_hostile_code_is_parsed_or_refused_never_a_crash(shape: str) -> None:
    """Python's parser raises RecursionError, MemoryError or ValueError on some of these:
    each is caught (the text is then searched), none escapes, none hangs."""
    source = HOSTILE_CODE[shape](256 * 1024)
    started = time.perf_counter()
    sub.Submission(Path("a.py"), "a.py", "py", source).defined_names()
    normalized_hash(source)
    assert time.perf_counter() - started < 30


def test_kernel_cells_past_the_limit_are_not_parsed_and_the_notebook_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[int] = []
    real = ast.parse
    monkeypatch.setattr(ast, "parse", lambda text: parsed.append(len(text)) or real(text))
    big = "x = 1\n" * (sub.MAX_SOURCE_BYTES // 6 + 1)
    cells = gradable_cells(["y = 2\n", big])
    assert parsed == [len("y = 2")]
    source, reason = sub.notebook_source(cells.to_json())
    assert source is None and reason is not None and "larger than" in reason


# --- diagnose: the author's pattern, the learner's message --------------------------------------


@pytest.fixture(scope="module")
def problem() -> Problem:
    return load_problem(ENTRY)


def test_a_long_message_is_searched_only_at_its_start(problem: Problem) -> None:
    """``x.*y`` is quadratic on ``xxx...``: a million of them would take hours; the first
    MAX_MATCHED characters take a moment. A known error at the start is still found."""
    slow = KnownError(r"x.*y", "slow_pattern", "never matched here.", "")
    found = KnownError(r"^boom", "boom", "it went boom.", "")
    authored = dataclasses.replace(problem, known_errors=(slow, found))
    text = "x" * 1_000_000
    raised = Diagnostic("exception", Severity.ERROR, "m", "", {"message": text})
    started = time.perf_counter()
    assert diagnose.translate(authored, raised) is raised
    assert time.perf_counter() - started < 5
    boom = dataclasses.replace(raised, evidence={"message": "boom " + text})
    translated = diagnose.translate(authored, boom)
    assert translated.code == "boom" and translated.evidence["message"] == "boom " + text


# --- judge batch --------------------------------------------------------------------------------


def _report(path: Path, problem: Problem) -> Report:
    return Report(
        problem=problem.name,
        submission=str(path),
        verdict=Verdict.ACCEPTED,
        score=1.0,
        summary="accepted: stand-in",
        timing={"total_s": 0.01},
    )


def test_collecting_a_class_parses_no_one_s_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A student's one file is read and hashed before grading starts, never parsed: a file
    slow to parse cannot hold up the class there."""

    def refuse(*args: object) -> object:
        raise AssertionError("parsed before grading")

    monkeypatch.setattr(candidates_module, "parse_submission", refuse)
    monkeypatch.setattr(collect_module, "normalized_hash", refuse)
    source = tmp_path / "class"
    source.mkdir()
    (source / "attack.ipynb").write_text(notebook("\n".join(["x" + " " * 300_000] * 3)))
    (source / "alice.py").write_text(SOLUTION)
    (source / "bob").mkdir()
    (source / "bob" / "solution.py").write_text(SOLUTION)
    (source / "carol.py").write_bytes(b"#" * (sub.MAX_SOURCE_BYTES + 1))
    entries = {e.student: e for e in collect(source, ENTRY, tmp_path / "scratch").entries}
    assert sorted(entries) == ["alice", "attack", "bob", "carol"]
    assert all(entries[s].issue is None for s in ("alice", "attack", "bob"))
    data = (source / "attack.ipynb").read_bytes()
    assert entries["attack"].sha256 == hashlib.sha256(data).hexdigest()
    carol = entries["carol"].issue
    assert carol is not None and carol[0] == "unreadable_submission" and "larger" in carol[1]


def test_a_batch_grades_the_others_while_one_file_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one slow parse (held until every other student is saved) happens in that
    student's own job: were it parsed before grading, nobody would be saved and it would
    wait out its timeout."""
    problem = load_problem(ENTRY)
    source = tmp_path / "class"
    source.mkdir()
    others = [f"s{k}" for k in range(4)]
    for name in others:
        (source / f"{name}.py").write_text(SOLUTION + f"# {name}\n")
    (source / "a_slow.py").write_text(SOLUTION)  # first in line: it holds one of the 2 jobs
    saved: list[str] = []
    released = threading.Event()
    real = batch_student.read_submission

    def slow_read(path: str | Path) -> sub.Submission:
        if Path(path).name == "a_slow.py":
            assert released.wait(timeout=20), "parsed before the others were graded"
        return real(path)

    def on_result(record: object) -> None:
        saved.append(record.student)  # type: ignore[attr-defined]
        if set(others) <= set(saved):
            released.set()

    monkeypatch.setattr(batch_student, "read_submission", slow_read)
    monkeypatch.setattr(batch_student, "grade", lambda path, *a, **k: _report(path, problem))
    result = run_batch(source, problem, tmp_path / "out", jobs=2, on_result=on_result)
    assert released.is_set() and saved[-1] == "a_slow"
    # The code's hash, taken by each job: the same code under other comments is one group.
    assert result.groups == [sorted(["a_slow", *others])]


def test_a_notebook_whose_code_is_too_large_is_that_students_error_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the student's own grading now, not before: unreadable_submission, shown
    under its name in the class, and not graded again (no passing fault)."""
    problem = load_problem(ENTRY)
    source = tmp_path / "class"
    source.mkdir()
    (source / "alice.py").write_text(SOLUTION)
    (source / "big.ipynb").write_text(notebook("x = 1\n" * (sub.MAX_SOURCE_BYTES // 6 + 1)))
    calls: list[str] = []

    def grade(path: Path, *args: object, **kwargs: object) -> Report:
        calls.append(Path(path).name)
        sub.read_submission(path)  # what grade() does first
        return _report(path, problem)

    monkeypatch.setattr(batch_student, "grade", grade)
    result = run_batch(source, problem, tmp_path / "out", jobs=2)
    records = {r.student: r for r in result.records}
    big = records["big"]
    assert big.verdict == "judge_error" and big.codes == ["unreadable_submission"]
    assert "code cells are larger than" in big.report["summary"]
    assert sorted(calls) == ["alice.py", "big.ipynb"] and not result.retried
    assert records["alice"].verdict == "accepted" and records["alice"].normalized


def test_choosing_in_a_folder_parses_only_files_that_name_the_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real = sub.Submission.defined_names

    def counted(self: sub.Submission) -> list[str]:
        parsed.append(self.path.name)
        return real(self)

    monkeypatch.setattr(sub.Submission, "defined_names", counted)
    folder = tmp_path / "class" / "alice"
    folder.mkdir(parents=True)
    (folder / "solution.py").write_text(SOLUTION)
    (folder / "vendored.py").write_text("def helper():\n    return 1\n" * 20_000)
    (folder / "test_it.py").write_text(f"from solution import {ENTRY}\n")
    (entry,) = collect(tmp_path / "class", ENTRY, tmp_path / "scratch").entries
    assert entry.path == folder / "solution.py" and entry.issue is None
    assert sorted(parsed) == ["solution.py", "test_it.py"]


def test_a_folder_too_large_to_choose_from_is_that_students_issue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(candidates_module, "MAX_CHOICE_CODE", 10_000)
    folder = tmp_path / "class" / "mallory"
    folder.mkdir(parents=True)
    for k in range(3):
        (folder / f"f{k}.py").write_text(f"# {ENTRY}\n" + "x = 1\n" * 1000)
    (entry,) = collect(tmp_path / "class", ENTRY, tmp_path / "scratch").entries
    assert entry.issue is not None and entry.issue[0] == "ambiguous_submission"
    assert "keep only the one that defines" in entry.issue[1]
    monkeypatch.setattr(candidates_module, "MAX_CHOICE_BYTES", 5_000)
    (entry,) = collect(tmp_path / "class", ENTRY, tmp_path / "scratch2").entries
    assert entry.issue is not None and "would read more than" in entry.issue[1]


# Code that Python's compiler (not its parser) takes quadratic time on: many alike functions
# on separate lines. The judge checks syntax in its own process by parsing alone.
COMPILER_QUADRATIC = {
    "alike lambdas": lambda n: "g = lambda x: x\n" * n,
    "alike functions": lambda n: "def f(x):\n    return x\n" * n,
}


@pytest.mark.parametrize("family", sorted(COMPILER_QUADRATIC))
def test_the_judges_syntax_check_grows_linearly(family: str) -> None:
    from judge.runtime.wire import syntax_failure

    assert growth(lambda s: syntax_failure(s, "a.py"), COMPILER_QUADRATIC[family], 4_000) < LINEAR


def test_the_syntax_check_reports_what_compiling_reports() -> None:
    from judge.runtime.wire import compile_source, syntax_failure

    for source in ("def f(:\n", "x = (\n", "a b\n", "\0", "def f():\n  return 1\n"):
        assert syntax_failure(source, "a.py") == compile_source(source, "a.py")[1], source
