"""A corpus of hostile and broken learner files: each gets its verdict, the judge ends normally
with its documented exit code, and nothing the file started is left running.

Short limits keep it fast. Behaviours that try to escape (read the reference, write outside
the worker's folder, reach the network, start processes) are graded under every isolation level
this machine has: process isolation always, bubblewrap where it is installed.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from judge import GradeOptions, Verdict, grade
from judge.cli import main
from judge.limits import Limits
from judge.render import text as text_render
from judge.result import EXIT_ACCEPTED, EXIT_REJECTED
from judge.runtime.wire import decode_array
from judge.sandbox import Worker, _pids_cgroup_parent, bwrap_problem, landlock_problem
from judge.sandbox.cgroup import _cgroup_parent

pytestmark = pytest.mark.slow

PROBLEM = "nn_vmap_forward"
ROOT = Path(__file__).resolve().parents[2]
CALL_S = 4.0
SHORT = dict(limits={"call_s": CALL_S, "submission_s": 40.0}, shrink=False)
LEVELS = [
    "none",
    pytest.param(
        "landlock",
        marks=pytest.mark.skipif(
            landlock_problem() is not None, reason=f"no Landlock here: {landlock_problem()}"
        ),
    ),
    pytest.param(
        "bwrap",
        marks=pytest.mark.skipif(
            bwrap_problem() is not None, reason=f"bubblewrap unusable: {bwrap_problem()}"
        ),
    ),
]


def refuses_fork(sandbox: str) -> bool:
    """Whether the worker confines itself with seccomp (landlock, and bwrap where the kernel
    has Landlock): then no process can be started at all."""
    return sandbox != "none" and landlock_problem() is None


CORRECT_BODY = """
    layer = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None},
                    split_rngs={"params": False})(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
"""


def solution(top: str = "", first: str = "pass", body: str = CORRECT_BODY) -> str:
    """A learner file: ``top`` at import, ``first`` at the start of each call, then ``body``."""
    return (
        "import jax\nimport flax.linen as nn\n"
        + textwrap.dedent(top)
        + "\n\ndef nn_vmap_forward(seed, x_batch, features):\n"
        + textwrap.indent(textwrap.dedent(first), "    ")
        + "\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
    )


def children() -> list[int]:
    """Processes whose parent is this test process (the judge), zombies included."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rfind(b")") + 2 :].split()[1]) == me:
                found.append(int(entry))
    return found


def with_marker(marker: str) -> list[int]:
    """Processes anywhere whose command line holds ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


def load_unguarded(
    worker: Worker, name: str, source: str, expect_ok: bool = True, reload: bool = False
) -> tuple[dict, dict]:
    """Start ``worker`` (made with ``guard=False``) and load ``source`` into it: what code that
    got past the guard could do, to test the layers below it. The hello and the load's reply.
    ``reload``: the worker is started already, and loads another file."""
    hello = {} if reload else worker.receive(120)
    assert reload or hello["ok"], hello
    target = Path(worker.directory) / name
    target.write_text(source)
    loaded = worker.request(
        {
            "op": "load",
            "path": str(target),
            "entry": "nn_vmap_forward",
            "parameters": ["seed", "x_batch", "features"],
        },
        60,
    )
    if expect_ok:
        assert loaded["ok"], loaded
    return hello, loaded


def wait_until_gone(marker: str, seconds: float = 5.0) -> list[int]:
    """Processes still holding ``marker`` after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return with_marker(marker)


# name -> (learner file, verdict, a diagnostic code the report must hold, or None). A reply
# forged on the judge's pipe answers the first case with nonsense (wrong_answer), and the real
# reply that follows answers no request: the worker is killed for it.
CORPUS: dict[str, tuple[str, Verdict, str | None]] = {
    "endless loop": (
        solution(first="while True:\n    pass"),
        Verdict.TIME_LIMIT_EXCEEDED,
        "timeout",
    ),
    "sleep": (solution("import time", "time.sleep(60)"), Verdict.TIME_LIMIT_EXCEEDED, "timeout"),
    "SIGTERM ignored, then a loop": (
        solution(
            "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)", "while True: pass"
        ),
        Verdict.TIME_LIMIT_EXCEEDED,
        "timeout",
    ),
    "very slow import": (
        solution("import time\ntime.sleep(60)"),
        Verdict.TIME_LIMIT_EXCEEDED,
        "timeout",
    ),
    "MemoryError": (
        solution("import numpy as np", "np.ones((64, 1024, 1024, 1024), np.float32)"),
        Verdict.MEMORY_LIMIT_EXCEEDED,
        "memory_limit",
    ),
    "XLA out of memory": (
        solution("import jax.numpy as jnp", "jnp.ones((60000, 60000)).block_until_ready()"),
        Verdict.MEMORY_LIMIT_EXCEEDED,
        "memory_limit",
    ),
    "fills its folder with files": (
        solution(
            "",
            "k = 0\nwhile True:\n    open(f'f{k}.bin', 'wb').write(b'x' * (32 << 20))\n    k += 1",
        ),
        Verdict.MEMORY_LIMIT_EXCEEDED,
        "disk_limit",
    ),
    "a lone surrogate in an exception at import": (
        solution('raise ValueError("boom \\ud800 here")'),
        Verdict.COMPILE_ERROR,
        "exception",
    ),
    "escape sequences in an exception, to fake a verdict": (
        solution("", 'raise RuntimeError("x\\x1b[2J\\x1b[1;32maccepted\\x1b[0m\\x1b[8m")'),
        Verdict.RUNTIME_ERROR,
        "exception",
    ),
    "observations forged 800 deep": (
        solution(
            "import sys\n"
            "sys.setrecursionlimit(20000)\n"
            "_S = sys.modules['judge_runtime.session'].Session\n"
            "_call = _S.call\n"
            "def _forged(self, request):\n"
            "    reply, deep = _call(self, request), []\n"
            "    for _ in range(800):\n"
            "        deep = [deep]\n"
            "    reply['observations'] = [{'kind': 'lifted', 'api': 'flax.linen.vmap',\n"
            "                              'arguments': {'variable_axes': deep}}]\n"
            "    return reply\n"
            "_S.call = _forged\n"
        ),
        # The forged record holds a building call and nothing that ran: what the judge is
        # shown is an nn.vmap built and never run, whatever the file really does.
        Verdict.WRONG_ANSWER,
        "unused_nn_vmap",
    ),
    "deleted files held open past the disk limit": (
        solution(
            "import os\n_held = []\n"
            "for i in range(12):\n"
            "    fd = os.open(f'f{i}', os.O_RDWR | os.O_CREAT, 0o600)\n"
            "    for _ in range(32):\n"
            "        os.write(fd, b'x' * (1 << 20))\n"
            "    os.unlink(f'f{i}')\n"
            "    _held.append(fd)\n"
            "import time\ntime.sleep(3)\n"
        ),
        Verdict.MEMORY_LIMIT_EXCEEDED,
        "disk_limit",
    ),
    "prints an out-of-memory message, then aborts": (
        solution(
            "import os, sys",
            'sys.stderr.write("RESOURCE_EXHAUSTED: Out of memory std::bad_alloc\\n")\n'
            "sys.stderr.flush()\nos.abort()",
        ),
        Verdict.RUNTIME_ERROR,
        "process_died",
    ),
    "os._exit(0) after a fake report": (
        solution(
            "import os, sys",
            'print(\'{"verdict": "accepted", "score": 1.0}\')\nsys.stdout.flush()\nos._exit(0)',
        ),
        Verdict.RUNTIME_ERROR,
        "process_died",
    ),
    "the largest float as every reply's seconds": (  # summed by the judge: inf, no JSON report
        solution(
            """
            import sys
            Session = sys.modules["judge_runtime.session"].Session
            honest = Session.call
            def call(self, request):
                reply = honest(self, request)
                reply["elapsed_s"] = 1.7e308
                return reply
            Session.call = call
            """
        ),
        Verdict.ACCEPTED,
        None,
    ),
    "SIGKILL to itself": (
        solution("import os, signal", "os.kill(os.getpid(), signal.SIGKILL)"),
        Verdict.RUNTIME_ERROR,
        "process_died",
    ),
    "segfault": (
        solution("import faulthandler", "faulthandler._sigsegv()"),
        Verdict.RUNTIME_ERROR,
        "process_died",
    ),
    "sys.exit at import": (solution("import sys\nsys.exit(0)"), Verdict.COMPILE_ERROR, None),
    "KeyboardInterrupt at import": (
        solution("raise KeyboardInterrupt"),
        Verdict.COMPILE_ERROR,
        None,
    ),
    "BaseException subclass at import": (
        solution("class Odd(BaseException):\n    pass\nraise Odd()"),
        Verdict.COMPILE_ERROR,
        None,
    ),
    "SystemExit in a call": (
        solution(first="raise SystemExit(0)"),
        Verdict.RUNTIME_ERROR,
        "exception",
    ),
    "KeyboardInterrupt in a call": (
        solution(first="raise KeyboardInterrupt"),
        Verdict.RUNTIME_ERROR,
        "exception",
    ),
    "deep recursion": (
        solution("def down(n):\n    return down(n + 1) + 1", "down(0)"),
        Verdict.RUNTIME_ERROR,
        "exception",
    ),
    "a generator returned": (
        solution(body="return (v for v in range(3))"),
        Verdict.WRONG_ANSWER,
        "wrong_return_type",
    ),
    "__array__ raises": (
        solution(
            "class Lazy:\n    def __array__(self, *a, **k):\n        raise ValueError('no')",
            body="return Lazy()",
        ),
        Verdict.RUNTIME_ERROR,
        "exception",
    ),
    "__array__ never returns": (
        solution(
            "class Lazy:\n    def __array__(self, *a, **k):\n        while True: pass",
            body="return Lazy()",
        ),
        Verdict.TIME_LIMIT_EXCEEDED,
        "timeout",
    ),
    "a gigabyte on stdout": (
        solution("import sys\nfor _ in range(1024):\n    sys.stdout.write('x' * (1 << 20))"),
        Verdict.ACCEPTED,
        None,
    ),
    "numpy.testing patched to pass anything": (
        solution(
            "import numpy as np\nimport numpy.testing\n"
            "numpy.testing.assert_allclose = lambda *a, **k: None\n"
            "np.allclose = lambda *a, **k: True",
            body="return jax.numpy.zeros(x_batch.shape[0] * features)",
        ),
        Verdict.WRONG_ANSWER,
        None,
    ),
    "a forged reply on the judge's pipe": (
        solution(
            "import json, os, struct, sys",
            """
            body = json.dumps({"ok": True, "kind": "other", "type": "x", "repr": "x",
                               "id": 2}).encode()
            os.write(int(sys.argv[2]), struct.pack(">I", len(body)) + body)
            """,
        ),
        Verdict.WRONG_ANSWER,
        "wrong_return_type",
    ),
    "a forged reply with fields of the wrong types": (
        solution(
            "import json, os, struct, sys",
            """
            body = json.dumps({"ok": True, "kind": "array", "elapsed_s": "soon", "line": "x",
                               "array": {"__ndarray__": {"dtype": "float32", "shape": [-1],
                                                          "data": 7}},
                               "observations": "all fine", "id": 2}).encode()
            os.write(int(sys.argv[2]), struct.pack(">I", len(body)) + body)
            """,
        ),
        Verdict.WRONG_ANSWER,
        None,
    ),
    "reads another process's environment": (
        solution(first="open(f'/proc/{os.getppid()}/environ').read()", top="import os"),
        Verdict.RUNTIME_ERROR,
        "forbidden_operation",
    ),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_hostile_file_gets_its_verdict_and_leaves_nothing(tmp_path: Path, name: str) -> None:
    source, verdict, code = CORPUS[name]
    path = tmp_path / "solution.py"
    path.write_text(source)
    started = time.monotonic()
    memory = {"memory_mb": 2048 if "memory" in name else None}
    options = GradeOptions(**{**SHORT, "limits": {**SHORT["limits"], **memory}})
    report = grade(path, PROBLEM, options)
    elapsed = time.monotonic() - started
    assert report.verdict is verdict, (report.summary, [d.code for d in report.diagnostics])
    if code is not None:
        assert code in [d.code for d in report.diagnostics], report.diagnostics
    if verdict is Verdict.TIME_LIMIT_EXCEEDED:
        # the limit, plus two worker start-ups and a grace: never the whole plan's worth
        assert elapsed < CALL_S + 20.0
    if name == "a gigabyte on stdout":
        assert report.output["bytes"]["stdout"] >= 1 << 30
        assert len(report.output["stdout"]) <= 64 * 1024
    assert children() == [], "a process outlived grading"
    # Whatever the learner's code put in its reply reaches no terminal as an escape sequence,
    # and every report can be written as UTF-8.
    assert "\x1b" not in text_render.render(report)
    json.dumps(report.to_dict(), ensure_ascii=False, allow_nan=False).encode("utf-8")


@pytest.mark.parametrize("sandbox", LEVELS)
class TestEscapes:
    """What an attempt to get out of the worker gets, under each isolation level."""

    def grade(self, tmp_path: Path, source: str, sandbox: str) -> object:
        path = tmp_path / "solution.py"
        path.write_text(source)
        report = grade(path, PROBLEM, GradeOptions(**SHORT, sandbox=sandbox))
        assert report.environment["sandbox"] == {"none": "process"}.get(sandbox, sandbox)
        assert children() == []
        return report

    def test_the_reference_found_on_disk_is_not_reachable(self, tmp_path, sandbox) -> None:
        reference = ROOT / "reference" / "nn_vmap_forward.py"
        source = solution(
            "import importlib.util, os, sys",
            body=f"""
            found = [os.path.join(d, "nn_vmap_forward.py") for d, _, files in
                     os.walk({str(ROOT)!r}) if "nn_vmap_forward.py" in files]
            for p in sys.path:
                candidate = os.path.join(p, "reference", "nn_vmap_forward.py")
                if os.path.exists(candidate):
                    found.append(candidate)
            found.append({str(reference)!r})
            for candidate in found:
                try:
                    spec = importlib.util.spec_from_file_location("stolen", candidate)
                    module = importlib.util.module_from_spec(spec)
                    spec.loader.exec_module(module)
                except OSError:
                    continue
                return module.nn_vmap_forward(seed, x_batch, features)
            raise RuntimeError(f"nothing found in {{found}}")
            """,
        )
        report = self.grade(tmp_path, source, sandbox)
        assert report.verdict is not Verdict.ACCEPTED
        assert report.verdict is Verdict.RUNTIME_ERROR

    def test_files_outside_the_worker_folder_are_not_written(self, tmp_path, sandbox) -> None:
        targets = [tmp_path / "escape.txt", Path("/tmp") / f"judge-escape-{uuid.uuid4().hex}"]
        source = solution(
            "",
            "\n".join(f"open({str(t)!r}, 'w').write('out')" for t in targets),
        )
        report = self.grade(tmp_path, source, sandbox)
        assert report.verdict is Verdict.RUNTIME_ERROR
        assert report.diagnostics[0].code == "forbidden_operation"
        assert not any(t.exists() for t in targets)

    def test_the_network_is_out_of_reach(self, tmp_path, sandbox) -> None:
        source = solution("import socket", "socket.create_connection(('127.0.0.1', 9), 2)")
        report = self.grade(tmp_path, source, sandbox)
        assert report.verdict is Verdict.RUNTIME_ERROR
        assert report.diagnostics[0].code == "forbidden_operation"

    def test_a_fork_loop_is_stopped_and_leaves_nothing(self, tmp_path, sandbox) -> None:
        marker = f"judge-fork-{uuid.uuid4().hex}"
        source = solution(
            "import os, subprocess",
            f"""
            while True:
                try:
                    subprocess.Popen(["python3", "-c", "import time; time.sleep(300)", {marker!r}])
                except PermissionError:
                    raise
                os.fork()
            """,
        )
        report = self.grade(tmp_path, source, sandbox)
        assert report.verdict is Verdict.RUNTIME_ERROR
        assert report.diagnostics[0].code == "forbidden_operation"
        assert with_marker(marker) == []

    def test_a_double_forked_daemon_does_not_outlive_its_worker(self, tmp_path, sandbox) -> None:
        """Below the guard: a process started where the guard cannot see (here: with the
        guard off) that double-forks and calls setsid is still gone when the worker is."""
        marker = f"judge-daemon-{uuid.uuid4().hex}"
        daemon = tmp_path / "daemon.py"
        daemon.write_text(
            textwrap.dedent(
                f"""
                import os, subprocess, sys, time
                def nn_vmap_forward(seed, x_batch, features):
                    return None
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        subprocess.Popen(
                            [sys.executable, "-c", "import time; time.sleep(300)", {marker!r}],
                            start_new_session=True,
                        )
                        time.sleep(300)
                    os._exit(0)
                time.sleep(1.0)
                """
            )
        )
        with Worker(
            role="learner",
            backend="cpu",
            precision="highest",
            sandbox=sandbox,
            guard=False,
        ) as worker:
            if refuses_fork(sandbox):  # the kernel refuses the first fork: nothing to outlive
                _, loaded = load_unguarded(worker, "daemon.py", daemon.read_text(), False)
                assert not loaded["ok"] and "PermissionError" in str(loaded), loaded
            else:
                load_unguarded(worker, "daemon.py", daemon.read_text())
                assert with_marker(marker), "the daemon did not start: the test proves nothing"
        assert wait_until_gone(marker) == []
        assert children() == []


def test_exit_codes_for_hostile_files_are_the_documented_ones(tmp_path: Path, capsys) -> None:
    flood = tmp_path / "flood.py"
    flood.write_text(CORPUS["a gigabyte on stdout"][0])
    assert main(["grade", str(flood), "--problem", PROBLEM, "--time-per-call", "8"]) == (
        EXIT_ACCEPTED
    )
    forged = tmp_path / "forged.py"
    forged.write_text(CORPUS["os._exit(0) after a fake report"][0])
    assert main(["grade", str(forged), "--problem", PROBLEM, "--time-per-call", "4"]) == (
        EXIT_REJECTED
    )
    out = capsys.readouterr().out
    assert "runtime_error" in out


def test_the_cpu_limit_ends_a_spinning_call_before_the_wall_limit(tmp_path: Path) -> None:
    path = tmp_path / "spin.py"
    path.write_text(solution(first="while True:\n    pass"))
    started = time.monotonic()
    report = grade(path, PROBLEM, GradeOptions(shrink=False, limits={"call_s": 30.0, "cpu_s": 4.0}))
    assert report.verdict is Verdict.TIME_LIMIT_EXCEEDED
    assert report.diagnostics[0].code == "timeout"
    assert report.diagnostics[0].evidence["limit"] == "cpu"
    assert time.monotonic() - started < 30.0  # the CPU limit, not the 30 s per call
    assert children() == []


@pytest.mark.skipif(
    os.geteuid() != 0 or _pids_cgroup_parent() is None,
    reason="the pids cgroup needs root and a mounted pids controller",
)
@pytest.mark.parametrize("sandbox", LEVELS)
def test_as_root_a_fork_bomb_below_the_guard_is_bounded_by_the_pids_cgroup(
    tmp_path: Path, sandbox: str
) -> None:
    """The kernel exempts root from RLIMIT_NPROC; the pids cgroup bounds it, threads included,
    and everything in it is gone when the worker is."""
    marker = f"judge-bomb-{uuid.uuid4().hex}"
    bomb = textwrap.dedent(
        f"""
        import os, time
        MARKER = {marker!r}
        forked = 0
        def nn_vmap_forward(seed, x_batch, features):
            global forked
            try:
                while forked < 2000:
                    if os.fork() == 0:
                        os.execvp("python3", ["python3", "-c", "import time; time.sleep(300)",
                                              MARKER])
                    forked += 1
            except BlockingIOError:
                return forked
            return -forked
        """
    )
    with Worker(
        role="learner",
        backend="cpu",
        precision="highest",
        sandbox=sandbox,
        guard=False,
        limits=Limits(call_s=60.0, submission_s=120.0, memory_mb=1 << 20, processes=8),
    ) as worker:
        load_unguarded(worker, "bomb.py", bomb)
        assert worker.cgroup is not None and worker.process_limit() is not None
        reply = worker.request({"op": "call", "args": [0, 0, 0]}, 60)
        if refuses_fork(sandbox):  # seccomp refuses fork itself: the cgroup never fills
            assert reply["kind"] == "exception" and reply["type"] == "PermissionError", reply
        else:
            assert reply["kind"] == "array", reply
            forked = int(decode_array(reply["array"]))
            assert 0 < forked < worker.cgroup.limit  # stopped by the kernel, not the loop's end
        cgroup = worker.cgroup.path
    assert wait_until_gone(marker) == []
    assert not cgroup.exists()
    assert children() == []


@pytest.mark.skipif(
    os.geteuid() != 0 or _pids_cgroup_parent() is None,
    reason="the pids cgroup needs root and a mounted pids controller",
)
def test_cgroups_left_by_a_killed_judge_are_removed() -> None:
    parent = _pids_cgroup_parent()
    assert parent is not None
    dead = int(Path("/proc/sys/kernel/pid_max").read_text()) - 1
    assert not Path(f"/proc/{dead}").exists()
    left = parent / f"judge-{dead}-0"
    left.mkdir()
    mine = parent / f"judge-{os.getpid()}-999999"  # a live judge's: kept
    mine.mkdir()
    try:
        _cgroup_parent.cache_clear()
        assert _pids_cgroup_parent() == parent
        assert not left.exists()
        assert mine.exists()
    finally:
        for path in (left, mine):
            if path.exists():
                path.rmdir()
