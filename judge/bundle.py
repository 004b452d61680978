"""The zip an instructor uploads to Gradescope as a programming assignment's autograder.

Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once while building its
image, copies ``run_autograder`` to ``/autograder/run_autograder`` and runs it for every
submission; the learner's files are in ``/autograder/submission`` and the results go to
``/autograder/results/results.json``. The zip holds the judge's own source (installed by
``setup.sh``), the problem package and its reference, laid out as in the problem set so that
the package's relative paths still hold.
"""

from __future__ import annotations

import os
import zipfile
from importlib import metadata
from pathlib import Path

from .constants import judge_version
from .errors import UsageError
from .problem import Problem

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v python3 >/dev/null; then
  apt-get update && apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet --upgrade pip
/autograder/venv/bin/pip install --quiet ./judge_src
# Check the package and grade its reference once: a broken autograder fails here, at build
# time, and the cache it fills (case plans, the reference's outputs, JAX's compilations) makes
# every submission a warm grading (about 1.8 s instead of 4.5 s on 2 cores).
JUDGE_CACHE_DIR=/autograder/cache /autograder/venv/bin/judge check --problems ./problems
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. It always leaves a results.json behind.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
JUDGE="${{JUDGE:-$ROOT/venv/bin/judge}}"
PROBLEM={problem}
ENTRY={entry}
export JUDGE_CACHE_DIR="${{JUDGE_CACHE_DIR:-$ROOT/cache}}"  # filled by setup.sh
mkdir -p "$ROOT/results"
RESULTS="$ROOT/results/results.json"

fail() {{
  python3 - "$RESULTS" "$1" <<'PY'
import json, sys
json.dump({{"score": 0.0, "max_score": 100.0, "output": sys.argv[2], "tests": []}},
          open(sys.argv[1], "w"))
PY
  exit 0
}}

# The learner's file: the one that defines the entry point, else the only .py or .ipynb.
file=""
while IFS= read -r -d '' candidate; do
  if grep -qE "def[[:space:]]+$ENTRY[[:space:]]*\\(" "$candidate"; then file="$candidate"; break; fi
  [ -z "$file" ] && file="$candidate"
done < <(find "$ROOT/submission" -type f \\( -name '*.py' -o -name '*.ipynb' \\) -print0 | sort -z)
[ -n "$file" ] || fail "No .py or .ipynb file was submitted."

"$JUDGE" grade "$file" --problem "$PROBLEM" --problems "$ROOT/source/problems" \\
  --format gradescope --output "$RESULTS" --color never
status=$?
if [ "$status" -ge 2 ] || [ ! -s "$RESULTS" ]; then
  fail "The grader could not grade this (exit status $status): tell your instructor."
fi
exit 0
"""

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "jax-judge"
version = "{version}"
requires-python = ">=3.11"
dependencies = {dependencies}

[project.scripts]
judge = "judge.cli:main"

[tool.setuptools.packages.find]
include = ["judge*"]
"""


def _dependencies() -> list[str]:
    try:
        requires = metadata.requires("jax-judge") or []
    except metadata.PackageNotFoundError:
        requires = []
    found = [r for r in requires if "extra ==" not in r]
    return found or ["jax", "jaxlib", "flax", "numpy", "hypothesis", "pyyaml", "rich"]


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")


def _executable(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def build_bundle(problem: Problem, output: Path) -> Path:
    """Write the autograder zip for ``problem`` to ``output``; returns the path written."""
    set_root = problem.directory.parent.parent  # <set>/problems/<name>
    reference = Path(os.path.normpath(problem.reference))
    try:
        reference_in_set = reference.relative_to(set_root)
    except ValueError:
        raise UsageError(
            f"{problem.name}: its reference {reference} is outside the problem set "
            f"{set_root}; move it under the set to bundle it"
        ) from None
    engine = Path(__file__).resolve().parent
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        _executable(archive, "setup.sh", SETUP_SH)
        _executable(
            archive,
            "run_autograder",
            RUN_AUTOGRADER.format(problem=problem.name, entry=problem.entry_point),
        )
        archive.writestr(
            "judge_src/pyproject.toml",
            PYPROJECT.format(version=judge_version(), dependencies=_dependencies()),
        )
        _add_tree(archive, engine, "judge_src/judge")
        _add_tree(archive, problem.directory, f"problems/{problem.name}")
        archive.write(reference, reference_in_set.as_posix())
    return output
