"""The report for people: verdict first, then the smallest failing case and what to do.

Built from rich ``Text`` objects, never markup strings, so nothing a learner prints or names
can restyle (or hide) the judge's words. Colour only when asked for (on a terminal).
"""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console
from rich.text import Text

from .. import wording
from ..result import Diagnostic, FailingCase, Report, RubricResult, Verdict

_STYLE = {
    Verdict.ACCEPTED: "bold green",
    Verdict.WRONG_ANSWER: "bold red",
    Verdict.RUNTIME_ERROR: "bold red",
    Verdict.TIME_LIMIT_EXCEEDED: "bold yellow",
    Verdict.MEMORY_LIMIT_EXCEEDED: "bold yellow",
    Verdict.COMPILE_ERROR: "bold magenta",
    Verdict.JUDGE_ERROR: "bold white on red",
}
_MARK = {"error": ("✗", "red"), "warning": ("!", "yellow"), "info": ("·", "cyan")}
MAX_OUTPUT_LINES = 20
# The widest a quoted error or value runs on its line; the JSON report keeps the whole text.
QUOTE_CHARS = 160


def _value(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _mismatch_lines(mismatch: dict[str, Any]) -> list[str]:
    ev = mismatch.get("evidence") or {}
    code = mismatch.get("code")
    if code == "values_mismatch":
        return [
            f"{ev.get('mismatched')} of {ev.get('total')} values off; max |expected - got| = "
            f"{ev.get('max_abs_error', 0):.3g} at {ev.get('worst_index')} "
            f"(atol {ev.get('atol'):g}, rtol {ev.get('rtol'):g})",
            f"first at {ev.get('first_index')}: expected {_value(ev.get('expected_at_first'))}, "
            f"got {_value(ev.get('got_at_first'))}",
        ]
    return [str(mismatch.get("message", ""))]


def _array_preview(data: dict[str, Any] | None, limit: int = 8) -> str:
    if not data:
        return "no answer (see below)"
    if "exception" in data:
        return f"raised {data['exception']} (see below)"
    if "values" not in data:
        shown = " ".join(str(data[k]) for k in ("type", "repr") if data.get(k) is not None)
        return wording.shorten(shown, QUOTE_CHARS)
    values = data["values"][:limit]
    more = " ..." if len(data["values"]) > limit or data.get("truncated") else ""
    shown = ", ".join(_value(v) for v in values)
    return f"shape {tuple(data['shape'])} {data['dtype']}: [{shown}{more}]"


def cut_note(lines: int, truncated: bool) -> str:
    """What a printed output's cut left out, said rather than dropped silently: the lines past
    MAX_OUTPUT_LINES, or that the output limit cut it while it ran; "" when nothing is cut."""
    if lines > MAX_OUTPUT_LINES:
        return f"... (+{lines - MAX_OUTPUT_LINES} more lines)"
    return "... (more was cut by the output limit)" if truncated else ""


def _collapse(lines: list[str]) -> list[str]:
    """Runs of one repeated line (a print inside the function) shown once, with a count."""
    out: list[str] = []
    run = 0
    for k, line in enumerate(lines):
        run += 1
        if k + 1 < len(lines) and lines[k + 1] == line:
            continue
        out.append(f"{line}   (x{run})" if run > 1 else line)
        run = 0
    return out


def visible(text: str) -> str:
    """Learner text with control characters shown as escapes (``\\x1b``), so that no escape
    sequence of theirs can clear the screen or paint a fake verdict; tabs and newlines kept."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() or c in "\t\n" else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


def _head(report: Report) -> list[Text]:
    head = Text()
    head.append(str(report.verdict), style=_STYLE[report.verdict])
    head.append(f"  {report.problem} · {visible(report.submission)} · score {report.score:.2f}")
    return [head, Text(f"  {visible(report.summary)}", style="dim")]


def _failing_lines(failing: FailingCase, said: str) -> list[Text]:
    """The smallest failing case; the mismatch's sentence only when no diagnostic below
    (``said``) already says it."""
    count = failing.shrink_steps
    steps = f", shrunk in {count} step{'s' if count != 1 else ''}" if count else ""
    # Only wrong answers and exceptions are shrunk, and not with --no-shrink (then nothing is
    # confirmed in a fresh process either): a timeout or a dead process is not "smallest".
    shrinkable = failing.mismatch is not None or "exception" in (failing.got or {})
    shrunk = shrinkable and (count > 0 or failing.fresh_process is not None)
    which = "smallest failing case" if shrunk else "failing case"
    lines = [Text(""), Text(f"  {which}{steps}:", style="bold")]
    for name, value in failing.inputs.items():
        shown = _array_preview(value, 12) if isinstance(value, dict) else str(value)
        lines.append(Text(f"    {name} = {shown}"))
    if failing.mismatch:
        for line in _mismatch_lines(failing.mismatch):
            if line not in said:
                lines.append(Text(f"    {line}"))
    lines.append(Text(f"    expected {_array_preview(failing.expected)}"))
    got = failing.got or {}
    if got.get("repr") and str(got["repr"]) in said:  # a diagnostic below quotes it whole
        lines.append(Text(f"    got      {got.get('type', 'a value')} (see below)"))
    else:
        lines.append(Text(f"    got      {_array_preview(failing.got)}"))
    return lines


_CASE_NUMBERS = re.compile(r"(\w+)[ =](-?\d+)")


def _other_case(where: object, failing: FailingCase | None) -> str | None:
    """A diagnostic's case (``evidence.case``) when it is not the failing case shown, to be
    printed beside it: a shape or a value the learner reads must belong to a case they see."""
    if not isinstance(where, str) or not where:
        return None
    if failing is not None:
        shown = {k: str(v) for k, v in failing.inputs.items() if isinstance(v, int)}
        if dict(_CASE_NUMBERS.findall(where)) == shown:
            return None
    return where


_CONSEQUENCE = re.compile(r" \(a consequence of (\w+)\)$")


def _consequence_of(diagnostic: Diagnostic) -> str | None:
    """The root cause a diagnostic follows from (``diagnose.rank``), also in reports written
    before ``evidence.consequence_of`` was recorded."""
    cause = diagnostic.evidence.get("consequence_of")
    if isinstance(cause, str) and cause:
        return cause
    found = _CONSEQUENCE.search(diagnostic.message)
    return found.group(1) if found else None


def _diagnostic_lines(diagnostics: list[Diagnostic], failing: FailingCase | None) -> list[Text]:
    """Each diagnostic: its message, the learner's traceback, the original text of a known
    library error (its first meaningful line, cut between words), the case it was seen on when
    that is not the one shown, and its hint, each hint once (a consequence's hint is left to
    its cause, whose fix is the one to make)."""
    lines = [Text("")] if diagnostics else []
    hints: set[str] = set()
    causes: set[str] = set()
    for diagnostic in diagnostics:
        evidence = diagnostic.evidence
        message = diagnostic.message
        cause = _consequence_of(diagnostic)
        if cause:
            # Said once above its consequences, not after each of them.
            message = message.removesuffix(f" (a consequence of {cause})")
            if cause not in causes:
                causes.add(cause)
                lines.append(Text(f"  what follows from {cause}:", style="dim"))
        mark, colour = _MARK.get(str(diagnostic.severity), ("·", "cyan"))
        line = Text(f"  {mark} ", style=colour)
        line.append(diagnostic.code, style=f"bold {colour}")
        line.append(f": {visible(message)}")
        lines.append(line)
        trace = evidence.get("traceback")
        for tb in trace if isinstance(trace, list) else []:
            lines.append(Text(f"      {visible(str(tb))}", style="dim"))
        if evidence.get("text") and diagnostic.code == "syntax_error":
            lines.append(Text(f"      {visible(str(evidence['text']))}", style="dim"))
        if evidence.get("raised"):
            first = wording.first_meaningful_line(str(evidence["raised"]))
            original = wording.shorten(first, QUOTE_CHARS)
            lines.append(Text(f"      the original error: {visible(original)}", style="dim"))
        where = _other_case(evidence.get("case"), failing)
        if where is not None and where not in diagnostic.message:
            other = "another case than the one above" if failing is not None else "the case"
            lines.append(Text(f"      seen on {other}: {where}", style="dim"))
        hint = diagnostic.hint
        if hint and hint not in hints and not cause:
            hints.add(hint)
            lines.append(Text(f"    hint: {hint}", style="italic"))
    return lines


def _rubric_lines(rubric: list[RubricResult]) -> list[Text]:
    if not rubric:
        return []
    lines = [Text(""), Text("  rubric:", style="bold")]
    width = max(len(str(item.title)) for item in rubric)
    run = 0  # items in a row that share the note to print after the last of them
    for k, item in enumerate(rubric):
        mark, colour = ("✓", "green") if item.passed else ("✗", "red")
        line = Text(f"    {mark} ", style=colour)
        line.append(f"{item.title:<{width}}  {item.score:.2f} / {item.weight:.2f}")
        if item.required and not item.passed:
            line.append("  required", style="bold red")
        lines.append(line)
        note = item.note  # why it earned less: an item it requires was not earned...
        run = run + 1 if note else 0
        if note and (k + 1 == len(rubric) or rubric[k + 1].note != note):
            which = f"the {run} items above: " if run > 1 else ""
            lines.append(Text(f"      {which}{note}", style="dim"))
            run = 0
    return lines


def _output_lines(output: dict[str, Any]) -> list[Text]:
    lines: list[Text] = []
    for stream in ("stdout", "stderr"):
        text = str(output.get(stream) or "").rstrip()
        if not text:
            continue
        kept = _collapse(text.splitlines())
        lines.append(Text(""))
        lines.append(Text(f"  your code printed ({stream}):", style="bold"))
        for out_line in kept[:MAX_OUTPUT_LINES]:
            lines.append(Text(f"    | {visible(out_line)}", style="dim"))
        cut = cut_note(len(kept), bool(output.get("truncated")))
        if cut:
            lines.append(Text(f"    | {cut}", style="dim"))
    return lines


def _footer(report: Report) -> list[Text]:
    cases, env = report.cases, report.environment
    ran = (
        (
            f"{cases.get('passed', 0)} of {cases.get('run', 0)} cases passed "
            f"({cases.get('informative', 0)} informative)"
        )
        if cases.get("run")
        else "no case ran"
    )
    return [
        Text(""),
        Text(
            f"  {ran}, case seed {cases.get('seed', 0)}; backend {env.get('backend', '?')}; "
            f"{report.timing.get('total_s', 0.0):.1f} s",
            style="dim",
        ),
    ]


def _summary_repeats(report: Report) -> bool:
    """Whether the summary says nothing a diagnostic below does not (``<verdict>: <message>``
    of a report with no case shown): then it is left out, not read twice."""
    said = report.summary.removeprefix(f"{report.verdict}: ")
    return report.failing_case is None and any(d.message == said for d in report.diagnostics)


def build(report: Report) -> list[Text]:
    """The report as lines of styled text."""
    failing = report.failing_case
    lines = _head(report)
    if _summary_repeats(report):
        lines = lines[:1]
    if failing is not None:
        said = "\n".join(d.message for d in report.diagnostics)
        lines += _failing_lines(failing, said)
    lines += _diagnostic_lines(report.diagnostics, failing)
    lines += _rubric_lines(report.rubric)
    if failing is not None:
        reproduce = Text("  reproduce: ", style="bold").append(failing.reproducer, style="not bold")
        lines += [Text(""), reproduce]
    if any("reference" in line.plain for line in lines):
        lines += [Text(""), Text(f"  {wording.REFERENCE_NOTE}", style="dim")]
    return lines + _output_lines(report.output) + _footer(report)


def render(report: Report, color: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=width,
        soft_wrap=True,
        highlight=False,
        emoji=False,
    )
    for line in build(report):
        console.print(line)
    return buffer.getvalue()
