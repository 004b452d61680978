"""Wording checks on a rendered text report: what makes a report one a learner can act on.

Each check returns the problems it finds, as sentences; an empty list is a pass. They read the
text a learner reads, with the JSON report (``Report.to_dict``) as the source of every full text,
so that a line can be told to be a cut copy of something longer.

- **No cut words.** A line that ends inside a word of a text the report holds in full was cut
  without an ellipsis at a word boundary (the renderer must cut between words, with `` ...``).
- **URLs whole.** Every URL shown is a whole URL of the report's texts.
- **Nothing twice.** No line, and no clause of 30 characters or more, appears twice (the
  learner's own printed output aside); so no hint twice either.
- **Evidence on a shown case.** A diagnostic's case (``evidence.case``) is the failing case the
  report shows, or printed in that diagnostic's lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from judge.result import Report

_URL = re.compile(r"https?://[^\s)\]'\"]+")
_CLAUSE = re.compile(r"(?<=[.;:!?])\s+|\n")
_CASE_NUMBERS = re.compile(r"(\w+)[ =](-?\d+)")
# A case named by its numbers (``seed 0, batch=2``) is a reference to it, not a sentence said.
_CASE_ONLY = re.compile(r"\(?(\w+[ =]-?\d+,? ?)+\)?[.;:]?")
# The tail of a line that is looked up in the full texts: long enough to be unambiguous.
_TAIL = 20


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _sources(report: Report) -> list[str]:
    """Every line of every text the JSON report holds in full."""
    return [line for text in _strings(report.to_dict()) for line in text.splitlines() if line]


def _judge_lines(text: str) -> list[str]:
    """The report's lines without the learner's printed output (``| ...``), which may repeat."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("|")]


def cut_words(text: str, report: Report) -> list[str]:
    """Lines that end inside a word of a longer text the report holds."""
    sources = _sources(report)
    found = []
    for line in _judge_lines(text):
        line = line.rstrip()
        if len(line) < _TAIL or line.endswith("..."):
            continue
        tail = line[-_TAIL:]
        for source in sources:
            at = source.find(tail)
            while at != -1:
                end = at + _TAIL
                if end < len(source) and source[end - 1].isalpha() and source[end].isalpha():
                    found.append(f"cut mid-word: {line.strip()!r} (the full text goes on)")
                    break
                at = source.find(tail, at + 1)
            else:
                continue
            break
    return found


def broken_urls(text: str, report: Report) -> list[str]:
    """URLs shown that are not whole URLs of the report's texts."""
    whole = {url for source in _sources(report) for url in _URL.findall(source)}
    return [f"URL cut: {url}" for url in _URL.findall(text) if url not in whole]


def repeats(text: str) -> list[str]:
    """Lines, and clauses of 30 characters or more, that appear more than once."""
    lines = [line.strip() for line in _judge_lines(text) if line.strip()]
    found = [f"line twice: {line!r}" for line in sorted(set(lines)) if lines.count(line) > 1]
    # The reproducer is code: making the same call twice is what shows state kept between calls.
    body = "\n".join(line for line in lines if not line.startswith("reproduce:"))
    clauses = {
        c.strip()
        for c in _CLAUSE.split(body)
        if len(c.strip()) >= 30 and not _CASE_ONLY.fullmatch(c.strip())
    }
    found += [f"said twice: {c!r}" for c in sorted(clauses) if body.count(c) > 1]
    return found


def _numbers(where: str) -> dict[str, str]:
    return dict(_CASE_NUMBERS.findall(where))


def _blocks(text: str) -> dict[str, str]:
    """Each diagnostic's lines, by its code: from its ``<mark> <code>:`` line to the next."""
    blocks: dict[str, str] = {}
    code = None
    for line in text.splitlines():
        head = re.match(r"  [✗!·] (\w+): ", line)
        if head:
            code = head.group(1)
            blocks[code] = ""
        elif not line.startswith("      ") and not line.startswith("    hint:"):
            code = None
        if code is not None:
            blocks[code] += line + "\n"
    return blocks


def unshown_cases(text: str, report: Report) -> list[str]:
    """Diagnostics whose evidence is about a case the report neither shows nor prints beside
    them."""
    failing = report.failing_case
    shown = (
        {k: str(v) for k, v in failing.inputs.items() if isinstance(v, int)}
        if failing is not None
        else None
    )
    blocks = _blocks(text)
    found = []
    for diagnostic in report.diagnostics:
        where = diagnostic.evidence.get("case")
        if not isinstance(where, str) or not where or _numbers(where) == shown:
            continue
        if where not in blocks.get(diagnostic.code, ""):
            found.append(f"{diagnostic.code}: about {where}, a case the report does not show")
    return found


def problems(text: str, report: Report) -> list[str]:
    """Every wording problem of a rendered text report."""
    return [
        *cut_words(text, report),
        *broken_urls(text, report),
        *repeats(text),
        *unshown_cases(text, report),
    ]
