#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (written by
# `judge gradescope-bundle`). It installs the judge with the versions pinned in constraints.txt,
# under the Python minor version they were taken from, then checks the problem with them: any
# failure stops the build here, with the reason, rather than reaching a learner.
#
# Gradescope's default base image, Ubuntu 22.04, has Python 3.10; the judge needs @PYTHON_MIN@ or
# newer. When the image has no python<X.Y> matching the lock, it is installed with apt from the
# deadsnakes PPA (Ubuntu only). Set JUDGE_PYTHON to an interpreter to use that one instead.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PROBLEM=@PROBLEM@

say() { echo "setup.sh: $*"; }
die() {
  echo "setup.sh: error: $*" >&2
  echo "setup.sh: the autograder image is NOT built; nothing was graded." >&2
  exit 1
}

PYTHON_VERSION="$(sed -n 's/^# python: *\([0-9][0-9.]*\).*/\1/p' constraints.txt | head -n 1)"
[ -n "$PYTHON_VERSION" ] || die "constraints.txt names no Python version ('# python: 3.X'); rebuild the bundle"

minor_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }

find_python() {  # an interpreter of the locked minor version, on PATH or named by JUDGE_PYTHON
  local name path
  for name in "${JUDGE_PYTHON:-}" "python$PYTHON_VERSION" python3; do
    [ -n "$name" ] || continue
    path="$(command -v "$name" 2>/dev/null)" || continue
    if [ "$(minor_of "$path")" = "$PYTHON_VERSION" ]; then
      echo "$path"
      return 0
    fi
  done
  return 1
}

bring_python() {  # Python $PYTHON_VERSION from the deadsnakes PPA
  command -v apt-get >/dev/null || return 1
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || return 1
  apt-get install -y -q --no-install-recommends software-properties-common gpg-agent || return 1
  add-apt-repository -y ppa:deadsnakes/ppa || return 1
  apt-get update -q || return 1
  apt-get install -y -q --no-install-recommends "python$PYTHON_VERSION" "python$PYTHON_VERSION-venv" || return 1
}

if ! PY="$(find_python)"; then
  system="$(command -v python3 >/dev/null && python3 --version 2>&1 || echo 'no python3')"
  say "the image has $system; the pinned versions need Python $PYTHON_VERSION: installing it (apt, deadsnakes PPA)"
  bring_python || die "could not install Python $PYTHON_VERSION with apt from the deadsnakes PPA (is this an Ubuntu image with network access?); choose a base image that has python$PYTHON_VERSION, or set JUDGE_PYTHON"
  PY="$(find_python)" || die "python$PYTHON_VERSION is still not on PATH after installing it"
fi
say "using $PY ($("$PY" --version 2>&1))"

"$PY" -m venv "$ROOT/venv" || die "could not make a virtual environment with $PY (on Debian or Ubuntu: apt-get install python$PYTHON_VERSION-venv)"
pip_install=("$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check)
if [ -d "$HERE/wheelhouse" ]; then
  pip_install+=(--no-index --find-links "$HERE/wheelhouse")
  say "installing from the bundled wheelhouse (no index)"
fi
"${pip_install[@]}" -c constraints.txt "$HERE"/judge_wheel/*.whl \
  || die "could not install the judge with the versions pinned in constraints.txt (see pip's message above)"
"$ROOT/venv/bin/judge" lock --check constraints.txt \
  || die "the installed versions differ from constraints.txt (listed above)"

# Check the package with these versions and grade its reference once: a problem that does not
# hold fails the build here, and the cache it fills (case plans, the reference's outputs, JAX's
# compilations) makes every submission a warm grading.
say "checking $PROBLEM under the pinned versions (judge check)"
if ! JUDGE_CACHE_DIR="$ROOT/cache" "$ROOT/venv/bin/judge" check --problems ./problems --sandbox @SANDBOX@; then
  die "judge check failed for $PROBLEM under the pinned versions (the FAIL lines above say why): the autograder would grade wrongly. Run 'judge check $PROBLEM' with these versions (pip install -c constraints.txt), fix the problem package, and upload a new bundle"
fi
say "ready: $PROBLEM, Python $PYTHON_VERSION, versions as in constraints.txt"
