"""The docs as a reader meets them: a short README, the manual in docs/, its generated pages
current, and every relative link leading somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from judge import generated
from judge.cli_args import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
ANCHOR_TAG = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")


def outside_fences(text: str) -> list[str]:
    """The lines of ``text`` that are not inside a fenced code block."""
    kept, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return kept


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a Markdown file offers: its headings (repeats numbered as GitHub does) and
    explicit ``<a id=...>`` tags."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in outside_fences(path.read_text(encoding="utf-8")):
        heading = re.match(r"^#{1,6}\s+(.*)$", line)
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found.update(ANCHOR_TAG.findall(line))
    return found


def relative_links(path: Path) -> list[str]:
    lines = outside_fences(path.read_text(encoding="utf-8"))
    links = [target for line in lines for target in LINK.findall(line)]
    return [t for t in links if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def test_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; the manual belongs in docs/"


def test_the_manual_has_its_pages() -> None:
    for page in ("README.md", "reference/cli.md", "reference/codes.md", "reference/limits.md"):
        assert (DOCS / page).is_file(), page
    assert (ROOT / "bench" / "README.md").is_file()


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_blocks_are_current(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = generated.stale(text)
    if "cli" in found and generated.written_under(text) != generated.python_version():
        found.remove("cli")  # argparse's layout is another Python's: regenerate there
    assert found == [], f"run `python -m judge.generated {path.relative_to(ROOT)}`"


@pytest.mark.parametrize(
    ("page", "block"),
    [("cli.md", "cli"), ("codes.md", "codes"), ("limits.md", "limits")],
)
def test_reference_pages_hold_their_blocks(page: str, block: str) -> None:
    text = (DOCS / "reference" / page).read_text(encoding="utf-8")
    assert block in generated.present(text)


def test_every_command_is_in_the_cli_reference() -> None:
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands
    for name in commands:
        assert f"### judge {name}\n" in text, name
        assert f"usage: judge {name} " in text, name


def test_the_index_links_every_page() -> None:
    index = DOCS / "README.md"
    linked = {(index.parent / t.split("#")[0]).resolve() for t in relative_links(index)}
    for page in DOCS.rglob("*.md"):
        if page != index:
            assert page.resolve() in linked, f"docs/README.md does not link {page.name}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_somewhere(path: Path) -> None:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no such heading in {dest.name}")
    assert broken == [], broken


def test_slugs_are_githubs() -> None:
    assert slug("The JSON report: `judge.report/1`") == "the-json-report-judgereport1"
    assert slug("Scoring: the rubric model") == "scoring-the-rubric-model"
    assert slug("Sandboxes: `--sandbox auto|bwrap|landlock|none`") == (
        "sandboxes---sandbox-autobwraplandlocknone"
    )


def test_the_cli_block_says_which_python_wrote_it() -> None:
    empty = f"{generated.start_marker('cli')}\n{generated.end_marker('cli')}"
    written = generated.rewritten(empty)
    assert generated.written_under(written) == generated.python_version()
    other = written.replace(f"Python {generated.python_version()}.", "Python 3.99.")
    assert generated.written_under(other) == "3.99"
    assert generated.written_under("no block here") is None
