"""Reports a learner acts on: the wording checks over every example's text report, and
snapshots of one or two reports per class, reviewed like code.

The examples are graded once per run, shared with ``test_submissions`` (its ``graded``
cache): this file adds only rendering and reading. To regenerate the snapshots after an
intended change, and then review the diff of ``tests/snapshots/``:

    JUDGE_UPDATE_SNAPSHOTS=1 pytest tests/e2e/test_report_wording.py -m slow -k snapshot
"""

from __future__ import annotations

import os
import re

import pytest
from report_wording import broken_urls, cut_words, problems, repeats, unshown_cases
from test_submissions import EXAMPLES, ROOT, graded

from judge.render import text as text_render
from judge.result import Diagnostic, FailingCase, Report, Severity, Verdict

SNAPSHOTS = ROOT / "tests" / "snapshots"
UPDATE = os.environ.get("JUDGE_UPDATE_SNAPSHOTS") == "1"

# One or two examples per verdict and root-cause class: what each kind of report looks like.
SNAPSHOT_EXAMPLES = {
    "nn_vmap_forward": [
        "accepted/canonical.py",  # accepted
        "accepted/renamed_parameters.py",  # accepted, with a warning
        "compile_error/misnamed_function.py",  # did-you-mean
        "compile_error/syntax_error.py",
        "memory_limit_exceeded/huge_array.py",
        "time_limit_exceeded/infinite_loop.py",
        "runtime_error/split_rngs_with_shared_params.py",  # a known Flax error, translated
        "runtime_error/raises.py",  # an exception of the learner's own
        "wrong_answer/in_axes_1.py",  # structural, shrunk in its dimensions
        "wrong_answer/ensemble_same_key.py",  # structure only: every output matched
        "wrong_answer/column_major_flatten.py",  # a fingerprint, its consequences
        "wrong_answer/returns_tuple.py",  # not an array
    ],
    "nn_vmap_ensemble": [
        "compile_error/wrong_name.py",  # another exercise's function
        "wrong_answer/call_counter.py",  # state kept between calls
    ],
}
SNAPSHOTTED = [
    (name, example) for name, example in EXAMPLES if example.name in SNAPSHOT_EXAMPLES.get(name, [])
]


def rendered(report: Report) -> str:
    return text_render.render(report, color=False)


def normalised(text: str) -> str:
    """The text without what changes from run to run or machine to machine: the checkout's
    path and the time taken."""
    text = text.replace(f"{ROOT}/", "")
    return re.sub(r"; \d+(\.\d+)? s$", "; <time> s", text, flags=re.MULTILINE)


# --- the checks themselves, on reports made here ------------------------------------------


def _report(message: str, **changes) -> Report:
    diagnostic = Diagnostic(
        "exception",
        Severity.ERROR,
        message,
        "Fix the line the traceback points to.",
        {"case": "seed 0, batch=1"},
    )
    fields = {
        "problem": "p",
        "submission": "f.py",
        "verdict": Verdict.RUNTIME_ERROR,
        "score": 0.0,
        "summary": "runtime_error on case 1 of 2 (exception)",
        "diagnostics": [diagnostic],
        "failing_case": FailingCase(
            index=0,
            inputs={"seed": 0, "batch": 1},
            expected=None,
            got=None,
            mismatch=None,
            reproducer="f(0, 1)",
        ),
    }
    return Report(**{**fields, **changes})


LONG = (
    "ValueError: at vmap, got axis spec None but output was batched on axis 0. For "
    "simplicity, JAX has removed its internal frames (https://example.org/docs/errors#vmap)."
)


def test_a_line_cut_mid_word_is_found_and_one_cut_between_words_is_not() -> None:
    report = _report(LONG)
    assert cut_words("  got ValueError: at vmap, got axis spec None but output was batch", report)
    assert not cut_words("  got ValueError: at vmap, got axis spec None but output was ...", report)
    assert not cut_words(f"  ✗ exception: {LONG}", report)


def test_a_cut_url_is_found() -> None:
    report = _report(LONG)
    assert broken_urls("see https://example.org/docs/err", report)
    assert not broken_urls("see https://example.org/docs/errors#vmap", report)


def test_a_repeated_line_or_sentence_is_found_and_a_case_named_twice_is_not() -> None:
    hint = "    hint: Look for a loop that never ends, a sleep, or work that grows."
    assert repeats(f"{hint}\n  other\n{hint}")
    said = "the function gave no answer within 2 s on the case shown"
    assert repeats(f"  timeout: {said}\n  ✗ timeout: {said}.")
    assert not repeats(
        "  on (seed 0, batch=1, in_dim=2, features=3)\n  case seed 0, batch=1, in_dim=2, features=3"
    )


def test_evidence_about_another_case_must_be_printed_beside_it() -> None:
    other = dict(evidence={"case": "seed 7, batch=8"})
    diagnostic = Diagnostic("param_tree_mismatch", Severity.ERROR, "kernel (7, 7)", "h", **other)
    report = _report("x", diagnostics=[diagnostic])
    bare = "  ✗ param_tree_mismatch: kernel (7, 7)\n    hint: h\n"
    assert unshown_cases(bare, report)
    beside = (
        "  ✗ param_tree_mismatch: kernel (7, 7)\n"
        "      seen on another case than the one above: seed 7, batch=8\n"
    )
    assert not unshown_cases(beside, report)
    assert not problems(rendered(report), report), "the renderer prints it beside"


def test_the_renderer_passes_the_checks_on_a_long_library_error() -> None:
    """A known error's original text: its first meaningful line, cut between words; the
    exception in ``got`` is named, not quoted a second time."""
    long = "\n-----\n".join([LONG * 3, "For simplicity, JAX has removed its internal frames"])
    failing = FailingCase(
        index=0,
        inputs={"seed": 0, "batch": 1},
        expected=None,
        got={"exception": "ValueError", "message": long},
        mismatch=None,
        reproducer="f(0, 1)",
    )
    report = _report("Flax refused the layer.", failing_case=failing)
    report.diagnostics[0].evidence["raised"] = long
    text = rendered(report)
    (original,) = [line for line in text.splitlines() if "the original error:" in line]
    assert original.endswith(" ...") and len(original) < 200
    assert "raised ValueError (see below)" in text
    assert not problems(text, report), problems(text, report)


# --- the corpus --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[f"{n}/{e.name}" for n, e in EXAMPLES])
def test_every_text_report_reads_well(name: str, example) -> None:
    report = graded(name, example.path)
    text = rendered(report)
    found = problems(text, report)
    assert not found, "\n".join([*found, "", text])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "example"), SNAPSHOTTED, ids=[f"{n}/{e.name}" for n, e in SNAPSHOTTED]
)
def test_text_report_snapshot(name: str, example) -> None:
    text = normalised(rendered(graded(name, example.path)))
    path = SNAPSHOTS / name / (example.name.replace("/", "__") + ".txt")
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot: run with JUDGE_UPDATE_SNAPSHOTS=1 to write {path}"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.relative_to(ROOT)} differs; if intended, regenerate with JUDGE_UPDATE_SNAPSHOTS=1 "
        "and review the diff"
    )


def test_every_snapshot_example_exists() -> None:
    """A renamed example must not silently drop its snapshot."""
    listed = {(n, e) for n, names in SNAPSHOT_EXAMPLES.items() for e in names}
    assert listed == {(n, e.name) for n, e in SNAPSHOTTED}
    stale = {p.relative_to(SNAPSHOTS).as_posix() for p in SNAPSHOTS.glob("*/*.txt")} - {
        f"{n}/{e.replace('/', '__')}.txt" for n, e in listed
    }
    assert not stale, f"snapshots of no listed example: {sorted(stale)}"
