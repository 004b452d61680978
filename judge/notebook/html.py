"""A report shown inline in a notebook: HTML for Jupyter and Colab, text for everything else.

Inline styles only, no ``<style>`` element: JupyterLab puts an output's ``<style>`` into the
whole page, where it would restyle the learner's notebook. Colours are chosen to read on a
light and on a dark theme alike: the text takes the theme's own colour (``inherit``); badges are
white on a saturated fill; lines and panels are translucent grey, which darkens a light page and
lightens a dark one. Every piece of learner text (printed output, names, messages quoting their
code) is escaped, and control characters are shown as escapes, as in the text report.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..render import text
from ..result import Diagnostic, FailingCase, Report, RubricResult, Verdict

if TYPE_CHECKING:
    from ..assignment.report import AssignmentReport

# Badge fills: white text on each passes WCAG AA, and each stands out on white and on black.
_FILL = {
    Verdict.ACCEPTED: "#1a7f37",
    Verdict.WRONG_ANSWER: "#cf222e",
    Verdict.RUNTIME_ERROR: "#cf222e",
    Verdict.TIME_LIMIT_EXCEEDED: "#9a6700",
    Verdict.MEMORY_LIMIT_EXCEEDED: "#9a6700",
    Verdict.COMPILE_ERROR: "#8250df",
    Verdict.JUDGE_ERROR: "#57606a",
}
# Marks on the page's own background: mid-tones that read on white and on near-black.
_PASS, _FAIL, _WARN, _INFO = "#2da44e", "#e5534b", "#d4a72c", "#4493f8"
_MARK = {"error": ("✗", _FAIL), "warning": ("!", _WARN), "info": ("·", _INFO)}
_LINE = "rgba(127,127,127,.35)"
_PANEL = "rgba(127,127,127,.12)"
_BOX = (
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;line-height:1.45;color:inherit;"
    f"border:1px solid {_LINE};border-radius:8px;padding:12px 16px;margin:4px 0;max-width:62rem"
)
_PRE = (
    f"white-space:pre-wrap;word-break:break-word;background:{_PANEL};color:inherit;"
    "border-radius:6px;padding:6px 10px;margin:4px 0;font-size:90%"
)
_MUTED = "opacity:.75"
_CELL = f"padding:3px 10px 3px 0;border-bottom:1px solid {_LINE};text-align:left"
_PREVIEW_VALUES = 12


def esc(value: object) -> str:
    """Text for HTML: control characters visible, markup escaped."""
    return html.escape(text.visible(str(value)))


def badge(verdict: Verdict | str) -> str:
    """The verdict as a coloured label; its ``data-verdict`` lets a test find it."""
    fill = _FILL.get(Verdict(str(verdict)), "#57606a")
    return (
        f'<span data-verdict="{esc(verdict)}" style="background:{fill};color:#fff;'
        'font-weight:600;border-radius:4px;padding:1px 8px">'
        f"{esc(verdict)}</span>"
    )


def _score_bar(score: float) -> str:
    width = max(0.0, min(1.0, score)) * 100
    colour = _PASS if score >= 1.0 else _WARN if score > 0 else _FAIL
    return (
        f'<span style="display:inline-block;vertical-align:middle;width:8rem;height:.6rem;'
        f'background:{_PANEL};border-radius:3px;margin-left:8px;overflow:hidden">'
        f'<span style="display:block;height:100%;width:{width:.0f}%;background:{colour}">'
        "</span></span>"
    )


def _heading(title: str) -> str:
    return f'<div style="font-weight:600;margin:10px 0 2px">{esc(title)}</div>'


def _preview(data: dict[str, Any] | None) -> str:
    """An array in one line: its shape, dtype and first values."""
    if not data:
        return "-"
    if "values" not in data:
        return ", ".join(f"{k}={v}" for k, v in data.items() if v is not None)[:200]
    values = data["values"][:_PREVIEW_VALUES]
    shown = ", ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in values)
    more = " ..." if len(data["values"]) > _PREVIEW_VALUES or data.get("truncated") else ""
    return f"shape {tuple(data['shape'])} {data['dtype']}: [{shown}{more}]"


def _failing(failing: FailingCase) -> str:
    """The smallest failing case: its inputs, what differs, and the line that reproduces it."""
    steps = failing.shrink_steps
    plural = "s" if steps != 1 else ""
    title = "smallest failing case" + (f", shrunk in {steps} step{plural}" if steps else "")
    rows = [
        f'<tr><td style="{_CELL}"><code>{esc(name)}</code></td>'
        f'<td style="{_CELL}"><code>'
        f"{esc(_preview(value) if isinstance(value, dict) else value)}</code></td></tr>"
        for name, value in failing.inputs.items()
    ]
    lines = []
    if failing.mismatch:
        lines.append(str(failing.mismatch.get("message", "")))
    lines.append(f"expected {_preview(failing.expected)}")
    lines.append(f"got      {_preview(failing.got)}")
    return (
        f'<div data-part="failing-case">{_heading(title)}'
        f'<table style="border-collapse:collapse">{"".join(rows)}</table>'
        f'<pre style="{_PRE}">{esc(chr(10).join(lines))}</pre>'
        f'<div>reproduce:</div><pre style="{_PRE}">{esc(failing.reproducer)}</pre></div>'
    )


def _diagnostic(diagnostic: Diagnostic) -> str:
    mark, colour = _MARK.get(str(diagnostic.severity), ("·", _INFO))
    parts = [
        f'<div data-code="{esc(diagnostic.code)}" style="margin:6px 0">'
        f'<span style="color:{colour};font-weight:700">{mark}</span> '
        f'<code style="color:{colour};font-weight:600">{esc(diagnostic.code)}</code>: '
        f"{esc(diagnostic.message)}"
    ]
    trace = diagnostic.evidence.get("traceback")
    if isinstance(trace, list) and trace:
        parts.append(f'<pre style="{_PRE}">{esc(chr(10).join(map(str, trace)))}</pre>')
    if diagnostic.code == "syntax_error" and diagnostic.evidence.get("text"):
        parts.append(f'<pre style="{_PRE}">{esc(diagnostic.evidence["text"])}</pre>')
    if diagnostic.hint:
        parts.append(
            f'<div data-part="hint" style="margin-left:1.2em"><em>hint:</em> '
            f"{esc(diagnostic.hint)}</div>"
        )
    return "".join(parts) + "</div>"


def _rubric(items: Sequence[RubricResult]) -> str:
    if not items:
        return ""
    rows = []
    for item in items:
        passed = bool(item.passed)
        mark = f'<span style="color:{_PASS if passed else _FAIL};font-weight:700">'
        mark += ("✓" if passed else "✗") + "</span>"
        required = (
            f'<span style="color:{_FAIL};font-weight:600">required</span>'
            if item.required and not passed
            else ""
        )
        rows.append(
            f'<tr data-item="{esc(item.id)}"><td style="{_CELL}">{mark}</td>'
            f'<td style="{_CELL}">{esc(item.title)}</td>'
            f'<td style="{_CELL};text-align:right;white-space:nowrap">'
            f"{item.score:.2f} / {item.weight:.2f}</td>"
            f'<td style="{_CELL}">{required}</td></tr>'
        )
    return (
        f'<div data-part="rubric">{_heading("rubric")}'
        f'<table style="border-collapse:collapse">{"".join(rows)}</table></div>'
    )


def _printed(output: dict[str, Any]) -> str:
    parts = []
    for stream in ("stdout", "stderr"):
        printed = str(output.get(stream) or "").rstrip()
        if printed:
            lines = printed.splitlines()
            shown = "\n".join(lines[: text.MAX_OUTPUT_LINES])
            cut = text.cut_note(len(lines), bool(output.get("truncated")))
            if cut:
                shown += "\n" + cut
            parts.append(
                f"<details><summary>your code printed ({stream})</summary>"
                f'<pre style="{_PRE}">{esc(shown)}</pre></details>'
            )
    return "".join(parts)


def _footer(report: Report) -> str:
    cases, env = report.cases, report.environment
    ran = (
        f"{cases.get('passed', 0)} of {cases.get('run', 0)} cases passed"
        if cases.get("run")
        else "no case ran"
    )
    return (
        f'<div style="{_MUTED};font-size:85%;margin-top:8px">{esc(ran)}, case seed '
        f"{esc(cases.get('seed', 0))}; backend {esc(env.get('backend', '?'))}; sandbox "
        f"{esc(env.get('sandbox', '?'))}; {report.timing.get('total_s', 0.0):.1f} s</div>"
    )


def _notes(notes: Sequence[str]) -> str:
    return "".join(
        f'<div data-part="note" style="{_MUTED};font-size:90%">note: {esc(n)}</div>' for n in notes
    )


def report_body(report: Report) -> str:
    """One problem's report without its frame: summary, failing case, findings, rubric."""
    parts = [f'<div style="{_MUTED}">{esc(report.summary)}</div>']
    if report.failing_case is not None:
        parts.append(_failing(report.failing_case))
    if report.diagnostics:
        parts.append(_heading("what the judge found"))
        parts.extend(_diagnostic(d) for d in report.diagnostics)
    parts.append(_rubric(report.rubric))
    parts.append(_printed(report.output))
    parts.append(_footer(report))
    return "".join(parts)


def report_html(report: Report, notes: Sequence[str] = ()) -> str:
    """One problem's report as an HTML fragment for a notebook's output."""
    return (
        f'<div class="judge-report" data-verdict="{esc(report.verdict)}" style="{_BOX}">'
        f'<div style="font-size:110%">{badge(report.verdict)} '
        f"<strong>{esc(report.problem)}</strong> · score "
        f'<span data-part="score">{report.score:.2f}</span>{_score_bar(report.score)}</div>'
        f"{_notes(notes)}{report_body(report)}</div>"
    )


def report_text(report: Report, notes: Sequence[str] = ()) -> str:
    """The same report as plain text (a terminal, a frontend that shows no HTML)."""
    return "".join(f"note: {n}\n" for n in notes) + text.render(report, color=False)


def assignment_html(report: AssignmentReport, notes: Sequence[str] = ()) -> str:
    """An assignment's report: the total, a row per problem, and each problem's own report
    (open when it was not accepted)."""
    rows, sections = [], []
    for part in report.parts:
        verdict = part.report.verdict
        rows.append(
            f'<tr data-problem="{esc(part.problem)}"><td style="{_CELL}">{esc(part.problem)}</td>'
            f'<td style="{_CELL}">{badge(verdict)}</td>'
            f'<td style="{_CELL};text-align:right">{part.points:g} / {part.max_points:g}</td></tr>'
        )
        opened = "" if verdict is Verdict.ACCEPTED else " open"
        sections.append(
            f'<details{opened} style="margin-top:8px"><summary>{badge(verdict)} '
            f"<strong>{esc(part.problem)}</strong> · {part.points:g} of {part.max_points:g} "
            f"points</summary>{report_body(part.report)}</details>"
        )
    return (
        f'<div class="judge-report" data-verdict="{esc(report.verdict)}" style="{_BOX}">'
        f'<div style="font-size:110%">{badge(report.verdict)} '
        f"<strong>{esc(report.title or report.assignment)}</strong> · "
        f'<span data-part="points">{report.points:g} of {report.max_points:g}</span> points'
        f"{_score_bar(report.score)}</div>{_notes(notes)}"
        f'<div style="{_MUTED}">{esc(report.summary)}</div>'
        f'<table style="border-collapse:collapse;margin-top:6px">{"".join(rows)}</table>'
        f"{''.join(sections)}</div>"
    )


def assignment_text(report: AssignmentReport, notes: Sequence[str] = ()) -> str:
    """An assignment's report as plain text: the total, then each problem's text report."""
    lines = [f"note: {n}" for n in notes] + [f"{report.assignment}: {report.summary}"]
    for part in report.parts:
        lines.append(f"  {part.problem}: {part.report.verdict}, {part.points:g} of "
                     f"{part.max_points:g} points")  # fmt: skip
    sections = [text.render(part.report, color=False) for part in report.parts]
    return "\n".join(lines) + "\n\n" + "\n".join(sections)


def error_html(message: str) -> str:
    """A check that could not run (an unknown problem, no sandbox): one line, in the frame."""
    return (
        f'<div class="judge-report" data-verdict="error" style="{_BOX}">'
        f'<span style="color:{_FAIL};font-weight:700">judge.check: error:</span> '
        f"{esc(message)}</div>"
    )
