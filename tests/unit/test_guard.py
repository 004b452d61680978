"""The guard installed in the learner's worker, run in a plain Python process (no JAX)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from judge.sandbox.base import RUNTIME_DIR


def attempt(tmp_path: Path, hidden: Path, allowed: Path, action: str) -> dict:
    """Run ``action`` in a fresh process whose guard hides ``hidden`` and allows ``allowed``;
    what it raised, if anything."""
    home = tmp_path / "judge-learner-home"
    home.mkdir(exist_ok=True)
    script = textwrap.dedent(
        f"""
        import json, os, sys
        import importlib.util as u
        d = {str(RUNTIME_DIR)!r}
        s = u.spec_from_file_location("judge_runtime", d + "/__init__.py",
                                      submodule_search_locations=[d])
        m = u.module_from_spec(s); sys.modules["judge_runtime"] = m; s.loader.exec_module(m)
        import judge_runtime.session  # as in a worker: numpy and the runtime loaded first
        from judge_runtime.guard import install_guard
        os.chdir({str(home)!r})
        install_guard({str(home)!r}, [{str(hidden)!r}], [{str(allowed)!r}])
        try:
            {action}
            print(json.dumps({{"raised": None}}))
        except Exception as exc:
            print(json.dumps({{"raised": type(exc).__name__, "message": str(exc)}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A hidden project holding a secret and an allowed .venv inside it."""
    project = tmp_path / "project"
    (project / "reference").mkdir(parents=True)
    (project / "reference" / "answer.py").write_text("SECRET = 42\n")
    venv = project / ".venv"
    venv.mkdir()
    (venv / "lib.py").write_text("OK = 1\n")
    return project, venv


@pytest.mark.parametrize(
    "action",
    [
        "open({secret!r}).read()",
        "os.listdir({project!r})",
        "open(os.path.join({project!r}, 'x.txt'), 'w')",
        "open(os.path.join(os.path.dirname(os.getcwd()), 'escape.txt'), 'w')",
        "os.open({secret!r}, os.O_RDONLY)",
        "os.symlink({secret!r}, 'link'); open('link').read()",
        "import subprocess; subprocess.run(['true'])",
        "import _posixsubprocess; _posixsubprocess.fork_exec(*([None] * 23))",
        "import subprocess; subprocess._fork_exec(*([None] * 23))",
        "import multiprocessing as mp; mp.get_context('spawn').Process(target=print).start()",
        "import sys; del sys.modules['_posixsubprocess']; import _posixsubprocess",
        "os.system('true')",
        "os.fork()",
        "os.kill(1, 0)",
        "open(f'/proc/{{os.getppid()}}/environ').read()",
        "import socket; socket.create_connection(('127.0.0.1', 9), 1)",
        "import ctypes; ctypes.CDLL(None)",
        "os.remove({secret!r})",
        "open({neighbour!r}).read()",  # another worker's folder, beside this one's
        "os.listdir(os.path.dirname({neighbour!r}))",
    ],
)
def test_the_guard_refuses(tmp_path: Path, layout: tuple[Path, Path], action: str) -> None:
    project, venv = layout
    secret = project / "reference" / "answer.py"
    neighbour = tmp_path / "judge-reference-1234" / "stolen.py"
    neighbour.parent.mkdir(exist_ok=True)
    neighbour.write_text("ANSWER = 1\n")
    code = action.format(secret=str(secret), project=str(project), neighbour=str(neighbour))
    result = attempt(tmp_path, project, venv, code)
    assert result["raised"] == "GuardDenied", result
    assert "the judge does not allow" in result["message"]
    assert secret.read_text() == "SECRET = 42\n"


@pytest.mark.parametrize(
    "action",
    [
        "open('scratch.txt', 'w').write('mine'); open('scratch.txt').read()",
        "open({lib!r}).read()",  # the Python installation inside a hidden project
        "open('/etc/hostname').read() if os.path.exists('/etc/hostname') else None",
        "open('/proc/self/status').read()",
        "os.kill(os.getpid(), 0)",
        "import numpy; numpy.zeros(3).sum()",
        "os.listdir(os.path.dirname(os.getcwd()))",  # the temp folder itself may be listed
    ],
)
def test_the_guard_allows(tmp_path: Path, layout: tuple[Path, Path], action: str) -> None:
    project, venv = layout
    result = attempt(tmp_path, project, venv, action.format(lib=str(venv / "lib.py")))
    assert result["raised"] is None, result
