"""Structure credit must be earned: records a learner's process forges earn nothing that the
file or the numbers deny (``structure_evidence``), checked from outside on real gradings.

Each file below is a forger's: it computes the answer one way and makes the worker's records
say another. The judge must not accept it, must say ``structure_unverified``, and must not pay
the structure items. The last test is the control: the same files written honestly keep their
credit. Graded under the default sandbox: the forgeries need no escape.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from judge import GradeOptions, Verdict, grade

pytestmark = pytest.mark.slow

PROBLEM = "nn_vmap_forward"
SHORT = dict(limits={"call_s": 20.0, "submission_s": 120.0}, shrink=False)
STRUCTURE_ITEMS = ("built_with_nn_vmap", "vmap_arguments", "params_shared", "param_tree")

# Runs nn.vmap under a name the file never writes: records the source cannot bear out, which
# is all a forger who patches the worker's records to claim an nn.vmap would leave.
HIDDEN_VMAP = """
import jax
import flax.linen as nn

_lift = getattr(nn, "vm" + "ap")


def nn_vmap_forward(seed, x_batch, features):
    layer = _lift(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None},
                  split_rngs={"params": False})(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
"""

# The head of a file that patches the worker's Session (``_S``) around its own ``call``.
PATCHES_SESSION = """
import sys
import jax
import flax.linen as nn

_S = sys.modules["judge_runtime.session"].Session
_call = _S.call
"""

# Session patched: the recorded variable_axes of every nn.vmap say None where the file writes 0.
REWRITTEN_ARGUMENTS = (
    PATCHES_SESSION
    + """
_NONE = {"__filters__": [["'params'", {"names": ["params"]}, None]]}


def _forged(self, request):
    reply = _call(self, request)
    for event in reply.get("observations") or []:
        if isinstance(event, dict) and event.get("kind") == "lifted":
            event.get("arguments", {})["variable_axes"] = _NONE
    return reply


_S.call = _forged


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": 0},
                    split_rngs={"params": False})(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    return layer.apply(variables, x_batch).reshape(-1)
"""
)

# The right structure really runs, its output is thrown away, and the records of the layer's
# own output are removed: nothing left shows that structure computing anything right.
NOTHING_BORNE_OUT = (
    PATCHES_SESSION
    + """import jax.numpy as jnp


def _forged(self, request):
    reply = _call(self, request)
    events = reply.get("observations")
    if isinstance(events, list):
        reply["observations"] = [e for e in events if e.get("kind") != "output"]
    return reply


_S.call = _forged


def nn_vmap_forward(seed, x_batch, features):
    layer = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": None},
                    split_rngs={"params": False})(features=features)
    variables = layer.init(jax.random.PRNGKey(seed), x_batch)
    layer.apply(variables, x_batch)
    return jnp.ones(x_batch.shape[0] * features)
"""
)


def _grade(tmp_path: Path, source: str) -> tuple[Verdict, float, dict, list[str]]:
    path = tmp_path / "solution.py"
    path.write_text(textwrap.dedent(source))
    report = grade(path, PROBLEM, GradeOptions(**SHORT))
    items = {item.id: item for item in report.rubric}
    return report.verdict, report.score, items, [d.code for d in report.diagnostics]


@pytest.mark.parametrize(
    "source, reason",
    [(HIDDEN_VMAP, "not_in_source"), (REWRITTEN_ARGUMENTS, "arguments_differ"),
     (NOTHING_BORNE_OUT, "outputs")],
    ids=["vmap never named", "arguments the file does not write", "no number bears it out"],
)  # fmt: skip
def test_forged_structure_earns_nothing(tmp_path: Path, source: str, reason: str) -> None:
    path = tmp_path / "solution.py"
    path.write_text(textwrap.dedent(source))
    report = grade(path, PROBLEM, GradeOptions(**SHORT))
    assert report.verdict is not Verdict.ACCEPTED
    found = [d for d in report.diagnostics if d.code == "structure_unverified"]
    assert found and found[0].evidence["reason"] == reason, report.diagnostics
    items = {item.id: item for item in report.rubric}
    assert not any(items[i].passed for i in STRUCTURE_ITEMS)
    assert sum(items[i].score for i in STRUCTURE_ITEMS) == 0.0
    assert report.score <= items["outputs_match"].weight


def test_the_honest_files_keep_their_credit(tmp_path: Path) -> None:
    """The forgers' files without the forgery: accepted, or the structure items paid."""
    honest = HIDDEN_VMAP.replace('getattr(nn, "vm" + "ap")', "nn.vmap")
    verdict, score, _, codes = _grade(tmp_path, honest)
    assert verdict is Verdict.ACCEPTED and score == 1.0, codes
    # A right layer with a wrong step after it: its own output is the reference layer's.
    shifted = NOTHING_BORNE_OUT.replace("_S.call = _forged", "").replace(
        "    layer.apply(variables, x_batch)\n    return jnp.ones(x_batch.shape[0] * features)",
        "    return layer.apply(variables, x_batch).reshape(-1) + 1.0",
    )
    assert "+ 1.0" in shifted
    verdict, score, items, codes = _grade(tmp_path, shifted)
    assert "structure_unverified" not in codes
    assert all(items[i].passed for i in STRUCTURE_ITEMS), items
    # A right layer with another key: what it returned is its own output, flattened.
    other_key = HIDDEN_VMAP.replace('getattr(nn, "vm" + "ap")', "nn.vmap").replace(
        "PRNGKey(seed)", "PRNGKey(seed + 7)"
    )
    verdict, score, items, codes = _grade(tmp_path, other_key)
    assert verdict is Verdict.WRONG_ANSWER and "structure_unverified" not in codes, codes
    assert items["vmap_arguments"].passed, items
