"""``judge.check`` in a real kernel: notebooks executed by ``nbclient`` on ``ipykernel``, as a
learner's Jupyter would run them, and their outputs read back.

One kernel per notebook; each notebook defines solutions cell by cell and calls the check after
each, so one kernel covers a correct, a wrong and a broken solution (a cell that raised, and one
that does not compile) in the order a learner would meet them. Skipped, with the reason, where
no kernel can start (nbclient or ipykernel missing: both are in the ``[test]`` extra).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions" / "nn_vmap_forward"

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the [test] extra")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the [test] extra")
pytest.importorskip("ipykernel", reason="ipykernel is in the [test] extra")

pytestmark = [
    pytest.mark.slow,
    # jupyter_client and its zmq loop warn about their own deprecations; not the judge's.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

CANONICAL = (EXAMPLES / "accepted" / "canonical.py").read_text()
COLUMN_MAJOR = (EXAMPLES / "wrong_answer" / "column_major_flatten.py").read_text()
# The learner's sandbox here: the one the rest of the suite grades under.
SANDBOX = "auto"


def run_notebook(cells: list[str], where: Path) -> list[dict[str, Any]]:
    """Execute ``cells`` in a fresh kernel (errors allowed, as a learner's run goes on after
    one); returns each cell's outputs."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(where)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.DeadKernelError as exc:  # pragma: no cover - environment
        pytest.skip(f"no Jupyter kernel could run here: {exc}")
    except RuntimeError as exc:  # pragma: no cover - environment (kernel failed to start)
        if "Kernel" in str(exc) or "kernel" in str(exc):
            pytest.skip(f"no Jupyter kernel could start here: {exc}")
        raise
    (where / "executed.ipynb").write_text(nbformat.writes(notebook))
    return [cell.get("outputs", []) for cell in notebook.cells]


def shown(outputs: list[dict[str, Any]]) -> tuple[str, str]:
    """(the HTML shown, the text printed) by a cell."""
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    return html, printed


def assert_fragment(html: str) -> None:
    """A fragment a notebook page can hold: balanced, with no style or script of its own (an
    output's ``<style>`` would restyle the learner's whole JupyterLab page)."""
    for tag in ("div", "table", "tr", "td", "span", "pre", "details"):
        assert html.count(f"<{tag}") == html.count(f"</{tag}>"), tag
    assert "<style" not in html and "<script" not in html


def check_cell(name: str) -> str:
    return (
        f"result = judge.check({name!r}, sandbox={SANDBOX!r})\n"
        "print('RESULT', result.verdict, f'{result.score:.2f}')"
    )


def test_one_problem_correct_wrong_and_broken(tmp_path: Path) -> None:
    cells = [
        "import judge\nimport numpy as np",  # In [1]
        CANONICAL,  # In [2]: correct
        check_cell("nn_vmap_forward"),  # In [3]
        COLUMN_MAJOR,  # In [4]: the same function redefined, wrong
        check_cell("nn_vmap_forward"),  # In [5]
        CANONICAL + "\nraise ValueError('a test of mine failed')\n",  # In [6]: raised
        "def nn_vmap_forward(seed, x_batch, features)\n    return x_batch",  # In [7]: no compile
        check_cell("nn_vmap_forward"),  # In [8]
        check_cell("nn_vmap_fowrard"),  # In [9]: a typo
    ]
    outputs = run_notebook(cells, tmp_path)

    html, printed = shown(outputs[2])
    assert "RESULT accepted 1.00" in printed, printed
    assert 'data-verdict="accepted"' in html and 'data-part="rubric"' in html
    assert html.count('class="judge-report"') == 1  # shown once, not again as Out[3]
    assert_fragment(html)

    html, printed = shown(outputs[4])
    assert "RESULT wrong_answer" in printed, printed
    assert 'data-verdict="wrong_answer"' in html
    assert 'data-part="failing-case"' in html and "reproduce:" in html
    assert 'data-code="wrong_flatten_order"' in html  # the mistake, named
    assert 'data-part="hint"' in html

    html, printed = shown(outputs[7])
    assert "RESULT compile_error 0.00" in printed, printed
    assert "a test of mine failed" in html
    assert "notebook cell 6" in html  # In [6], the cell that raised
    assert "In [7] left out: it does not compile" in html

    html, printed = shown(outputs[8])
    assert "RESULT error 0.00" in printed
    assert "did you mean &#x27;nn_vmap_forward&#x27;?" in html
    assert "nor an assignment" in html
    assert not any(o.get("output_type") == "error" for o in outputs[8])  # no traceback


def test_an_assignment_is_graded_part_by_part(tmp_path: Path) -> None:
    cells = [
        "import judge",
        CANONICAL,  # the first problem solved, the second not attempted
        check_cell("hw_vmap"),
    ]
    outputs = run_notebook(cells, tmp_path)
    html, printed = shown(outputs[2])
    assert "RESULT compile_error 0.50" in printed, printed
    assert 'data-problem="nn_vmap_forward"' in html and 'data-problem="nn_vmap_ensemble"' in html
    points = re.search(r'data-part="points">([^<]*)<', html)
    assert points and points.group(1) == "10 of 20"
    assert 'data-code="entry_point_missing"' in html


def test_the_kernel_keeps_one_check_server_and_ends_it(tmp_path: Path) -> None:
    # In the check's own cell: a cell that calls judge.check is never graded itself.
    check = check_cell("nn_vmap_forward") + (
        "\nfrom judge.notebook import server\nprint('SERVER', server.current_pid())"
    )
    outputs = run_notebook(["import judge", CANONICAL, check, check], tmp_path)
    printed = [shown(outputs[k])[1] for k in (2, 3)]
    assert all("RESULT accepted 1.00" in text for text in printed), printed
    pids = {text.split("SERVER")[1].split()[0] for text in printed}
    assert len(pids) == 1 and pids != {"None"}, pids  # the second check reused the first's
    pid = int(pids.pop())  # the kernel has shut down: so has its server
    deadline = time.monotonic() + 20
    while not ended(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ended(pid)


def ended(pid: int) -> bool:
    """Whether ``pid`` is gone, or a zombie (it holds nothing but its entry)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :].split()[0] in (b"Z", b"X")
