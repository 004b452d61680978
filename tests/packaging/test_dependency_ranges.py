"""The judge installs beside the JAX a notebook already has: its ranges accept the versions
Colab shipped in 2025, and cap nothing, so pip keeps the installed JAX instead of reinstalling
it (pip's default strategy upgrades a dependency only when its installed version does not
satisfy the range). Fast: reads pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REQUIREMENTS = {Requirement(r).name: Requirement(r) for r in PROJECT["dependencies"]}

# Versions preinstalled on Colab runtimes during 2025 (early and late). When this range was set,
# `judge check nn_vmap_forward` passed all 74 checks under jax 0.5.2, jaxlib 0.5.1, flax 0.10.4
# and numpy 2.0.2, and 73 (one root cause ranked otherwise) under jax 0.4.33, flax 0.8.5 and
# numpy 1.26.4 (docs/notebooks.md).
SHIPPED = {
    "jax": ["0.4.33", "0.5.2", "0.5.3", "0.7.2"],
    "jaxlib": ["0.4.33", "0.5.1", "0.5.3", "0.7.2"],
    "flax": ["0.8.5", "0.10.4", "0.10.6", "0.12.0"],
    "numpy": ["1.26.4", "2.0.2"],
    "pyyaml": ["6.0.2"],
    "rich": ["13.9.4"],
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_versions_a_notebook_ships_are_accepted(name: str) -> None:
    requirement = REQUIREMENTS[name]
    for version in SHIPPED[name]:
        assert requirement.specifier.contains(version), f"{requirement} rejects {version}"


@pytest.mark.parametrize("name", ["jax", "jaxlib", "flax", "numpy"])
def test_nothing_caps_or_pins_the_array_stack(name: str) -> None:
    """An upper bound or a pin would make pip replace the JAX a notebook already has."""
    for spec in REQUIREMENTS[name].specifier:
        assert spec.operator in (">=", ">"), f"{name}{spec}: only lower bounds here"


def test_the_notebook_tests_tools_are_in_the_test_extra() -> None:
    extra = {Requirement(r).name for r in PROJECT["optional-dependencies"]["test"]}
    assert {"nbclient", "nbformat", "ipykernel"} <= extra
