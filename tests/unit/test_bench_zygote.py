"""bench/zygote.py's pure parts: the shard sizes it reports and the table it prints."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from rich.console import Console

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_zygote", ROOT / "bench" / "zygote.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_zygote"] = module
    spec.loader.exec_module(module)
    return module


rows = _load()


def test_shard_balance_counts_every_student_once_in_both_splits() -> None:
    names = [f"student_{k:03d}" for k in range(1, 41)]
    found = rows.shard_balance(names, 4)
    assert sum(found["balanced"]) == sum(found["hash_mod_n"]) == 40
    assert max(found["balanced"]) - min(found["balanced"]) <= 1
    assert len(found["hash_mod_n"]) == 4


def test_the_table_shows_both_sides_and_their_ratio() -> None:
    side = {"median_s": 2.0, "worker_pss_mb": 170.0}
    other = {"median_s": 4.0, "worker_pss_mb": 221.0}
    own = {"median_s": 2.5, "worker_pss_mb": 171.0}
    table = rows.table({"correct file": {"zygote": side, "no_zygote": other, "own_contexts": own}})
    console = Console(record=True, width=200, color_system=None)
    console.print(table)
    text = console.export_text()
    assert "0.50x" in text and "2.00 s" in text and "4.00 s" in text
    assert "170 MB" in text and "221 MB" in text
    assert "2.50 s" in text and "0.80x" in text  # shared MLIR context against one per lowering


def test_an_older_result_without_the_mlir_row_still_prints() -> None:
    side = {"median_s": 2.0, "worker_pss_mb": 170.0}
    table = rows.table({"wrong file": {"zygote": side, "no_zygote": side}})
    console = Console(record=True, width=200, color_system=None)
    console.print(table)
    assert "1.00x" in console.export_text()
