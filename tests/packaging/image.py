"""A simulated Gradescope image: an ``/autograder`` tree, a system whose ``python3`` is the one
chosen, and ``apt-get`` / ``add-apt-repository`` stand-ins.

What is real: the bundle's own ``setup.sh`` and ``run_autograder``, run by bash; a fresh
virtual environment made by the Python that ``setup.sh`` picks; pip installing every pinned
package from the bundle's wheelhouse (no index); ``judge check`` and the grading, in JAX
workers, under the default sandbox. What is simulated: the operating system. PATH holds only
links to this machine's ``/usr/bin`` tools (no Python of its own) plus the chosen ``python3``
(a pyenv build: 3.10 stands for Ubuntu 22.04's); ``apt-get install pythonX.Y`` is a stand-in
that logs its arguments and links pyenv's X.Y build onto PATH, as deadsnakes' package would put
``/usr/bin/pythonX.Y`` there. No network is used, and nothing is installed on this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"

APT_GET = """#!/bin/bash
# stand-in for apt-get: logs, and 'installs' pythonX.Y by linking pyenv's build onto PATH
echo "apt-get $*" >> "{log}"
if [ "$1" = install ]; then
  for package in "$@"; do
    case "$package" in
      python3.[0-9]*-venv) ;;
      python3.[0-9]*)
        found=$(ls -d "{pyenv}/${{package#python}}".*/bin/"$package" 2>/dev/null \
          | sort -V | tail -n 1)
        [ -n "$found" ] || {{ echo "E: Unable to locate package $package" >&2; exit 100; }}
        ln -sf "$found" "{bin}/$package" ;;
    esac
  done
fi
exit 0
"""
ADD_APT_REPOSITORY = """#!/bin/bash
echo "add-apt-repository $*" >> "{log}"
"""


def pyenv_python(minor: str) -> Path | None:
    """pyenv's newest build of ``minor`` (``3.10``), or None."""
    found = sorted(PYENV.glob(f"{minor}.*/bin/python{minor}"))
    return found[-1] if found else None


@dataclass
class Image:
    """One simulated image: its root (``/autograder``), its PATH folder and its apt log."""

    root: Path
    bin: Path
    apt_log: Path

    @classmethod
    def make(cls, where: Path, system_python: Path) -> Image:
        bin_dir = where / "system-bin"
        bin_dir.mkdir(parents=True)
        for tool in Path("/usr/bin").iterdir():
            if not tool.name.startswith(("python", "pip")) and os.access(tool, os.X_OK):
                (bin_dir / tool.name).symlink_to(tool)
        (bin_dir / "python3").symlink_to(system_python)
        log = where / "apt.log"
        for name, template in (("apt-get", APT_GET), ("add-apt-repository", ADD_APT_REPOSITORY)):
            script = bin_dir / name
            if script.exists() or script.is_symlink():
                script.unlink()
            script.write_text(template.format(log=log, pyenv=PYENV, bin=bin_dir))
            script.chmod(0o755)
        root = where / "autograder"
        (root / "submission").mkdir(parents=True)
        return cls(root, bin_dir, log)

    def unpack(self, bundle: Path) -> None:
        """What Gradescope does with the zip: its content in ``source/``."""
        shutil.rmtree(self.root / "source", ignore_errors=True)
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(self.root / "source")
        shutil.copy(self.root / "source" / "run_autograder", self.root / "run_autograder")

    def env(self) -> dict[str, str]:
        keep = ("LANG", "TERM")
        return {
            **{k: os.environ[k] for k in keep if k in os.environ},
            "PATH": str(self.bin),
            "HOME": str(self.root.parent / "home"),
            "AUTOGRADER_ROOT": str(self.root),
            "PIP_CONFIG_FILE": os.devnull,  # this machine's pip settings are not the image's
        }

    def setup(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/bash", str(self.root / "source" / "setup.sh")],
            cwd=self.root / "source",
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=900,
        )

    def run_autograder(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/bash", str(self.root / "run_autograder")],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
        )

    def apt_calls(self) -> list[str]:
        return self.apt_log.read_text().splitlines() if self.apt_log.exists() else []
