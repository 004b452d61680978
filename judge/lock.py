"""Pinned grading environments: the constraints file a course installs the judge with.

``judge lock`` writes the exact version of every installed package the judge depends on,
directly or not, as a pip constraints file (``name==version`` lines); ``pip install -c FILE``
then installs those versions anywhere: a Gradescope image, a CI job, a batch machine. The case
plan is reproducible per Hypothesis version and the numbers per JAX version, so two gradings
made under one lock met the same cases under the same libraries. The header records the Python
minor version the pins were taken from (wheels differ per Python), read back by the Gradescope
bundle's ``setup.sh`` (``# python: 3.11``).
"""

from __future__ import annotations

import hashlib
import platform
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .constants import judge_version
from .errors import UsageError

LOCK_FORMAT = "judge.lock/1"
DISTRIBUTION = "jax-judge"
# Installers, and the judge itself (installed from its own wheel or URL): never pinned.
UNPINNED = frozenset({"pip", "setuptools", "wheel", DISTRIBUTION})
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*(?:#.*)?$")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def normalize(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``PyYAML`` -> ``pyyaml``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def python_minor() -> str:
    return "{}.{}".format(*platform.python_version_tuple()[:2])


@dataclass(frozen=True)
class Lock:
    """A constraints file as read: its pins (normalized name -> version) and header facts."""

    pins: dict[str, str]
    python: str
    judge: str
    sha256: str
    path: Path | None = None


def judge_requirements() -> list[str]:
    """The judge's own runtime requirements (no extras), as its metadata or pyproject says."""
    try:
        found = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        found = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return [r for r in found if "extra" not in r.partition(";")[2]]


def _requirements(requirements: list[str], extras: frozenset[str]) -> list[tuple[str, frozenset]]:
    """(name, extras asked for) of each requirement that applies: one without an ``extra``
    marker, or one for an extra in ``extras`` (``etils[epath]`` needs ``fsspec``). Other
    markers are not evaluated: a requirement they leave out is not installed, so not pinned."""
    found = []
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        wanted = set(re.findall(r"extra\s*==\s*[\"']([^\"']+)[\"']", marker))
        match = _NAME.match(spec)
        if match is None or (wanted and not wanted & extras):
            continue
        asked = [normalize(e.strip()) for e in (match.group(2) or "").split(",") if e.strip()]
        found.append((match.group(1), frozenset(asked)))
    return found


def installed_pins() -> dict[str, str]:
    """Every installed distribution the judge needs, transitively: name -> version, sorted.

    Extras are followed where a requirement asks for them (``etils[epath]``).
    """
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset]] = set()
    queue = _requirements(judge_requirements(), frozenset())
    while queue:
        raw, extras = queue.pop()
        name = normalize(raw)
        if name in UNPINNED or (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        pins[name] = dist.version
        queue.extend(_requirements(dist.requires or [], extras))
    return dict(sorted(pins.items()))


def render(pins: dict[str, str]) -> str:
    """The constraints file for ``pins``, with the header that says where they come from."""
    machine = f"{platform.system().lower()} {platform.machine()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        f"# {LOCK_FORMAT}: the versions to grade with, as pip constraints: pip install -c THIS",
        f"# written by judge lock {judge_version()} on {when}, Python "
        f"{platform.python_version()} ({machine})",
        f"# python: {python_minor()}",
        f"# judge: {judge_version()}",
    ]
    return "\n".join([*head, *(f"{name}=={version}" for name, version in pins.items())]) + "\n"


def parse(text: str, path: Path | None = None) -> Lock:
    """Read a constraints file written by ``render``; UsageError naming the bad line."""
    shown = str(path) if path else "the lock"
    pins: dict[str, str] = {}
    facts = {"python": "", "judge": ""}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"#\s*(python|judge):\s*(\S+)", stripped)
        if header:
            facts[header.group(1)] = header.group(2)
        if not stripped or stripped.startswith("#"):
            continue
        pin = _PIN.match(stripped)
        if pin is None:
            raise UsageError(f"{shown}:{number}: expected name==version, got {stripped!r}")
        pins[normalize(pin.group(1))] = pin.group(2)
    if not facts["python"]:
        raise UsageError(f"{shown}: no '# python: 3.X' line (write it with `judge lock`)")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Lock(pins, facts["python"], facts["judge"], digest, path)


def read(path: Path) -> Lock:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse(text, path)


def differences(lock: Lock) -> list[str]:
    """How this environment differs from ``lock``: one line per package (and for Python)."""
    found = []
    if python_minor() != lock.python:
        found.append(f"python {python_minor()} here, {lock.python} in the lock")
    for name, pinned in lock.pins.items():
        try:
            here = metadata.version(name)
        except metadata.PackageNotFoundError:
            found.append(f"{name} not installed, {pinned} in the lock")
            continue
        if here != pinned:
            found.append(f"{name} {here} here, {pinned} in the lock")
    return found


def facts(lock: Lock, with_pins: bool = False) -> dict[str, Any]:
    """What a report records of the lock it was graded under (``environment.lock``)."""
    differ = differences(lock)
    recorded: dict[str, Any] = {
        "file": lock.path.name if lock.path else None,
        "sha256": lock.sha256,
        "python": lock.python,
        "pinned": len(lock.pins),
        "matches": not differ,
        "differences": differ,
    }
    if with_pins:
        recorded["pins"] = dict(lock.pins)
    return recorded
