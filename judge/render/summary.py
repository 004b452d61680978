"""A class's results at a glance: one self-contained HTML page, and a table for the terminal.

The page is a single file with inline CSS and inline SVG charts, no JavaScript, no fonts, images
or stylesheets fetched from anywhere: it opens from a CI artifact, an e-mail attachment or a
machine with no network, and nothing in it can phone home. Every name and message in it comes
from learners' files, so every piece of text is escaped.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from .. import wording
from ..result import Verdict
from .text import visible

SLOWEST = 10
BINS = 10
_COLOUR = {
    "accepted": "#2e7d32",
    "wrong_answer": "#c62828",
    "runtime_error": "#ad1457",
    "time_limit_exceeded": "#ef6c00",
    "memory_limit_exceeded": "#f9a825",
    "compile_error": "#6a1b9a",
    "judge_error": "#37474f",
}
_RICH = {
    "accepted": "green",
    "wrong_answer": "red",
    "runtime_error": "red",
    "time_limit_exceeded": "yellow",
    "memory_limit_exceeded": "yellow",
    "compile_error": "magenta",
    "judge_error": "bold white on red",
}


@dataclass(frozen=True)
class Row:
    """One student's result, as the summary needs it.

    ``codes`` holds the error and warning codes of the report, root cause first: the pitfalls.
    ``feedback`` is the feedback file's path relative to the summary, for a link. ``score`` is
    None when there is no grade (a judge_error): left out of the mean, median and histogram.
    """

    student: str
    verdict: str
    score: float | None
    duration_s: float
    codes: tuple[str, ...] = ()
    root_cause: str | None = None
    summary: str = ""
    feedback: str = ""
    root_message: str = ""  # the root cause in the learner's report's words
    rubric: tuple[tuple[str, str, bool], ...] = ()  # (id, title, passed) per rubric item


def verdict_counts(rows: Sequence[Row]) -> dict[str, int]:
    """Students per verdict, every verdict listed (zeros too) in the judge's order."""
    counts = Counter(row.verdict for row in rows)
    ordered = {str(v): counts.get(str(v), 0) for v in Verdict}
    ordered.update({k: n for k, n in counts.items() if k not in ordered})
    return ordered


def code_counts(rows: Sequence[Row]) -> list[tuple[str, int, int]]:
    """``(code, students with it, students for whom it is the root cause)``, most frequent first."""
    seen = Counter(code for row in rows for code in set(row.codes))
    roots = Counter(row.root_cause for row in rows if row.root_cause)
    return sorted(
        ((code, n, roots.get(code, 0)) for code, n in seen.items()), key=lambda t: (-t[1], t[0])
    )


def score_histogram(rows: Sequence[Row], bins: int = BINS) -> list[int]:
    """Students per score bin of width ``1 / bins``; a score of 1.0 falls in the last bin.
    A student with no grade (a judge_error) is in no bin."""
    counts = [0] * bins
    for score in graded_scores(rows):
        counts[min(max(int(score * bins), 0), bins - 1)] += 1
    return counts


def graded_scores(rows: Sequence[Row]) -> list[float]:
    """The scores of the students with a grade: a judge_error is never a number."""
    return [row.score for row in rows if row.score is not None]


def ungraded_note(rows: Sequence[Row]) -> str:
    """``2 judge errors, not counted`` (empty when every student has a grade)."""
    n = sum(row.score is None for row in rows)
    return "" if not n else f"{n} judge error{'s' if n != 1 else ''}, not counted"


# --- SVG ---------------------------------------------------------------------------------------


def _svg_open(width: int, height: int, label: str) -> str:
    # No xmlns: inline SVG in HTML5 needs none, and the page stays free of URLs.
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(label)}"><title>{html.escape(label)}</title>'
    )


def codes_chart(counts: Sequence[tuple[str, int, int]], students: int) -> str:
    """Horizontal bars: how many students each pitfall (diagnostic code) reached."""
    if not counts:
        return '<p class="muted">No diagnostic codes: nothing to chart.</p>'
    label_w, bar_w, row_h, pad = 330, 330, 24, 8
    width = label_w + bar_w + 200
    height = pad * 2 + row_h * len(counts)
    top = max(n for _, n, _ in counts)
    parts = [_svg_open(width, height, "students per diagnostic code")]
    for k, (code, n, root) in enumerate(counts):
        y = pad + k * row_h
        w = max(2, round(bar_w * n / top))
        share = f"{100 * n / students:.0f}%" if students else ""
        note = f"{n} ({share}), root cause of {root}"
        name = wording.title(code)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="label">'
            f"{html.escape(name[:48])}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" class="bar">'
            f"<title>{html.escape(code)}: {html.escape(note)}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + 16}" class="value">{html.escape(note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram_chart(counts: Sequence[int]) -> str:
    """Vertical bars: students per score bin, 0 to 1."""
    bins = len(counts)
    left, bottom, top_pad, col_w, plot_h = 40, 36, 20, 52, 180
    width = left + col_w * bins + 20
    height = top_pad + plot_h + bottom
    top = max(counts) or 1
    parts = [_svg_open(width, height, "score histogram")]
    base = top_pad + plot_h
    parts.append(
        f'<line x1="{left}" y1="{base}" x2="{left + col_w * bins}" y2="{base}" class="axis"/>'
    )
    for k, n in enumerate(counts):
        h = round(plot_h * n / top)
        x = left + k * col_w
        low, high = k / bins, (k + 1) / bins
        closing = "]" if k == bins - 1 else ")"
        parts.append(
            f'<rect x="{x + 4}" y="{base - h}" width="{col_w - 8}" height="{h}" class="bar">'
            f"<title>score in [{low:.1f}, {high:.1f}{closing}: {n}</title></rect>"
            f'<text x="{x + col_w / 2}" y="{base - h - 4}" text-anchor="middle" class="value">'
            f"{n}</text>"
            f'<text x="{x}" y="{base + 16}" text-anchor="middle" class="label">{low:.1f}</text>'
        )
    parts.append(
        f'<text x="{left + col_w * bins}" y="{base + 16}" text-anchor="middle" class="label">'
        f"1.0</text>"
        f'<text x="{left + col_w * bins / 2}" y="{base + 32}" text-anchor="middle" '
        f'class="label">score</text></svg>'
    )
    return "".join(parts)


# --- the page ----------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#222;
max-width:72rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border-bottom:1px solid #ddd;padding:.25rem .75rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right}
.verdict{font-weight:600}.muted{color:#777}
.bar{fill:#3f6fb5}.axis{stroke:#555}
text.label{font-size:12px;fill:#333}text.value{font-size:11px;fill:#555}
.pill{display:inline-block;height:.8rem;vertical-align:middle}
"""


def _verdict_cell(verdict: str) -> str:
    colour = _COLOUR.get(verdict, "#333")
    return f'<span class="verdict" style="color:{colour}">{html.escape(verdict)}</span>'


def render(
    rows: Sequence[Row],
    *,
    title: str,
    groups: Sequence[Sequence[str]] = (),
    facts: Sequence[tuple[str, str]] = (),
) -> str:
    """The summary page.

    Args:
        rows: one per student.
        title: the page's heading (the problem, typically).
        groups: students whose submissions are identical once normalised, one list per group.
        facts: ``(label, value)`` lines shown under the heading (versions, when, where).
    """
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if facts:
        out.append('<p class="muted">' + " · ".join(f"{e(k)}: {e(v)}" for k, v in facts) + "</p>")
    out += _verdicts_section(rows)
    out += _students_section(rows)
    out += _rubric_section(rows)
    out.append("<h2>Pitfalls: students who met each one</h2>")
    out.append(codes_chart(code_counts(rows), len(rows)))
    out += _pitfall_students_section(rows)
    out.append("<h2>Scores</h2>")
    out.append(histogram_chart(score_histogram(rows)))
    if ungraded_note(rows):
        out.append(f'<p class="muted ungraded">{ungraded_note(rows)}</p>')
    out += _slowest_section(rows)
    out += _identical_section(rows, groups)
    out += _attention_section(rows)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _verdicts_section(rows: Sequence[Row]) -> list[str]:
    students = len(rows)
    out = [f"<h2>Verdicts ({students} students)</h2><table><tr><th>verdict</th>"]
    out.append('<th class="num">students</th><th class="num">share</th><th></th></tr>')
    for verdict, n in verdict_counts(rows).items():
        share = n / students if students else 0.0
        colour = _COLOUR.get(verdict, "#333")
        out.append(
            f"<tr><td>{_verdict_cell(verdict)}</td><td class='num'>{n}</td>"
            f"<td class='num'>{100 * share:.0f}%</td><td><span class='pill' "
            f"style='width:{round(240 * share)}px;background:{colour}'></span></td></tr>"
        )
    out.append("</table>")
    scores = graded_scores(rows)
    if scores:
        mean = sum(scores) / len(scores)
        middle = sorted(scores)[len(scores) // 2]
        out.append(f"<p>mean score {mean:.2f}, median {middle:.2f}</p>")
    if ungraded_note(rows):
        out.append(f'<p class="ungraded">{ungraded_note(rows)}</p>')
    return out


def needs_help_first(rows: Sequence[Row]) -> list[Row]:
    """Students ordered for an instructor: judge errors (to look at), then the lowest scores,
    accepted last; ties by name."""

    def key(row: Row) -> tuple[int, float, str]:
        group = (
            0 if row.verdict == str(Verdict.JUDGE_ERROR) else 2 if row.verdict == "accepted" else 1
        )
        return group, -1.0 if row.score is None else row.score, row.student

    return sorted(rows, key=key)


def _students_section(rows: Sequence[Row]) -> list[str]:
    out = [f"<h2 id='students'>Every student, those who need help first ({len(rows)})</h2>"]
    out.append('<table class="students"><tr><th>student</th><th>verdict</th>')
    out.append('<th class="num">score</th><th>root cause</th></tr>')
    for row in needs_help_first(rows):
        cause = ""
        if row.root_cause:
            cause = f"<strong>{html.escape(wording.title(row.root_cause))}</strong>"
            if row.root_message:
                cause += f"<br><span class='muted'>{html.escape(row.root_message)}</span>"
        out.append(
            f"<tr class='student'><td>{_student_link(row)}</td>"
            f"<td>{_verdict_cell(row.verdict)}</td><td class='num'>{_score_cell(row)}</td>"
            f"<td>{cause}</td></tr>"
        )
    out.append("</table>")
    return out


def _score_cell(row: Row) -> str:
    return "" if row.score is None else f"{row.score:.2f}"


def rubric_pass_rates(rows: Sequence[Row]) -> list[tuple[str, str, int, int]]:
    """``(id, title, students who passed it, students graded on it)``, in rubric order."""
    order: dict[str, str] = {}
    passed: Counter[str] = Counter()
    graded: Counter[str] = Counter()
    for row in rows:
        for ident, item_title, ok in row.rubric:
            order.setdefault(ident, item_title)
            graded[ident] += 1
            passed[ident] += ok
    return [(i, t, passed[i], graded[i]) for i, t in order.items()]


def _rubric_section(rows: Sequence[Row]) -> list[str]:
    rates = rubric_pass_rates(rows)
    if not rates:
        return []
    out = ["<h2 id='rubric'>Rubric: pass rate per item</h2><table class='rubric'>"]
    out.append(
        '<tr><th>item</th><th class="num">passed</th><th class="num">rate</th><th></th></tr>'
    )
    for ident, item_title, ok, graded in rates:
        share = ok / graded if graded else 0.0
        out.append(
            f"<tr data-item='{html.escape(ident, quote=True)}'><td>{html.escape(item_title)}</td>"
            f"<td class='num'>{ok} / {graded}</td><td class='num'>{100 * share:.0f}%</td>"
            f"<td><span class='pill' style='width:{round(240 * share)}px;"
            f"background:#2e7d32'></span></td></tr>"
        )
    out.append("</table>")
    return out


def _pitfall_students_section(rows: Sequence[Row]) -> list[str]:
    """Each pitfall by its plain title, with the students who met it (root cause or not)."""
    found = code_counts(rows)
    if not found:
        return []
    out = ["<h2>Who met which pitfall</h2><table class='pitfalls'><tr><th>pitfall</th>"]
    out.append("<th>code</th><th>students</th></tr>")
    for code, _, _ in found:
        names = ", ".join(_student_link(r) for r in rows if code in r.codes)
        out.append(
            f"<tr><td>{html.escape(wording.title(code))}</td><td><code>{html.escape(code)}</code>"
            f"</td><td>{names}</td></tr>"
        )
    out.append("</table>")
    return out


def _slowest_section(rows: Sequence[Row]) -> list[str]:
    out = [f"<h2>Slowest submissions (top {SLOWEST})</h2><table><tr><th>student</th>"]
    out.append('<th>verdict</th><th class="num">seconds</th><th>summary</th></tr>')
    for row in sorted(rows, key=lambda r: (-r.duration_s, r.student))[:SLOWEST]:
        out.append(
            f"<tr><td>{_student_link(row)}</td><td>{_verdict_cell(row.verdict)}</td>"
            f"<td class='num'>{row.duration_s:.1f}</td>"
            f"<td>{html.escape(row.summary[:160])}</td></tr>"
        )
    out.append("</table>")
    return out


def _identical_section(rows: Sequence[Row], groups: Sequence[Sequence[str]]) -> list[str]:
    out = ["<h2>Identical submissions</h2>"]
    if not groups:
        return [*out, '<p class="muted">None found.</p>']
    by_student = {row.student: row for row in rows}
    out.append(
        "<p>Same code once comments, blank lines and layout are set aside (the same "
        "syntax tree). Worth a look, not proof of anything: a starter file left unchanged "
        "shows up here too.</p><table><tr><th>group</th><th>students</th></tr>"
    )
    for number, group in enumerate(groups, start=1):
        names = ", ".join(
            f"{_student_link(by_student[s]) if s in by_student else html.escape(s)}" for s in group
        )
        out.append(f"<tr><td class='num'>{number}</td><td>{names}</td></tr>")
    out.append("</table>")
    return out


def _attention_section(rows: Sequence[Row]) -> list[str]:
    attention = [row for row in rows if row.verdict == str(Verdict.JUDGE_ERROR)]
    out = ["<h2>Needs a look: judge errors</h2>"]
    if not attention:
        return [*out, '<p class="muted">None.</p>']
    out.append("<table><tr><th>student</th><th>why</th></tr>")
    for row in attention:
        out.append(f"<tr><td>{_student_link(row)}</td><td>{html.escape(row.summary)}</td></tr>")
    out.append("</table>")
    return out


def _student_link(row: Row) -> str:
    name = html.escape(visible(row.student))
    if not row.feedback:
        return name
    return f'<a href="{html.escape(row.feedback, quote=True)}">{name}</a>'


def table(rows: Sequence[Row], title: str) -> Table:
    """The verdict counts for the terminal."""
    result = Table(title=title, min_width=min(len(title) + 4, 100))
    result.add_column("verdict")
    result.add_column("students", justify="right")
    result.add_column("share", justify="right")
    students = len(rows)
    for verdict, n in verdict_counts(rows).items():
        if not n:
            continue
        result.add_row(
            Text(verdict, style=_RICH.get(verdict, "")), str(n), f"{100 * n / students:.0f}%"
        )
    return result
