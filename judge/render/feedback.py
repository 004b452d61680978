"""A learner's feedback: Markdown (the text report in a fenced block) and a self-contained
HTML page (the same report, coloured, readable in any browser, nothing fetched).

What a class's report says for the instructor (the file's path in the class, in its
submission, summary and messages) is shown here as the student knows it: the report is read
through ``candidates.student_view``, which names the file relative to the student's own folder.
Hints need nothing: a report's hints are the student's advice already (the instructor's is in
a diagnostic's evidence, which feedback never shows)."""

from __future__ import annotations

import html
import io
import re

from rich.console import Console

from ..candidates import student_view
from ..result import Report
from . import text


def _markdown_text(value: str) -> str:
    """A learner-chosen name as literal Markdown text: no markup, no HTML, no line break."""
    flat = " ".join(text.visible(value).split())
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", flat)


def render(report: Report, student: str) -> str:
    """The feedback of ``student``, whose result is ``report``; Markdown, without colour."""
    report = student_view(report, student)
    body = text.render(report, color=False).rstrip("\n")
    # The fence is longer than any run of backticks in the report, so none can close it.
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return (
        f"# Feedback: {report.problem}\n\n"
        f"Student: {_markdown_text(student)} · verdict: {report.verdict} · "
        f"score {report.score:.2f}\n\n"
        f"{fence}text\n{body}\n{fence}\n"
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 62rem;
       padding: 0 1rem; color: #1b1b1b; background: #fff; }}
pre {{ white-space: pre-wrap; word-break: break-word; background: #fafafa;
      border: 1px solid #ddd; padding: 1rem; border-radius: 6px; }}
@media (prefers-color-scheme: dark) {{
  body {{ color: #e6e6e6; background: #161616; }}
  pre {{ background: #1f1f1f; border-color: #333; }}
}}
</style></head><body>
<h1>{title}</h1>
<p>Student: {student} · verdict: <strong>{verdict}</strong> · score {score:.2f}</p>
<p class="muted">The reference is the course's own solution: your function is run on the same
inputs and its outputs and structure are compared with it.</p>
{body}
</body></html>
"""


def render_html(report: Report, student: str) -> str:
    """The feedback of ``student`` as one HTML page: the text report's lines, coloured by
    ``rich`` with inline styles; every piece of learner text escaped."""
    report = student_view(report, student)
    console = Console(
        file=io.StringIO(), record=True, width=100, force_terminal=True, color_system="standard",
        highlight=False, emoji=False, soft_wrap=True,
    )  # fmt: skip
    for line in text.build(report):
        console.print(line)
    body = console.export_html(inline_styles=True, code_format="<pre>{code}</pre>")
    return _PAGE.format(
        title=html.escape(f"Feedback: {report.problem}"),
        student=html.escape(text.visible(student)),
        verdict=html.escape(str(report.verdict)),
        score=report.score,
        body=body,
    )
