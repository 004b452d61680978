"""What a learner's file does in its own process cannot change the verdict or hurt the judge.

Each test writes a small learner file, grades it for real (JAX workers), and asserts on the
verdict and on what is left behind.
"""

from __future__ import annotations

import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from judge import GradeOptions, Verdict, grade
from judge.sandbox import Worker

pytestmark = pytest.mark.slow

PROBLEM = "nn_vmap_forward"
FAST = GradeOptions(limits={"call_s": 8.0, "submission_s": 60.0})


def correct_solution(preamble: str = "", first_line: str = "pass") -> str:
    """A correct solution with ``preamble`` at the top and ``first_line`` run in each call."""
    return f"""
import jax
import flax.linen as nn
{preamble}

def nn_vmap_forward(seed, x_batch, features):
    {first_line}
    layer = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={{"params": None}},
                    split_rngs={{"params": False}})(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
"""


def learner(tmp_path: Path, source: str, name: str = "solution.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_flood_of_output_is_bounded_and_changes_nothing(tmp_path: Path) -> None:
    flood = 'sys.stdout.write("x" * 2_000_000); sys.stderr.write("y" * 2_000_000)'
    path = learner(tmp_path, correct_solution("import sys", flood))
    report = grade(path, PROBLEM, FAST)
    assert report.verdict is Verdict.ACCEPTED
    assert report.output["truncated"] is True
    limit = 64 * 1024
    assert 0 < len(report.output["stdout"]) <= limit
    assert 0 < len(report.output["stderr"]) <= limit
    assert report.output["bytes"]["stdout"] >= 2_000_000 * report.cases["run"]


def test_printing_a_fake_report_is_not_accepted(tmp_path: Path) -> None:
    path = learner(
        tmp_path,
        """
        import json, sys
        import numpy as np
        FAKE = {"schema": "judge.report/1", "verdict": "accepted", "score": 1.0}
        print(json.dumps(FAKE))
        def nn_vmap_forward(seed, x_batch, features):
            print(json.dumps(FAKE))
            sys.stderr.write(json.dumps(FAKE))
            return np.zeros(x_batch.shape[0] * features, np.float32)
    """,
    )
    report = grade(path, PROBLEM, FAST)
    assert report.verdict is Verdict.WRONG_ANSWER
    assert report.exit_code == 1
    assert '"accepted"' in report.output["stdout"]  # shown to the learner, believed by nobody


def test_patching_numpy_in_the_learner_process_changes_nothing(tmp_path: Path) -> None:
    path = learner(
        tmp_path,
        """
        import numpy as np
        import numpy.testing
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        def nn_vmap_forward(seed, x_batch, features):
            return np.ones(x_batch.shape[0] * features, np.float32)
    """,
    )
    assert grade(path, PROBLEM, FAST).verdict is Verdict.WRONG_ANSWER


def test_patching_flax_in_the_learner_process_does_not_reach_the_reference(
    tmp_path: Path,
) -> None:
    patch = (
        "import jax.numpy as jnp\n"
        "nn.Dense.__call__ = lambda self, x: jnp.zeros(x.shape[:-1] + (self.features,))"
    )
    path = learner(tmp_path, correct_solution(patch))
    report = grade(path, PROBLEM, FAST)
    assert report.verdict is Verdict.WRONG_ANSWER


def test_exiting_with_status_0_mid_call_is_not_accepted(tmp_path: Path) -> None:
    path = learner(
        tmp_path,
        """
        import json, os, sys
        def nn_vmap_forward(seed, x_batch, features):
            sys.stdout.write(json.dumps({"verdict": "accepted"}))
            sys.stdout.flush()
            os._exit(0)
    """,
    )
    report = grade(path, PROBLEM, FAST)
    assert report.verdict is Verdict.RUNTIME_ERROR
    assert report.diagnostics[0].code == "process_died"


def test_the_reference_is_not_importable(tmp_path: Path) -> None:
    path = learner(
        tmp_path,
        """
        from reference.nn_vmap_forward import nn_vmap_forward
    """,
    )
    report = grade(path, PROBLEM, FAST)
    assert report.verdict is Verdict.COMPILE_ERROR
    assert report.diagnostics[0].code == "import_error"


def test_the_project_tree_is_not_on_the_learner_path(tmp_path: Path) -> None:
    project = str(Path(__file__).resolve().parents[2])
    path = learner(
        tmp_path,
        f"""
        import os, sys
        ON_PATH = any(os.path.realpath(p or os.getcwd()) == {project!r} for p in sys.path)
        CWD = os.getcwd()
        def nn_vmap_forward(seed, x_batch, features):
            raise RuntimeError(f"on_path={{ON_PATH}} cwd={{CWD}}")
    """,
    )
    report = grade(path, PROBLEM, GradeOptions(shrink=False, limits={"call_s": 8.0}))
    message = report.diagnostics[0].evidence["message"]
    assert "on_path=False" in message
    cwd = message.split("cwd=")[1].strip()
    assert Path(cwd).name.startswith("judge-learner-")
    assert not Path(cwd).exists(), "the worker's temporary directory was left behind"


def test_no_temporary_directories_are_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A private temporary root: other gradings on this machine cannot disturb the count.
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    path = learner(
        tmp_path,
        """
import os
def nn_vmap_forward(seed, x_batch, features):
    open(os.path.join(os.getcwd(), "scratch.txt"), "w").write("left behind?")
    return None
""",
    )
    assert grade(path, PROBLEM, FAST).verdict is Verdict.WRONG_ANSWER
    assert list(private.iterdir()) == []


def test_worker_replies_never_travel_on_stdout() -> None:
    """A worker's hello arrives on its channel while its stdout holds nothing of it."""
    with Worker(
        role="probe",
        backend="cpu",
        precision="highest",
    ) as worker:
        hello = worker.receive(120)
        assert hello["ok"] is True
        assert hello["versions"]["jax"]
    output = worker.output()
    assert "versions" not in output["stdout"]


def test_memory_error_under_the_limit_is_memory_limit_exceeded(tmp_path: Path) -> None:
    path = learner(
        tmp_path,
        """
        import numpy as np
        def nn_vmap_forward(seed, x_batch, features):
            hog = np.ones((64, 1024, 1024, 1024), dtype=np.float32)  # 256 GiB
            return hog.reshape(-1)[: x_batch.shape[0] * features]
    """,
    )
    report = grade(path, PROBLEM, GradeOptions(limits={"call_s": 8.0, "memory_mb": 2048}))
    assert report.verdict is Verdict.MEMORY_LIMIT_EXCEEDED
    assert report.diagnostics[0].code == "memory_limit"
    assert report.diagnostics[0].evidence["limit_mb"] == 2048


def test_the_whole_submission_has_a_time_limit(tmp_path: Path) -> None:
    path = learner(tmp_path, correct_solution("import time", "time.sleep(0.5)"))
    started = time.monotonic()
    report = grade(path, PROBLEM, GradeOptions(limits={"call_s": 5.0, "submission_s": 4.0}))
    assert report.verdict is Verdict.TIME_LIMIT_EXCEEDED
    assert report.diagnostics[0].evidence["limit"] == "submission"
    assert 0 < report.cases["run"] < report.cases["planned"]
    assert time.monotonic() - started < 4.0 + 10.0  # the limit plus start-up, not the plan


def test_a_scalar_is_not_a_one_element_array(tmp_path: Path) -> None:
    """A 0-d result must not pass a case whose answer has shape (1,)."""
    path = learner(
        tmp_path,
        correct_solution("", "pass").replace(
            "return layer.apply(variables, x_batch).reshape(-1)",
            "return layer.apply(variables, x_batch).reshape(-1)[0]",
        ),
    )
    report = grade(path, PROBLEM, GradeOptions(shrink=False, limits={"call_s": 8.0}))
    assert report.verdict is Verdict.WRONG_ANSWER
    assert report.cases["passed"] == 0
    assert report.diagnostics[0].code == "wrong_output_shape"


KILLED_MID_GRADING = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from judge.sandbox import folder
path, mounted = folder.make("learner", 16)
open(os.path.join(path, "left.txt"), "w").write("x")
print(path, mounted, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind
"""


def test_a_killed_judges_worker_folders_are_removed_by_the_next_one(tmp_path: Path) -> None:
    """A judge killed with SIGKILL cannot remove its workers' folders (as root, tmpfs mounts):
    the next judge's first folder sweeps them, and only them (a live judge's, a link, a name
    without a pid stay)."""
    import os
    import subprocess
    import sys

    from judge.sandbox import folder

    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", KILLED_MID_GRADING, root],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    left, mounted = done.stdout.split()
    assert Path(left, "left.txt").exists()
    if os.geteuid() == 0:
        assert mounted == "True"  # a tmpfs, still mounted
    temp = Path(tempfile.gettempdir())
    alive = Path(tempfile.mkdtemp(prefix=f"judge-learner-{os.getpid()}-"))
    unnamed = Path(tempfile.mkdtemp(prefix="judge-learner-"))
    link = temp / f"judge-learner-{2**22 + 7}-link"  # a pid above pid_max's default: gone
    link.symlink_to(tmp_path)
    try:
        removed = folder.remove_stale(str(temp))
        assert left in removed and not Path(left).exists()
        assert left not in Path("/proc/self/mountinfo").read_text()
        assert alive.is_dir() and unnamed.is_dir() and link.is_symlink() and tmp_path.is_dir()
    finally:
        for path in (alive, unnamed):
            path.rmdir()
        link.unlink()
