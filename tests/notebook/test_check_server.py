"""The check server (``judge.notebook.server``): one judge process per kernel, kept warm.

Each test runs a "kernel" of its own: a child python that calls ``judge.check`` on a bundled
example, step by step (``KERNEL``), and prints one JSON line per step. The child, not pytest,
holds the server, so that the tests can see what is left once that kernel has ended.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from judge.notebook import server

ROOT = Path(__file__).resolve().parents[2]
CANONICAL = ROOT / "submissions" / "nn_vmap_forward" / "accepted" / "canonical.py"

# The kernel: each step of argv[1] (JSON) is a check (its options), "kill" (the server, by
# SIGKILL), "interrupt" (a check that SIGINT stops after 0.8 s: a kernel's first check takes
# longer) or "hold" (wait to be killed).
KERNEL = r"""
import json, os, signal, sys, threading, time
import judge
from judge.notebook import server

def say(**fields):
    print("STEP " + json.dumps(fields), flush=True)

for step in json.loads(sys.argv[1]):
    if step == "kill":
        os.kill(server.current_pid(), signal.SIGKILL)
        time.sleep(0.5)
        say(killed=True)
    elif step == "hold":
        pid = server.current_pid()
        say(server=pid, below=server._descendants(pid))
        time.sleep(600)
    elif step == "interrupt":
        seen = []
        def fire():
            pid = server.current_pid()
            seen.extend([pid, *server._descendants(pid)] if pid else [])
            os.kill(os.getpid(), signal.SIGINT)
        timer = threading.Timer(0.8, fire)
        timer.start()
        try:
            judge.check("nn_vmap_forward", source=sys.argv[2])
            timer.cancel()
            say(interrupted=False)
        except KeyboardInterrupt:
            say(interrupted=True, server=server.current_pid(), seen=seen)
    else:
        started = time.perf_counter()
        result = judge.check("nn_vmap_forward", source=sys.argv[2], **step)
        seconds = time.perf_counter() - started
        pid = server.current_pid()
        report = result.report.to_dict() if result.report is not None else None
        say(verdict=result.verdict, score=result.score, error=result.error, report=report,
            seconds=seconds, server=pid, below=server._descendants(pid) if pid else [])
"""


def run_kernel(steps: list[Any], where: Path) -> list[dict[str, Any]]:
    """Run the kernel through ``steps`` to its end; what each step said."""
    done = subprocess.run(
        [sys.executable, "-c", KERNEL, json.dumps(steps), str(CANONICAL)],
        cwd=where, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line[5:]) for line in done.stdout.splitlines() if line.startswith("STEP ")]


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie holds nothing but its entry)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :].split()[0] in (b"Z", b"X")


def servers_of(kernel: int) -> list[int]:
    """Check servers started by the kernel of pid ``kernel`` (their command line names it)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"judge.notebook.server" in argv and str(kernel).encode() in argv and not gone(entry):
            found.append(int(entry))
    return found


def assert_all_end(pids: list[int], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(gone(pid) for pid in pids):
        time.sleep(0.1)
    assert [pid for pid in pids if not gone(pid)] == []


def same_report(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Equal reports, but for how long each part took and the device the reference's worker
    ran on: named only when it ran, and a warm cache (the suite's, or this process's memory
    after the first check) spares it."""

    def kept(report: dict[str, Any]) -> dict[str, Any]:
        environment = {**report["environment"], "reference_device": None}
        return {**report, "timing": None, "environment": environment}

    return kept(first) == kept(second)


@pytest.mark.slow
def test_a_second_check_reuses_the_server_and_its_times_are_recorded(tmp_path: Path) -> None:
    first, second = run_kernel([{}, {}], tmp_path)
    assert first["verdict"] == "accepted" and first["score"] == 1.0, first["error"]
    assert second["server"] == first["server"]  # the same process answered both
    assert same_report(first["report"], second["report"])
    times = {"first_s": round(first["seconds"], 3), "second_s": round(second["seconds"], 3)}
    times["ratio"] = round(times["second_s"] / times["first_s"], 3)
    (tmp_path / "check_times.json").write_text(json.dumps(times))
    print(f"check times (not asserted): {times}")


@pytest.mark.slow
def test_nothing_is_left_once_the_kernel_has_exited(tmp_path: Path) -> None:
    (step,) = run_kernel([{}], tmp_path)
    assert step["verdict"] == "accepted", step["error"]
    assert step["below"], "the server keeps a zygote between checks"
    assert_all_end([step["server"], *step["below"]])


@pytest.mark.slow
def test_nothing_is_left_once_the_kernel_was_killed(tmp_path: Path) -> None:
    kernel = subprocess.Popen(
        [sys.executable, "-c", KERNEL, json.dumps([{}, "hold"]), str(CANONICAL)],
        cwd=tmp_path, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert kernel.stdout is not None
    steps = []
    for line in kernel.stdout:
        if line.startswith("STEP "):
            steps.append(json.loads(line[5:]))
        if len(steps) == 2:
            break
    kernel.kill()  # no atexit: the server ends by PR_SET_PDEATHSIG
    kernel.wait()
    kernel.stdout.close()
    held = steps[1]
    assert held["server"] == steps[0]["server"]
    assert_all_end([held["server"], *held["below"]])
    assert servers_of(kernel.pid) == []


@pytest.mark.slow
def test_a_killed_server_is_replaced_by_the_next_check(tmp_path: Path) -> None:
    first, killed, second = run_kernel([{}, "kill", {}], tmp_path)
    assert killed["killed"]
    assert second["verdict"] == "accepted", second["error"]
    assert second["server"] != first["server"]
    assert same_report(first["report"], second["report"])


@pytest.mark.slow
def test_an_interrupt_or_a_timeout_stops_the_server(tmp_path: Path) -> None:
    interrupted, timed_out, after = run_kernel(["interrupt", {"timeout": 0.05}, {}], tmp_path)
    assert interrupted["interrupted"] and interrupted["server"] is None  # stopped, forgotten
    assert interrupted["seen"], "the server had started when the interrupt came"
    assert_all_end(interrupted["seen"])  # with its zygote and workers
    assert timed_out["verdict"] == "error" and timed_out["server"] is None
    assert "no report within timeout=0.05 s" in timed_out["error"]
    assert after["verdict"] == "accepted" and after["server"] not in (*interrupted["seen"], None)


@pytest.mark.slow
def test_other_options_are_honoured_by_the_same_kernel(tmp_path: Path) -> None:
    confined, plain, unknown, again = run_kernel(
        [{}, {"sandbox": "none"}, {"sandbox": "nosuch"}, {"backend": "nosuch"}], tmp_path
    )
    assert confined["verdict"] == plain["verdict"] == "accepted"
    assert confined["server"] == plain["server"]  # one server, a zygote for each sandbox
    assert confined["report"]["environment"]["sandbox"] != "process"
    assert plain["report"]["environment"]["sandbox"] == "process"  # sandbox="none"
    assert unknown["verdict"] == "error" and "--sandbox nosuch" in unknown["error"]
    assert again["verdict"] == "error" and again["report"] is None  # no such backend
    assert "\n" not in unknown["error"] + again["error"]  # one line, no traceback


def test_the_server_is_per_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    before = server._key()
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    assert server._key() != before  # a new server: the judge reads it once, at its start


def test_a_server_that_dies_at_once_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # starts, and ends before replying
    reply = server.ask({"name": "nn_vmap_forward"}, timeout=30)
    assert reply == {"kind": "error", "message": "the grading process failed (exit 1): no output"}
    assert server.current_pid() is None  # forgotten: the next check starts a new one
