"""``judge new NAME``: a new problem package that ``judge check`` passes as written.

It writes, into a problem set (a folder; the working directory by default)::

    problems/NAME/problem.yaml            the spec: inputs, output, tolerance, limits, cases
    problems/NAME/statement.md            what the learner reads
    reference/NAME.py                     the course's solution
    submissions/NAME/accepted/...         an accepted example, written another way
    submissions/NAME/wrong_answer/...     a known mistake, named after it
    submissions/NAME/expected.yaml        the codes each example's report must hold
    pyproject.toml                        only when the set has none: the set as a distribution
                                          (``pip install .``) that the judge finds through the
                                          ``jax_judge.problems`` entry point

The exercise is a small real one (a Flax ``nn.Dense`` applied to a batch), so that the author
starts from a package that works and changes it, never from blanks that fail. Nothing is
overwritten: an existing problem of that name is an error.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from ..errors import UsageError
from .sources import ENTRY_POINT_GROUP

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

PROBLEM_YAML = """\
# A new problem: change the statement, the reference and the examples together, then run
# `judge check {name}`. Every field is described in the judge's docs/problem-packages.md.
name: {name}
title: "{name}: a Dense layer applied to a batch"
version: "0.1.0"
statement: statement.md
reference: ../../reference/{name}.py

entry_point:
  name: {name}
  parameters: [seed, x_batch, features]

inputs:
  seed:     {{type: int, min: 0, max: 2147483647, role: value}}
  batch:    {{type: int, min: 1, max: 4}}
  in_dim:   {{type: int, min: 1, max: 4}}
  features: {{type: int, min: 1, max: 4}}
  x_batch:  {{type: array, dtype: float32, shape: [batch, in_dim], min: -4.0, max: 4.0,
             nonzero: true, min_magnitude: 0.25, decimals: 3}}

output:
  dtype: float32

precision: highest
tolerance:
  float32:
    cpu: {{rtol: 1.0e-5, atol: 1.0e-6}}
    gpu: {{rtol: 1.0e-4, atol: 1.0e-5}}
    tpu: {{rtol: 1.0e-3, atol: 1.0e-4}}

limits:
  call_s: 10
  submission_s: 120
  memory_mb: 4096

cases:
  count: 8
  distinct_shapes: 4
  min_informative: 4
  boundary:
    - {{batch: 1, in_dim: 1, features: 1}}

hints:
  not_flattened: "Return the (batch, features) output of apply flattened: `out.reshape(-1)`."
"""

STATEMENT = """\
# {name}

Write `{name}(seed, x_batch, features)`:

- `seed`: an integer; initialise the parameters with `jax.random.PRNGKey(seed)`;
- `x_batch`: a float32 array of shape `(batch, in_dim)`;
- `features`: the number of outputs of the layer.

Build `flax.linen.Dense(features)`, initialise it on `x_batch`, apply it to `x_batch`, and
return the `(batch, features)` output flattened row by row to a 1-D array.
"""

REFERENCE = '''\
"""The reference solution of {name}: the course's own, never shown to learners."""

import flax.linen as nn
import jax


def {name}(seed, x_batch, features):
    layer = nn.Dense(features=features)
    params = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(params, x_batch).reshape(-1)
'''

ACCEPTED = '''\
"""Accepted: written otherwise than the reference (init_with_output, jnp.ravel)."""

import flax.linen as nn
import jax
import jax.numpy as jnp


def {name}(seed, x_batch, features):
    out, _ = nn.Dense(features).init_with_output(jax.random.PRNGKey(seed), x_batch)
    return jnp.ravel(out)
'''

WRONG = '''\
"""Wrong: returns the (batch, features) output without flattening it."""

import flax.linen as nn
import jax


def {name}(seed, x_batch, features):
    layer = nn.Dense(features=features)
    params = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(params, x_batch)
'''

EXPECTED = """\
# Each example and the diagnostic codes its report must hold, the root cause first.
accepted/init_with_output.py: []
wrong_answer/not_flattened.py: [not_flattened]
"""

PYPROJECT = """\
# This problem set as a Python distribution: `pip install .` here (or from a git URL), and the
# judge finds its problems through the "{group}" entry point, wherever it is installed.
# Only problems/ and reference/ are packaged; submissions/ (the examples) stay here.
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "Problems for the judge (jax-judge)"
requires-python = ">=3.11"
# The judge is installed first, as its README says; to install both at once, name it here as
# "jax-judge @ git+https://..." (it is not on PyPI under that name, so a bare name would fail).
dependencies = []

[project.entry-points."{group}"]
{package} = "{package}.problems"

[tool.setuptools]
packages = ["{package}.problems", "{package}.reference"]
package-dir = {{"{package}.problems" = "problems", "{package}.reference" = "reference"}}

[tool.setuptools.package-data]
"{package}.problems" = ["**/*"]
"{package}.reference" = ["*.py"]
"""


def check_name(name: str) -> None:
    """A problem name is its entry point's name too: a lowercase Python identifier."""
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise UsageError(
            f"judge new {name!r}: expected a lowercase Python identifier (letters, digits, _), "
            "as the function the learner writes is named after it"
        )


def package_name(folder: Path) -> str:
    """The Python package a problem set installs as, from its folder's name."""
    base = re.sub(r"[^a-z0-9_]+", "_", folder.resolve().name.lower()).strip("_") or "problems"
    return base if base[0].isalpha() else f"problems_{base}"


def new_problem(name: str, into: Path) -> list[Path]:
    """Write a new problem package ``name`` into the problem set at ``into``; the files written.

    Raises:
        UsageError: the name is not an identifier, or the problem or a file exists already.
    """
    check_name(name)
    files = {
        into / "problems" / name / "problem.yaml": PROBLEM_YAML,
        into / "problems" / name / "statement.md": STATEMENT,
        into / "reference" / f"{name}.py": REFERENCE,
        into / "submissions" / name / "accepted" / "init_with_output.py": ACCEPTED,
        into / "submissions" / name / "wrong_answer" / "not_flattened.py": WRONG,
        into / "submissions" / name / "expected.yaml": EXPECTED,
    }
    for path in [into / "problems" / name, *files]:
        if path.exists():
            raise UsageError(f"{path}: already exists; choose another name, or remove it first")
    pyproject = into / "pyproject.toml"
    if not pyproject.exists():
        package = package_name(into)
        files[pyproject] = PYPROJECT.format(
            group=ENTRY_POINT_GROUP, dist=package.replace("_", "-"), package=package
        )
    written = []
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template if path == pyproject else template.format(name=name))
        written.append(path)
    return written
