"""The report for people: verdict first, then the smallest failing case and what to do.

Built from rich ``Text`` objects, never markup strings, so nothing a learner prints or names
can restyle (or hide) the judge's words. Colour only when asked for (on a terminal).
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.text import Text

from ..result import Diagnostic, FailingCase, Report, Verdict

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
        return "-"
    if "values" not in data:
        return ", ".join(f"{k}={v}" for k, v in data.items() if v is not None)[:200]
    values = data["values"][:limit]
    more = " ..." if len(data["values"]) > limit or data.get("truncated") else ""
    shown = ", ".join(_value(v) for v in values)
    return f"shape {tuple(data['shape'])} {data['dtype']}: [{shown}{more}]"


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


def _failing_lines(failing: FailingCase) -> list[Text]:
    count = failing.shrink_steps
    steps = f", shrunk in {count} step{'s' if count != 1 else ''}" if count else ""
    lines = [Text(""), Text(f"  smallest failing case{steps}:", style="bold")]
    for name, value in failing.inputs.items():
        shown = _array_preview(value, 12) if isinstance(value, dict) else str(value)
        lines.append(Text(f"    {name} = {shown}"))
    if failing.mismatch:
        for line in _mismatch_lines(failing.mismatch):
            lines.append(Text(f"    {line}"))
    lines.append(Text(f"    expected {_array_preview(failing.expected)}"))
    lines.append(Text(f"    got      {_array_preview(failing.got)}"))
    return lines


def _diagnostic_lines(diagnostics: list[Diagnostic]) -> list[Text]:
    lines = [Text("")] if diagnostics else []
    for diagnostic in diagnostics:
        mark, colour = _MARK.get(str(diagnostic.severity), ("·", "cyan"))
        line = Text(f"  {mark} ", style=colour)
        line.append(diagnostic.code, style=f"bold {colour}")
        line.append(f": {visible(diagnostic.message)}")
        lines.append(line)
        trace = diagnostic.evidence.get("traceback")
        for tb in trace if isinstance(trace, list) else []:
            lines.append(Text(f"      {visible(str(tb))}", style="dim"))
        if diagnostic.evidence.get("text") and diagnostic.code == "syntax_error":
            lines.append(Text(f"      {visible(str(diagnostic.evidence['text']))}", style="dim"))
        if diagnostic.hint:
            lines.append(Text(f"    hint: {diagnostic.hint}", style="italic"))
    return lines


def _rubric_lines(rubric: list[dict[str, Any]]) -> list[Text]:
    if not rubric:
        return []
    lines = [Text(""), Text("  rubric:", style="bold")]
    width = max(len(str(item["title"])) for item in rubric)
    for item in rubric:
        mark, colour = ("✓", "green") if item["passed"] else ("✗", "red")
        line = Text(f"    {mark} ", style=colour)
        line.append(f"{item['title']:<{width}}  {item['score']:.2f} / {item['weight']:.2f}")
        if item["required"] and not item["passed"]:
            line.append("  required", style="bold red")
        lines.append(line)
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
        if len(kept) > MAX_OUTPUT_LINES or output.get("truncated"):
            lines.append(Text("    | ... (cut)", style="dim"))
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


def build(report: Report) -> list[Text]:
    """The report as lines of styled text."""
    failing = report.failing_case
    lines = _head(report)
    if failing is not None:
        lines += _failing_lines(failing)
    lines += _diagnostic_lines(report.diagnostics)
    lines += _rubric_lines(report.rubric)
    if failing is not None:
        reproduce = Text("  reproduce: ", style="bold").append(failing.reproducer, style="not bold")
        lines += [Text(""), reproduce]
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
