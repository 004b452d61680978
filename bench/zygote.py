"""The rows of issue 19: workers forked by the zygote against fresh interpreters
(``--no-zygote``), per file and for a warm batch, and how evenly shards split a class.

Both sides run in the same benchmark, alternating run by run, under ``--sandbox landlock`` (a
sandbox whose workers are forked; ``bwrap`` keeps fresh interpreters, so its row in the
sandbox table is the trade-off). Memory is PSS, sampled by ``measure.py``: RSS counts the pages
a fork shares with the zygote in full for every worker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from run import Bench

SANDBOX = "landlock"
SHARDS = 4
# The zygote on, but each lowering in an MLIR context of its own, as JAX does alone
# (``judge/runtime/lowering.py``): what sharing one context saves.
OWN_CONTEXTS = {"JUDGE_SHARED_IR_CONTEXT": "0"}


def shard_balance(names: Sequence[str], count: int = SHARDS) -> dict[str, list[int]]:
    """Shard sizes of a class of ``names``: the balanced split ``--shard`` makes (sorted by
    hash, dealt in turn) against the plain hash modulo N it replaced."""
    from judge.batch.shard import Shard, shard_of

    balanced = [len(Shard(i, count).select(names)) for i in range(count)]
    hashed = Counter(shard_of(n, count) for n in names)
    return {"balanced": balanced, "hash_mod_n": [hashed.get(i, 0) for i in range(count)]}


def _median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _side(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs_s": [r["wall_s"] for r in runs],
        "median_s": _median([r["wall_s"] for r in runs]),
        "worker_pss_mb": _median([r.get("largest_child_pss_mb", 0.0) for r in runs]),
        "together_pss_mb": _median([r.get("together_pss_mb", 0.0) for r in runs]),
        "worker_rss_peak_mb": _median([r["largest_child_peak_mb"] for r in runs]),
    }


def single_files(bench: Bench, files: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Each file, warm cache, with the zygote and with ``--no-zygote``, alternating."""
    found: dict[str, Any] = {}
    for label, file in files:
        cache_dir = bench.fresh_dir("zygote-")
        bench.grade_judge(file, cache_dir, SANDBOX)  # fills the cache; not timed
        on: list[dict[str, Any]] = []
        off: list[dict[str, Any]] = []
        own: list[dict[str, Any]] = []
        for _ in range(bench.args.repeat):
            on.append(bench.grade_judge(file, cache_dir, SANDBOX))
            off.append(bench.grade_judge(file, cache_dir, SANDBOX, ["--no-zygote"]))
            own.append(bench.grade_judge(file, cache_dir, SANDBOX, environment=OWN_CONTEXTS))
        found[label] = {"zygote": _side(on), "no_zygote": _side(off), "own_contexts": _side(own)}
        bench.log(f"{label}, zygote on/off/own MLIR contexts: {found[label]['zygote']['runs_s']}"
                  f" / {found[label]['no_zygote']['runs_s']}"
                  f" / {found[label]['own_contexts']['runs_s']}")  # fmt: skip
    return found


def batch(bench: Bench, folder: Path, size: int) -> dict[str, Any]:
    """The warm batch, with the zygote, with ``--no-zygote`` and with the zygote but an MLIR
    context per lowering (one run each)."""
    found: dict[str, Any] = {}
    sides: tuple[tuple[str, list[str], dict[str, str]], ...] = (
        ("zygote", [], {}),
        ("no_zygote", ["--no-zygote"], {}),
        ("own_contexts", [], OWN_CONTEXTS),
    )
    for name, extra, environment in sides:
        cache_dir = bench.fresh_dir("zygote-batch-cache-")
        bench.grade_judge(bench.correct_file(), cache_dir, SANDBOX)
        run = bench.judge_batch_run(folder, cache_dir, ["--sandbox", SANDBOX, *extra], environment)
        found[name] = {
            **_side([run]),
            "files_per_min": size / run["wall_s"] * 60 if run["wall_s"] else None,
            "returncode": run["returncode"],
        }
        bench.log(f"warm batch, {name}: {run['wall_s']:.1f} s")
    return found


def table(results: dict[str, Any]) -> Table:
    """Zygote on against off: wall time, the ratio, and memory per worker (PSS)."""
    out = Table(title=f"warm cache, --sandbox {SANDBOX}: workers forked by the zygote vs fresh")
    columns = ("row", "zygote", "--no-zygote", "on/off", "own MLIR contexts", "shared/own",
               "PSS/worker on", "PSS/worker off")  # fmt: skip
    for column in columns:
        out.add_column(column, justify="left" if column == "row" else "right")
    for label, sides in results.items():
        on, off = sides["zygote"], sides["no_zygote"]
        own = sides.get("own_contexts") or {"median_s": None}
        out.add_row(
            label,
            _seconds(on["median_s"]),
            _seconds(off["median_s"]),
            _ratio(on["median_s"], off["median_s"]),
            _seconds(own["median_s"]),
            _ratio(on["median_s"], own["median_s"]),
            f"{on['worker_pss_mb']:.0f} MB",
            f"{off['worker_pss_mb']:.0f} MB",
        )
    return out


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value else "-"


def _ratio(top: float | None, bottom: float | None) -> str:
    return f"{top / bottom:.2f}x" if top and bottom else "-"
