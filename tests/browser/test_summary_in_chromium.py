"""The instructor's page in a real browser: headless Chromium loads summary.html and a
feedback page from a real batch, and the DOM it builds is what an instructor would read.

Skipped where no Chromium is installed (``apt-get install chromium``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from judge.batch import run_batch
from judge.grading import GradeOptions
from judge.problem import load_problem
from judge.sandbox import sweep_strays

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("chrome")
EXAMPLES = Path(__file__).resolve().parents[2] / "submissions" / "nn_vmap_forward"
CLASS = {
    "ada": EXAMPLES / "accepted" / "canonical.py",
    "ben": EXAMPLES / "wrong_answer" / "ensemble_same_key.py",
    "cy": EXAMPLES / "wrong_answer" / "not_flattened.py",
    "dee": EXAMPLES / "compile_error" / "syntax_error.py",
}


def dom(page: Path) -> str:
    """The DOM Chromium builds from ``page``. Chromium leaves helper processes (crashpad)
    behind; this process may be a child subreaper (the judge makes itself one), so they would
    become its children and outlive the test: they are swept, as the judge sweeps strays."""
    try:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-crash-reporter",
             "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,
        )  # fmt: skip
    finally:
        time.sleep(0.5)
        sweep_strays()
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")
def test_the_summary_and_feedback_read_well_in_a_browser(tmp_path: Path) -> None:
    source = tmp_path / "class"
    source.mkdir()
    for student, example in CLASS.items():
        shutil.copy(example, source / f"{student}.py")
    out = tmp_path / "out"
    run_batch(source, load_problem("nn_vmap_forward"), out, options=GradeOptions(), jobs=2)
    page = dom(out / "summary.html")
    students = re.findall(r"<tr class=\"student\"><td>(?:<a [^>]*>)?([a-z]+)", page)
    assert sorted(students) == sorted(CLASS)
    # those who need help first: the lowest scores, accepted last
    assert students[-1] == "ada" and students[0] == "dee"
    assert "params have a batch axis" in page  # ben's root cause, in plain words
    rates = re.findall(r"<tr data-item=\"([a-z_]+)\">.*?(\d+) / (\d+)</td>", page)
    assert len(rates) >= 2  # one row per rubric item
    for _, passed, graded in rates:  # dee's file never ran: graded on no item
        assert 0 <= int(passed) <= int(graded) == 3
    assert "isolation:" in page
    link = re.search(r'<a href="(feedback/ben[^"]*\.html)">ben</a>', page)
    assert link, "ben's row links to an HTML feedback page"
    feedback = dom(out / link.group(1))
    assert "wrong_answer" in feedback and "ensemble_params" in feedback
    assert "<pre" in feedback and "http://" not in feedback.replace("http://www.w3.org", "")
