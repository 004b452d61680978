"""README promises, and the manual's in docs/, that tests can hold them to."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
# README and every page of docs/ written by hand, read as one text: what the manual promises,
# wherever it sits (the --help reference, docs/reference/cli.md, is the parser's words).
MANUAL = "\n".join(
    p.read_text()
    for p in [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    if p != DOCS / "reference" / "cli.md"
)


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    block = section.split("```", 2)[1]
    lines = block.splitlines()[1:]  # drop the fence's language tag
    return [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def test_quick_start_has_exactly_two_commands() -> None:
    assert len(quick_start_commands()) == 2


def test_quick_start_grades_a_bundled_accepted_example() -> None:
    first = quick_start_commands()[0]
    assert first.startswith("pip install -e .")
    words = shlex.split(first.split("&&", 1)[1])
    assert words[:2] == ["judge", "grade"]
    target = ROOT / words[2]
    assert target.is_file()
    assert target.parent.name == "accepted"


def test_quick_start_tests_match_ci() -> None:
    second = quick_start_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert second in ci.splitlines()


def test_exit_codes_table_matches_the_code() -> None:
    from judge.result import EXIT_ACCEPTED, EXIT_JUDGE_ERROR, EXIT_REJECTED, EXIT_USAGE

    page = (DOCS / "grading-a-file.md").read_text()
    table = dict(re.findall(r"^\| (\d) \| `?([a-z_ ]+)", page, re.M))
    assert table[str(EXIT_ACCEPTED)].startswith("accepted")
    assert table[str(EXIT_REJECTED)].startswith("any other learner verdict")
    assert table[str(EXIT_USAGE)].startswith("usage or configuration error")
    assert table[str(EXIT_JUDGE_ERROR)].startswith("judge_error")


def test_every_verdict_and_code_is_documented() -> None:
    from judge.result import Verdict

    for verdict in Verdict:
        assert f"`{verdict}`" in MANUAL
    from judge import wording

    codes = set(wording.GENERIC_HINTS)
    codes.discard("exception_at_import")  # a hint key, reported as `exception`
    assert codes, "no diagnostic codes found"
    for code in codes:
        assert f"`{code}`" in MANUAL, f"diagnostic code {code} is not in README or docs/"


def test_the_tables_written_from_the_code_are_current() -> None:
    """The blocks between the markers (codes, limits) are what the code writes, word for word,
    on the reference pages that hold them."""
    from judge import catalogue, generated

    for name in ("codes", "limits"):
        page = DOCS / "reference" / f"{name}.md"
        text = page.read_text()
        assert name in generated.present(text), page
        assert generated.stale(text) == [], f"run `python -m judge.generated {page}`"
    codes = (DOCS / "reference" / "codes.md").read_text()
    for code in catalogue.CODES:
        assert f"| `{code}` |" in codes, code


def test_install_lines_work_as_written_with_one_placeholder_explained_once() -> None:
    """Every line that installs the judge, in README and docs/, reads it from a checkout or from
    $JUDGE_SOURCE; the one address a reader must supply appears in exactly one paragraph of all
    of them, README's."""
    installs = [
        line.strip()
        for line in MANUAL.splitlines()
        if re.search(r"\bpip install\b", line) and not line.lstrip().startswith("|")
    ]
    allowed = (
        "$JUDGE_SOURCE",
        "${{ vars.JUDGE_SOURCE }}",
        "{JUDGE_SOURCE}",
        "-e ",
        "pip install .",
    )
    for line in installs:
        if "`" in line and not line.startswith(("pip", "%pip", "- run:")):
            continue  # prose that names a command in backticks
        assert any(form in line for form in allowed) or '"jax[cuda12]"' in line, line
    placeholders = [ln for ln in MANUAL.splitlines() if "<you>" in ln or "OWNER" in ln]
    assert len(placeholders) == 1, placeholders
    assert "JUDGE_SOURCE" in placeholders[0]
    assert placeholders[0] in README.splitlines()
