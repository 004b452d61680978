"""The zip an instructor uploads to Gradescope as a programming assignment's autograder.

Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once while building its
image, copies ``run_autograder`` to ``/autograder/run_autograder`` and runs it for every
submission; the learner's files are in ``/autograder/submission`` and the results go to
``/autograder/results/results.json``. The zip holds:

- ``judge_wheel/``: the judge itself as a wheel, built here from the running judge (nothing to
  compile or download for it on the image);
- ``constraints.txt``: the pinned versions of everything the judge needs (``judge lock``),
  with the Python minor version they were taken from; ``setup.sh`` brings that Python when the
  image lacks it (Gradescope's default Ubuntu 22.04 image has 3.10), installs exactly those
  versions, and fails the build when they cannot be had or when ``judge check`` fails;
- ``problems/<name>/`` and its reference, laid out as in the problem set so that the package's
  relative paths still hold; for an assignment, each of its problems and
  ``assignments/<name>/assignment.yaml``, found beside ``problems/`` as in a problem set;
- optionally ``wheelhouse/``: every wheel to install, so the image build needs no index.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path

from . import lock as locking
from .assignment import Assignment
from .candidates import DEFAULT_PICK
from .constants import judge_version
from .errors import UsageError
from .problem import Problem

WHEEL_DIR = "judge_wheel"
WHEELHOUSE = "wheelhouse"
CONSTRAINTS = "constraints.txt"
_TEMPLATES = Path(__file__).resolve().parent / "bundle_scripts"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _judge_files(engine: Path) -> list[tuple[str, bytes]]:
    """The judge package's files for the wheel: sources and data, no caches, no bundled set
    (the zip carries the one problem it grades)."""
    files = []
    for path in sorted(engine.rglob("*")):
        parts = path.relative_to(engine).parts
        if path.is_file() and "__pycache__" not in parts and parts[0] != "_bundled":
            files.append((f"judge/{Path(*parts).as_posix()}", path.read_bytes()))
    return files


def judge_wheel(version: str, requirements: list[str]) -> tuple[str, bytes]:
    """A wheel (PEP 427) of the running judge: its file name and bytes."""
    info = f"jax_judge-{version}.dist-info"
    metadata_lines = [
        "Metadata-Version: 2.1",
        "Name: jax-judge",
        f"Version: {version}",
        "Requires-Python: >=3.11",
        *(f"Requires-Dist: {r}" for r in requirements),
    ]
    files = [
        *_judge_files(Path(__file__).resolve().parent),
        (f"{info}/METADATA", ("\n".join(metadata_lines) + "\n").encode()),
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: judge gradescope-bundle\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (f"{info}/entry_points.txt", b"[console_scripts]\njudge = judge.cli:main\n"),
    ]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files)
    files.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            wheel.writestr(name, data)
    return f"jax_judge-{version}-py3-none-any.whl", buffer.getvalue()


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")


def _executable(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def _wheels(folder: Path) -> list[Path]:
    found = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if not found:
        raise UsageError(f"--wheelhouse {folder}: no .whl files there")
    return found


def scripts(
    problem: Problem | Assignment, points: float, sandbox: str, pick: str = DEFAULT_PICK
) -> dict[str, str]:
    """``setup.sh`` and ``run_autograder`` for ``problem`` (or an assignment, whose points are
    its own), from ``bundle_scripts/``; ``pick`` travels to ``judge autograde --pick``."""
    flag = "--assignment" if isinstance(problem, Assignment) else "--problem"
    values = {
        "@PROBLEM@": problem.name,
        "@TARGET@": f"{flag} {problem.name}"
        + ("" if isinstance(problem, Assignment) else f" --points {points:g}"),
        "@POINTS@": f"{points:g}",
        "@SANDBOX@": sandbox,
        "@PICK@": pick,
        "@PYTHON_MIN@": "3.11",
    }
    found = {}
    for name in ("setup.sh", "run_autograder"):
        text = (_TEMPLATES / name).read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        found[name] = text
    return found


def _reference_in_set(problem: Problem) -> tuple[Path, Path]:
    """The reference's path, and where it goes in the zip (relative to the problem set)."""
    set_root = problem.directory.parent.parent  # <set>/problems/<name>
    reference = Path(os.path.normpath(problem.reference))
    try:
        return reference, reference.relative_to(set_root)
    except ValueError:
        raise UsageError(
            f"{problem.name}: its reference {reference} is outside the problem set "
            f"{set_root}; move it under the set to bundle it"
        ) from None


def build_bundle(
    problem: Problem | Assignment,
    output: Path,
    *,
    lock: locking.Lock | None = None,
    points: float = 100.0,
    wheelhouse: Path | None = None,
    sandbox: str = "auto",
    pick: str = DEFAULT_PICK,
) -> Path:
    """Write the autograder zip for ``problem`` (or for an assignment: its problems, graded
    with its points) to ``output``; returns the path written.

    ``lock`` pins the versions installed on the image (default: this environment's, as
    ``judge lock`` writes them); ``wheelhouse`` is a folder of wheels carried in the zip so the
    image installs without an index; ``pick`` is how ``run_autograder`` picks among several
    submitted files (``judge.candidates``).
    """
    packages = [p.problem for p in problem.parts] if isinstance(problem, Assignment) else [problem]
    references = [_reference_in_set(package) for package in packages]
    constraints = locking.render(locking.installed_pins()) if lock is None else None
    wheels = _wheels(wheelhouse) if wheelhouse is not None else []
    wheel_name, wheel = judge_wheel(judge_version(), locking.judge_requirements())
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts(problem, points, sandbox, pick).items():
            _executable(archive, name, text)
        if lock is not None and lock.path is not None:
            archive.write(lock.path, CONSTRAINTS)
        else:
            archive.writestr(CONSTRAINTS, constraints or "")
        archive.writestr(f"{WHEEL_DIR}/{wheel_name}", wheel, zipfile.ZIP_STORED)
        for path in wheels:  # already compressed
            archive.write(path, f"{WHEELHOUSE}/{path.name}", zipfile.ZIP_STORED)
        for package, (reference, in_set) in zip(packages, references, strict=True):
            _add_tree(archive, package.directory, f"problems/{package.name}")
            archive.write(reference, in_set.as_posix())
        if isinstance(problem, Assignment):
            archive.write(problem.path, f"assignments/{problem.name}/assignment.yaml")
    return output
