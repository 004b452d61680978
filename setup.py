"""Build hook: the wheel carries the bundled problem set as package data.

The top-level ``problems/``, ``reference/`` and ``assignments/`` folders stay the only source
of truth; a build copies them into ``judge/_bundled/`` inside the wheel (their relative layout
kept, so each ``problem.yaml``'s ``reference: ../../reference/<name>.py`` still resolves, and
an assignment's problems are found beside it), where
``judge.problem.default_problems_dir`` finds them after a plain ``pip install``. An editable
install needs no copy: the judge finds the checkout's own ``problems/``. Everything else about
the distribution is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("problems", "reference", "assignments")  # copied whole into judge/_bundled/
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildWithProblems(build_py):
    """``build_py``, then the bundled problem set copied beside the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders directly
        for name in BUNDLED:
            source = HERE / name
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing: the wheel must carry it")
            target = Path(self.build_lib) / "judge" / "_bundled" / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithProblems})
