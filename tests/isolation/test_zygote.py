"""A worker forked by the zygote is confined exactly as a fresh one, and the zygote itself is
out of the learner's reach and gone with the judge.

The attacks are test_kernel_sandbox's (guard off: the kernel alone), run in a forked worker,
plus what only a fork could offer: the zygote's control socket, signalling the zygote, threads
left over from its imports. Verdicts of crashes, loops and memory come from grading with the
zygote on and off (``--no-zygote``), whose reports must agree.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from test_hostile import load_unguarded
from test_kernel_sandbox import ATTACKS, MUST_BE_DENIED

from judge import GradeOptions, Verdict, grade
from judge.grading import memo
from judge.limits import Limits
from judge.sandbox import Worker, bwrap_problem, get_sandbox, landlock_problem, zygote
from judge.sandbox.zygote import ForkedProcess, Zygote

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(landlock_problem() is not None, reason=f"no Landlock: {landlock_problem()}"),
]
ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "nn_vmap_forward"
SUBMISSIONS = ROOT / "submissions" / PROBLEM

# What only a forked worker could try: the descriptors it holds (the zygote's channel?), the
# zygote (its parent) and the judge, and how many threads it has.
FORK_ATTACKS = r"""
FDS = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in map(int, os.listdir("/proc/self/fd"))
       if os.path.exists(f"/proc/self/fd/{fd}")}
attempt("signal_zygote", lambda: os.kill(os.getppid(), signal.SIGKILL))
attempt("signal_judge", lambda: os.kill(JUDGE, 0))
attempt("ptrace_zygote", lambda: open(f"/proc/{os.getppid()}/mem", "rb").read(1))
R["sockets"] = sorted(v for v in FDS.values() if v.startswith("socket:"))
R["session"] = os.getsid(0) == os.getpid()
R["tasks"] = len(os.listdir("/proc/self/task"))
with open("results.json", "w") as handle:
    json.dump(R, handle)
"""


def attack_source(reference: str, outside: str, sibling: int, port: int) -> str:
    head = (
        f"REFERENCE = {reference!r}\nOUTSIDE = {outside!r}\nSIBLING = {sibling}\n"
        f"PORT = {port}\nJUDGE = {os.getpid()}\n"
    )
    attacks = textwrap.dedent(ATTACKS)
    cut = attacks.index("def nn_vmap_forward")
    return head + attacks[:cut] + textwrap.dedent(FORK_ATTACKS) + attacks[cut:]


SANDBOXES = [
    "landlock",
    pytest.param(
        "bwrap", marks=pytest.mark.skipif(bwrap_problem() is not None, reason="no bubblewrap")
    ),
]


def _ancestors(pid: int) -> list[int]:
    found = []
    while pid > 1:
        pid = _parent(pid)
        found.append(pid)
    return found


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_forked_worker_is_confined_as_a_fresh_one(sandbox: str) -> None:
    """The attacks of test_kernel_sandbox, and a fork's own, from a worker the zygote forked
    (under bwrap: the zygote inside one bubblewrap, the worker's folder a sibling of others')."""
    forker = Zygote(sys.executable, "cpu", get_sandbox(sandbox))
    try:
        _attack_from_a_fork(forker, sandbox)
    finally:
        forker.close()


def _attack_from_a_fork(forker: Zygote, sandbox: str) -> None:
    outside = f"/tmp/judge-escape-{uuid.uuid4().hex}"
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    reference = str(ROOT / "reference" / f"{PROBLEM}.py")
    try:
        with Worker(
            role="learner",
            backend="cpu",
            precision="highest",
            limits=Limits(call_s=60.0, submission_s=120.0, memory_mb=4096, cpu_s=100, processes=64),
            sandbox=sandbox,
            guard=False,
            zygote=forker,
        ) as worker:
            assert isinstance(worker.process, ForkedProcess)
            source = attack_source(reference, outside, sibling.pid, listener.getsockname()[1])
            hello, _ = load_unguarded(worker, "attacks.py", source)
            results = json.loads((Path(worker.directory) / "results.json").read_text())
            pid = worker.process.pid
            assert forker.process.pid in _ancestors(pid)  # forked, not a fresh interpreter
            if os.geteuid() == 0 and worker.cgroup is not None:
                assert worker.cgroup.holds(pid)  # placed before it ran anything of its own
        assert hello["confined"]["fs"] == "allowlist", hello
        assert hello["confined"]["threads"] == 1  # only the forking thread survived
        assert hello["limits"]["cpu_s"] == 100
        allowed = {
            k: v
            for k, v in results.items()
            if k in [*MUST_BE_DENIED, "signal_zygote", "signal_judge", "ptrace_zygote"]
            and v.startswith("allowed")
        }
        assert allowed == {}, allowed
        assert results["own_folder"].startswith("allowed"), results
        assert results["sockets"] == [], "the zygote's channel reached the learner"
        assert results["session"] is True
        assert forker.alive  # not signalled
        assert sibling.poll() is None
        with pytest.raises(TimeoutError):
            listener.accept()
        assert not Path(outside).exists()
    finally:
        sibling.send_signal(signal.SIGKILL)
        sibling.wait()
        listener.close()


def test_the_zygote_starts_no_backend() -> None:
    """A GPU context or XLA's thread pools do not survive a fork: the zygote must leave the
    backend to each child. Its forked worker reports the backend it started itself."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import judge.runtime.zygote as z; "
        "assert z._warm() is None; from jax._src import xla_bridge; "
        "print(len(xla_bridge._backends))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    assert done.stdout.strip() == "0", done.stderr[-2000:]


def _counting_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    forks: list[int] = []
    original = Zygote.fork

    def fork(self: Zygote, *args: object, **kwargs: object) -> ForkedProcess:
        made = original(self, *args, **kwargs)  # type: ignore[arg-type]
        forks.append(made.pid)
        return made

    monkeypatch.setattr(Zygote, "fork", fork)
    return forks


def _children() -> list[int]:
    me, found = os.getpid(), []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        if int(stat[stat.rfind(b")") + 2 :].split()[1]) == me:
            found.append(int(entry))
    return found


CRASHES = {
    "exits": ("import os\n", "os._exit(3)", Verdict.RUNTIME_ERROR),
    "loops": ("", "while True:\n        pass", Verdict.TIME_LIMIT_EXCEEDED),
    "memory": ("", "raise MemoryError()", Verdict.MEMORY_LIMIT_EXCEEDED),
    "killed": (
        "import os, signal\n",
        "os.kill(os.getpid(), signal.SIGKILL)",
        Verdict.RUNTIME_ERROR,
    ),
}


@pytest.mark.parametrize("name", sorted(CRASHES))
def test_forked_and_fresh_workers_give_the_same_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    head, body, expected = CRASHES[name]
    path = tmp_path / "solution.py"
    path.write_text(f"{head}def nn_vmap_forward(seed, x_batch, features):\n    {body}\n")
    options = GradeOptions(
        sandbox="landlock", shrink=False, limits={"call_s": 4.0, "submission_s": 40.0}
    )
    forks = _counting_forks(monkeypatch)
    forked = grade(path, PROBLEM, options)
    assert forks, "no worker was forked"
    assert _children() == [], "something outlived the grading (the zygote?)"
    monkeypatch.setattr(zygote, "_enabled", False)
    before = len(forks)
    fresh = grade(path, PROBLEM, options)
    assert len(forks) == before  # --no-zygote: fresh interpreters only
    assert forked.verdict is fresh.verdict is expected, (forked.summary, fresh.summary)
    assert [d.code for d in forked.diagnostics] == [d.code for d in fresh.diagnostics]


def _judge_json(cache: Path, *extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "judge", "grade", *extra, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "JUDGE_CACHE_DIR": str(cache)},
    )
    report = json.loads(done.stdout)
    report.pop("timing")  # wall-clock seconds: the one part that may differ
    return report


def test_no_zygote_gives_the_same_report(tmp_path: Path) -> None:
    """Whole reports, timing aside, from one warm cache (a cold one would start the reference's
    worker in the first grading only, and the report says so)."""
    wrong = str(SUBMISSIONS / "wrong_answer" / "column_major_flatten.py")
    common = (wrong, "--problem", PROBLEM, "--sandbox", "landlock")
    _judge_json(tmp_path, *common)  # fills the cache
    with_zygote = _judge_json(tmp_path, *common)
    without = _judge_json(tmp_path, *common, "--no-zygote")
    assert with_zygote["verdict"] == "wrong_answer"
    assert with_zygote == without


def _processes_holding(marker: str) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != b"Z":
            found.append(int(entry))
    return found


def test_the_zygote_and_its_workers_die_with_the_judge(tmp_path: Path) -> None:
    """SIGKILL the judge mid-grading: no zygote and no forked worker is left running."""
    marker = f"judge-zygote-test-{uuid.uuid4().hex}"
    path = tmp_path / "solution.py"
    path.write_text(
        f"MARK = {marker!r}\ndef nn_vmap_forward(seed, x_batch, features):\n"
        "    while True:\n        pass\n"
    )
    judge = subprocess.Popen(
        [sys.executable, "-m", "judge", "grade", str(path), "--problem", PROBLEM,
         "--sandbox", "landlock", "--time-per-call", "60"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        zygotes: list[int] = []
        while time.monotonic() < deadline:
            zygotes = [
                p for p in _processes_holding("judge_runtime.zygote") if _parent(p) == judge.pid
            ]
            if zygotes and any(_parent(p) == zygotes[0] for p in _all_pids()):
                break
            time.sleep(0.2)
        assert zygotes, "the judge started no zygote"
        workers = [p for p in _all_pids() if _parent(p) == zygotes[0]]
        assert workers, "the zygote forked no worker"
    finally:
        judge.kill()
        judge.wait()
    deadline = time.monotonic() + 10
    alive = [p for p in [*zygotes, *workers] if _running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if _running(p)]
    for pid in [*zygotes, *workers]:  # re-parented to this process if it is a subreaper
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    assert alive == [], "a zygote or worker outlived the judge"


def _all_pids() -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


CLOSE_PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from judge.sandbox import folder, get_sandbox
from judge.sandbox.zygote import Zygote
zygote = Zygote(sys.executable, "cpu", get_sandbox(sys.argv[2]))
time.sleep(0.5)
tree = folder.descendants(zygote.process.pid)
started = time.monotonic()
zygote.close()
elapsed = time.monotonic() - started
states = {}
for pid in tree:
    try:
        stat = open(f"/proc/{pid}/stat", "rb").read()
        states[pid] = stat[stat.rfind(b")") + 2:][:1].decode()
    except OSError:
        states[pid] = "gone"
print(json.dumps({"elapsed": elapsed, "tree": tree, "states": states}))
"""


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_closing_a_zygote_ends_its_tree_without_waiting_on_other_reapers(sandbox: str) -> None:
    """From a process that is not a subreaper (a judge that started no worker: a file that does
    not parse), a bubblewrap's init is re-parented to the machine's init, which may take
    seconds to reap it: closing must end the whole tree (nothing left running, only zombies
    of other parents) without waiting for that."""
    done = subprocess.run(
        [sys.executable, "-c", CLOSE_PROBE, str(ROOT), sandbox],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert len(found["tree"]) >= 1
    assert set(found["states"].values()) <= {"gone", "Z"}, found
    assert found["elapsed"] < 1.0, found


def _forks_by_kind(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    kinds: list[str] = []
    original = Zygote.fork

    def fork(self: Zygote, *args: object, **kwargs: object) -> ForkedProcess:
        kinds.append(self.kind)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Zygote, "fork", fork)
    return kinds


@pytest.mark.skipif(bwrap_problem() is not None, reason="no bubblewrap")
def test_under_bubblewrap_the_reference_forks_from_a_plain_zygote_beside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``judge batch`` and ``judge check`` start a plain zygote beside bubblewrap's: the
    reference's workers (outside any sandbox) fork from it, the learner's still from the one
    inside bubblewrap, and the report is the one fresh reference interpreters give."""
    wrong = SUBMISSIONS / "wrong_answer" / "column_major_flatten.py"
    options = GradeOptions(sandbox="bwrap")
    kinds = _forks_by_kind(monkeypatch)
    reports = []
    for beside in (True, False):
        monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / f"cache-{beside}"))  # cold
        memo.forget()  # and cold in this process: earlier tests' reference results go too
        zygote.prestart(sys.executable, "cpu", "bwrap")
        if beside:
            zygote.prestart_beside(sys.executable, "cpu", "bwrap")
        try:
            reports.append(grade(wrong, PROBLEM, options))
        finally:
            zygote.end_run()
        if beside:
            assert "plain" in kinds and "bwrap" in kinds, kinds
            kinds.clear()
    assert kinds and set(kinds) == {"bwrap"}, kinds  # without it: fresh reference workers
    assert reports[0].verdict is reports[1].verdict is Verdict.WRONG_ANSWER
    assert reports[0].failing_case == reports[1].failing_case
    assert [d.code for d in reports[0].diagnostics] == [d.code for d in reports[1].diagnostics]


def test_no_plain_zygote_beside_one_that_is_plain_already() -> None:
    """Under Landlock the learner's zygote is plain and forks the reference too: a second
    one would only cost an import of JAX."""
    try:
        zygote.prestart(sys.executable, "cpu", "landlock")
        zygote.prestart_beside(sys.executable, "cpu", "landlock")
        assert sorted(kind for _, _, kind in zygote._ZYGOTES) == ["plain"]
    finally:
        zygote.end_run()
