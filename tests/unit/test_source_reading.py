"""The static reading of a learner's file (``source_reading``) and what it contradicts
(``structure_evidence.differs``): each way of writing an nn.vmap that learners and Flax's own
tests use is read, and a record is contradicted only by a literal the file really writes."""

from __future__ import annotations

import pytest

from judge.observations import Observations
from judge.runtime.recording import arguments_as_data
from judge.source_reading import OPEN, Named, read_source
from judge.structure_evidence import differs, source_disagreement

API = "flax.linen.vmap"
REFERENCE = {"target": Named("Dense"), "variable_axes": {"params": None},
             "split_rngs": {"params": False}, "in_axes": 0, "out_axes": 0}  # fmt: skip

# (source, how many sites, the first site's arguments that must be read as shown)
STYLES = {
    "alias": ("import flax.linen as nn\nnn.vmap(nn.Dense, variable_axes={'params': None})",
              {"variable_axes": {"params": None}, "target": Named("Dense")}),
    "from import, renamed": ("from flax.linen import vmap as lift, Dense\nlift(Dense, {}, {})",
                             {"variable_axes": {}, "split_rngs": {}}),
    "from flax import linen": ("from flax import linen\nlinen.vmap(linen.Dense, in_axes=1)",
                               {"in_axes": 1}),
    "transforms module": ("from flax.linen import transforms\ntransforms.vmap(f, out_axes=-1)",
                          {"out_axes": -1, "target": OPEN}),
    "core lift": ("from flax.core import lift\nlift.vmap(f, in_axes=(0, None))",
                  {"in_axes": (0, None)}),
    "whole flax": ("import flax\nflax.linen.vmap(flax.linen.Dense, split_rngs=dict(params=0))",
                   {"split_rngs": {"params": 0}}),
    "star import": ("from flax.linen import *\nvmap(Dense, variable_axes={'params': 0})",
                    {"variable_axes": {"params": 0}}),
    "getattr, literal": ("import flax.linen as nn\ngetattr(nn, 'vmap')(nn.Dense, in_axes=0)",
                         {"in_axes": 0}),
    "alias of the transform": ("import flax.linen as nn\nV = nn.vmap\nV(nn.Dense, out_axes=0)",
                               {"out_axes": 0}),
    "local class": ("import flax.linen as nn\nclass Block(nn.Module): pass\nnn.vmap(Block)",
                    {"target": Named("Block")}),
    "not a literal": ("import flax.linen as nn\naxes = {'params': None}\n"
                      "nn.vmap(nn.Dense, variable_axes=axes)", {"variable_axes": OPEN}),
}  # fmt: skip


@pytest.mark.parametrize("name", list(STYLES))
def test_each_style_is_read(name: str) -> None:
    source, shown = STYLES[name]
    reading = read_source(source, ["vmap"])
    assert reading.names("vmap")
    site = reading.sites["vmap"][0]
    for key, value in shown.items():
        assert site.arguments.get(key, OPEN) == value, (key, site.arguments)


def test_partial_merges_what_it_fixes_with_the_call() -> None:
    source = (
        "import functools\nimport flax.linen as nn\n"
        "P = functools.partial(nn.vmap, nn.Dense, {'params': None})\n"
        "P(split_rngs={'params': False})\n"
    )
    sites = read_source(source, ["vmap"]).sites["vmap"]
    called = [s for s in sites if not s.open]
    assert called and called[0].arguments["variable_axes"] == {"params": None}
    assert called[0].arguments["split_rngs"] == {"params": False}


def test_names_that_are_not_the_transform() -> None:
    for source in ("import jax\njax.vmap(f)", "import flax.linen as nn\nnn.Dense(3)",
                   "vmap = 3\nvmap", "import flax.linen as nn\nnn.scan(f)"):  # fmt: skip
        assert not read_source(source, ["vmap"]).names("vmap"), source


def test_an_unplaced_mention_is_open_and_unparsable_source_reads_nothing() -> None:
    reading = read_source("import flax.linen as nn\nmakers = [nn.vmap]", ["vmap"])
    assert reading.sites["vmap"][0].open
    assert not read_source("def (", ["vmap"]).parsed


def _record(**arguments: object) -> dict:
    data = arguments_as_data({k: v for k, v in arguments.items() if k != "target"})
    return {**data, "target": {"__class__": "flax.linen.linear.Dense"}, "build": 1}


# (site arguments, open, record arguments, the argument that must differ or None)
DIFFERS = [
    (REFERENCE, False, dict(REFERENCE), None),
    (REFERENCE, False, {**REFERENCE, "variable_axes": {"params": 0}}, "variable_axes"),
    (
        {"variable_axes": OPEN, "split_rngs": {"params": False}},
        False,
        {**REFERENCE, "variable_axes": {"params": 0}},
        None,
    ),
    ({}, False, {**REFERENCE, "in_axes": 1}, "variable_axes"),  # defaults: {} is not None
    ({}, True, {**REFERENCE, "in_axes": 1}, None),  # an open site: anything unnamed
    ({"variable_axes": {"params": None}}, False, {**REFERENCE}, "split_rngs"),
    ({"in_axes": (0,)}, True, {**REFERENCE, "in_axes": [0]}, None),  # a tuple is recorded a list
    ({"target": Named("Dense")}, True, dict(REFERENCE), None),
    ({"target": Named("Conv")}, True, dict(REFERENCE), "target"),
]


@pytest.mark.parametrize("shown, open_, recorded, expected", DIFFERS)
def test_differs_table(shown: dict, open_: bool, recorded: dict, expected: str | None) -> None:
    from judge.source_reading import Site

    site = Site(1, dict(shown), open_)
    assert differs(site, "vmap", _record(**recorded)) == expected


def _observations(arguments: dict) -> Observations:
    seen = Observations()
    build = {"kind": "lifted", "api": API, "arguments": arguments, "build": 1}
    run = {"kind": "lifted", "api": API, "applied": True, "arguments": {}, "build": 1,
           "during": "init"}  # fmt: skip
    seen.add([build], None)
    seen.add([run], "case-1")
    return seen


def test_records_the_source_bears_out_are_not_contradicted() -> None:
    source = STYLES["alias"][0].replace(")", ", split_rngs={'params': False})")
    seen = _observations(_record(**REFERENCE))
    assert source_disagreement(read_source(source, ["vmap"]), seen, [API]) is None


def test_records_of_a_transform_the_file_never_names() -> None:
    seen = _observations(_record(**REFERENCE))
    found = source_disagreement(read_source("import flax.linen as nn", ["vmap"]), seen, [API])
    assert found is not None and found.code == "structure_unverified"
    assert found.evidence["reason"] == "not_in_source"


def test_records_of_arguments_no_call_writes() -> None:
    source = "import flax.linen as nn\nnn.vmap(nn.Dense, variable_axes={'params': 0})"
    seen = _observations(_record(**REFERENCE))
    found = source_disagreement(read_source(source, ["vmap"]), seen, [API])
    assert found is not None and found.evidence["argument"] == "variable_axes"
    assert "'params': 0" not in found.message and "None" in found.message
