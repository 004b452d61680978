"""Progress in a log: one line per finished item, a line at least every heartbeat while work
goes on, each with the count, the time spent and the time left."""

from __future__ import annotations

import io
import time

from rich.console import Console

from judge.progress import PlainProgress, progress


def test_each_finished_item_is_a_line_with_count_and_estimate() -> None:
    out = io.StringIO()
    with PlainProgress("judge check", out, heartbeat_s=60) as bar:
        task = bar.add_task("checking", total=4)
        bar.update(task, advance=1, description="nn_vmap_forward: accepted/canonical.py")
        bar.update(task, advance=1, description="nn_vmap_forward: wrong_answer/no_bias.py")
        bar.update(task, description="only a description: no line")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("judge check: 1/4 · 0:00 spent · about ")
    assert lines[1].endswith("wrong_answer/no_bias.py") and "2/4" in lines[1]


def test_a_log_hears_from_long_work_at_least_every_heartbeat() -> None:
    out = io.StringIO()
    with PlainProgress("judge batch", out, heartbeat_s=0.3) as bar:
        bar.add_task("grading", total=None)
        time.sleep(1.1)
    lines = out.getvalue().splitlines()
    assert 2 <= len(lines) <= 5, lines
    assert all(line.startswith("judge batch: 0 · ") for line in lines)


def test_a_terminal_gets_the_live_bar_and_a_log_the_lines() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True)
    log = Console(file=io.StringIO(), force_terminal=False)
    assert not isinstance(progress(terminal, "x"), PlainProgress)
    assert isinstance(progress(log, "x"), PlainProgress)
