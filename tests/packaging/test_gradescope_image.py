"""The Gradescope bundle built, set up and run as Gradescope would, on a simulated image whose
system Python is 3.10 (Ubuntu 22.04, Gradescope's default base image) and on one whose is 3.11.

``image.py`` says what is real and what is simulated. The wheels the image installs are
downloaded once, from this machine's package index, by ``pip download`` of exactly the versions
``judge lock`` pins here; the bundle carries them (``--wheelhouse``) and ``setup.sh`` installs
them with no index. Where that download or a pyenv Python is missing the tests skip, except in
CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gradescope_spec import problems_with
from image import Image, pyenv_python
from test_wheel import SEEKS_THE_ANSWER_KEY

from judge import cli, lock

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions" / "nn_vmap_forward"
pytestmark = pytest.mark.slow


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """This environment's lock, and a folder with a wheel for every pinned version."""
    where = tmp_path_factory.mktemp("pinned")
    constraints = where / "constraints.txt"
    constraints.write_text(lock.render(lock.installed_pins()))
    wheels = where / "wheelhouse"
    requirements = [ln for ln in constraints.read_text().splitlines() if not ln.startswith("#")]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "-d", str(wheels), *requirements],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        unavailable(f"cannot download the pinned wheels: {done.stderr.strip()[-500:]}")
    return constraints, wheels


def bundle(tmp: Path, pinned: tuple[Path, Path], *extra: str, problems: Path | None = None) -> Path:
    constraints, wheels = pinned
    out = tmp / "autograder.zip"
    argv = ["gradescope-bundle", "nn_vmap_forward", "-o", str(out), "--lock", str(constraints)]
    argv += ["--wheelhouse", str(wheels), *extra]
    if problems is not None:
        argv += ["--problems", str(problems)]
    assert cli.main(argv) == 0
    return out


def image(tmp: Path, system_minor: str) -> Image:
    system = pyenv_python(system_minor)
    if system is None or pyenv_python(lock.python_minor()) is None:
        unavailable(f"needs pyenv's Python {system_minor} and {lock.python_minor()}")
    assert system is not None
    return Image.make(tmp, system)


def submit(img: Image, files: dict[str, Path]) -> None:
    for name, source in files.items():
        (img.root / "submission" / name).write_text(source.read_text())


def check_pinned(img: Image, constraints: Path, results: dict) -> None:
    """Every package in the autograder's environment is one the lock pins, at its version, and
    results.json says so."""
    listed = subprocess.run(
        [str(img.root / "venv" / "bin" / "python"), "-m", "pip", "list", "--format", "json",
         "--disable-pip-version-check"],
        capture_output=True, text=True, check=True, env=img.env(),
    )  # fmt: skip
    pins = lock.read(constraints).pins
    for package in json.loads(listed.stdout):
        name = lock.normalize(package["name"])
        if name not in lock.UNPINNED:
            assert pins.get(name) == package["version"], f"{name} {package['version']} not pinned"
    recorded = results["extra_data"]["lock"]
    assert recorded["matches"] is True and recorded["pins"] == pins
    assert recorded["sha256"] == lock.read(constraints).sha256


def test_default_image_with_python_3_10(tmp_path: Path, pinned: tuple[Path, Path]) -> None:
    img = image(tmp_path, "3.10")
    img.unpack(bundle(tmp_path, pinned))
    setup = img.setup()
    print(setup.stdout, setup.stderr)  # shown with pytest -rP: what Gradescope's build log shows
    assert setup.returncode == 0, setup.stdout + setup.stderr
    calls = img.apt_calls()
    assert "add-apt-repository -y ppa:deadsnakes/ppa" in calls
    wanted = lock.python_minor()
    assert any(c.startswith("apt-get install") and f"python{wanted}-venv" in c for c in calls)
    version = subprocess.run(
        [str(img.root / "venv" / "bin" / "python"), "--version"], capture_output=True, text=True
    ).stdout
    assert version.startswith(f"Python {wanted}."), version

    both = {
        "a.py": EXAMPLES / "accepted" / "canonical.py",
        "b.py": EXAMPLES / "accepted" / "canonical.py",
    }
    submit(img, both)
    run = img.run_autograder()
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((img.root / "results" / "results.json").read_text())
    assert problems_with(results) == []
    assert results["score"] == 100.0 and all(t["status"] == "passed" for t in results["tests"])
    assert "2 submitted files define nn\\_vmap\\_forward" in results["output"]
    assert results["extra_data"]["report"]["environment"]["python"].startswith(wanted)
    check_pinned(img, pinned[0], results)


def test_image_with_python_3_11_and_a_failing_check(
    tmp_path: Path, pinned: tuple[Path, Path]
) -> None:
    img = image(tmp_path, lock.python_minor())
    img.unpack(bundle(tmp_path, pinned, "--points", "10"))
    setup = img.setup()
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert img.apt_calls() == []  # the image's own Python fits the lock: nothing installed

    submit(img, {"solution.py": EXAMPLES / "wrong_answer" / "no_bias.py"})
    run = img.run_autograder()
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((img.root / "results" / "results.json").read_text())
    assert problems_with(results) == []
    assert results["score"] == pytest.approx(8.5)
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(10.0)
    check_pinned(img, pinned[0], results)

    # A learner who looks for the answer key in the installed judge finds nothing to read.
    for old in (img.root / "submission").iterdir():
        old.unlink()
    (img.root / "submission" / "solution.py").write_text(SEEKS_THE_ANSWER_KEY)
    run = img.run_autograder()
    assert run.returncode == 0, run.stdout + run.stderr
    text = (img.root / "results" / "results.json").read_text()
    assert "READ " not in text and ("REFUSED" in text or "ABSENT" in text), text[-2000:]
    reference = (ROOT / "reference" / "nn_vmap_forward.py").read_text()
    assert not any(line.strip() in text for line in reference.splitlines() if "nn.vmap(" in line)

    # A problem whose reference fails: the image build stops, saying why.
    broken = tmp_path / "broken"
    for name in ("problems", "reference"):
        shutil.copytree(ROOT / name, broken / name)
    reference = broken / "reference" / "nn_vmap_forward.py"
    reference.write_text(reference.read_text() + "\nraise RuntimeError('broken on purpose')\n")
    img.unpack(bundle(tmp_path / "b", pinned, problems=broken / "problems"))
    failed = img.setup()
    assert failed.returncode != 0
    assert "judge check failed for nn_vmap_forward" in failed.stderr
    assert "image is NOT built" in failed.stderr
