"""A problem package's model: frozen dataclasses, built only by ``judge.problem``'s loader."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalogue import RIGHT_VALUE_CODES as RIGHT_VALUE_CODES
from ..catalogue import RUBRIC_CHECKS as RUBRIC_CHECKS
from ..limits import Limits

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
ARRAY_DTYPES = ("float16", "float32", "float64", "int32", "int64")
PRECISIONS = ("default", "high", "highest")
INT_ROLES = ("shape", "value")
ARRAY_KINDS = ("numpy", "jax")
PROBLEM_FILE = "problem.yaml"
# When a rubric item's result is shown to the learner on a grading platform (Gradescope's
# names): always, after the due date, once grades are published, or never (instructors only).
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


@dataclass(frozen=True)
class IntInput:
    """An integer drawn from ``[min, max]``: a plain argument, an array dimension, or both.

    ``role`` says what changing it costs. A ``shape`` input (the default) changes the shapes the
    code traces and compiles, so the case plan reuses few of them; a ``value`` input (a seed)
    changes only data, so every case draws a fresh one, the range's ends included.
    """

    name: str
    min: int
    max: int
    role: str = "shape"


@dataclass(frozen=True)
class ArrayInput:
    """An array whose shape names integer inputs, with elements drawn from ``[min, max]``.

    ``nonzero`` asks that some element has magnitude at least ``min_magnitude``: an all-zero
    input often gives the same output for right and wrong code, so it proves nothing.
    ``decimals`` rounds drawn values (``0.125`` rather than ``-1.1754944e-38``), which keeps
    failing cases readable and away from magnitudes that tell nothing. ``kinds`` says what the
    learner's function must accept: ``numpy`` (a numpy array) and, when listed, ``jax`` (a
    jax.Array); the plan passes each kind listed in turn.
    """

    name: str
    dtype: str
    shape: tuple[str | int, ...]
    min: float
    max: float
    nonzero: bool = False
    min_magnitude: float = 0.1
    decimals: int | None = None
    kinds: tuple[str, ...] = ("numpy",)


Input = IntInput | ArrayInput


@dataclass(frozen=True)
class Tolerance:
    """Accept ``|got - expected| <= atol + rtol * |expected|`` element-wise."""

    rtol: float
    atol: float


@dataclass(frozen=True)
class CaseSpec:
    """How many cases to run and which boundary shapes must be among them.

    Each ``boundary`` entry maps integer inputs to a value, ``min``, ``max`` or ``=other``
    (equal to another input); inputs it leaves out are drawn by Hypothesis.
    """

    count: int
    distinct_shapes: int
    min_informative: int
    boundary: tuple[Mapping[str, int | str], ...]


# The rubric checks ("outputs", the engine's own, and the structural ones) and the comparator's
# codes that can mean "right values, wrong format" (an ``outputs`` item's ``partial:`` may name
# these and the problem's own fingerprint codes) are the catalogue's: ``RUBRIC_CHECKS``,
# ``RIGHT_VALUE_CODES``, imported above. The loader never imports the checks' implementations.


@dataclass(frozen=True)
class RubricItem:
    """One graded requirement. ``check`` says what is compared with the reference:

    - ``outputs``: every case's output (credit: the fraction of informative cases passed);
    - ``transform``: the submission calls the Flax lifted transform ``api`` with the same
      ``arguments`` as the reference does;
    - ``variable_shapes``: the variables ``init`` returns in ``collection`` have the
      reference's shapes and dtypes;
    - ``variable_paths``: they sit at the reference's paths (``params/kernel``, ...).

    ``visibility`` (one of ``VISIBILITIES``) says when a grading platform shows the item's
    result to the learner; the judge's own reports always show it.

    ``requires`` names items that must be earned for this one to earn anything: how params are
    mapped by ``nn.vmap`` says nothing when ``nn.vmap`` is never called, so such an item would
    otherwise pass trivially. ``partial`` (an ``outputs`` item only) maps a code that means
    "right values, wrong format" (``RIGHT_VALUE_CODES`` or one of the problem's fingerprint
    codes) to the fraction of a case's credit a case failing only by that slip earns.
    """

    id: str
    title: str
    check: str
    weight: float
    required: bool
    api: str = ""
    arguments: tuple[str, ...] = ()
    collection: str = "params"
    visibility: str = "visible"
    requires: tuple[str, ...] = ()
    partial: tuple[tuple[str, float], ...] = ()


DEFAULT_RUBRIC_ITEM = RubricItem(
    "outputs_match", "outputs match the reference", "outputs", 1.0, True
)


@dataclass(frozen=True)
class Fingerprint:
    """A known-wrong variant of the reference: if the learner's output equals its output on a
    failing case, ``code`` names the mistake."""

    code: str
    file: Path
    message: str
    hint: str
    # The mistake in words that hold whatever the output became ("the key is PRNGKey(0)"):
    # how the parameter stage names it when the learner's variables are this variant's.
    cause: str = ""
    # When the variant is the reference with other inputs (``inputs: {seed: 0}``, ``{seed:
    # "seed + 1"}``): each input's new value, a constant or (input, offset). The parameter
    # stage then composes it with the other variants (another initializer with seed 0).
    inputs: Mapping[str, tuple[str | None, int]] = field(default_factory=dict)

    def apply_inputs(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The changed values of a case's inputs; empty when an input it names is missing."""
        changed = {}
        for name, (source, amount) in self.inputs.items():
            if name not in values or (source is not None and source not in values):
                return {}
            changed[name] = amount if source is None else int(values[source]) + amount
        return changed


@dataclass(frozen=True)
class KnownError:
    """An exception text (``pattern``, a regular expression) translated into plain words."""

    pattern: str
    code: str
    message: str
    hint: str


@dataclass(frozen=True)
class Problem:
    """A validated problem package. Paths are absolute."""

    name: str
    title: str
    version: str
    directory: Path
    statement: Path
    reference: Path
    entry_point: str
    parameters: tuple[str, ...]
    inputs: Mapping[str, Input]
    output_dtype: str
    tolerance: Mapping[str, Mapping[str, Tolerance]]
    precision: str
    limits: Limits
    cases: CaseSpec
    hints: Mapping[str, str] = field(default_factory=dict)
    rubric: tuple[RubricItem, ...] = (DEFAULT_RUBRIC_ITEM,)
    fingerprints: tuple[Fingerprint, ...] = ()
    known_errors: tuple[KnownError, ...] = ()
    # The name the reference and the fingerprints define, when an assignment renames the
    # learner's function (``entry_point`` is then the learner's name); empty: the same.
    reference_entry_point: str = ""

    @property
    def int_inputs(self) -> list[IntInput]:
        return [i for i in self.inputs.values() if isinstance(i, IntInput)]

    @property
    def array_inputs(self) -> list[ArrayInput]:
        return [i for i in self.inputs.values() if isinstance(i, ArrayInput)]

    @property
    def shape_inputs(self) -> list[IntInput]:
        """Integer inputs whose every new value means new shapes to trace and compile."""
        return [i for i in self.int_inputs if i.role == "shape"]

    @property
    def value_inputs(self) -> list[IntInput]:
        return [i for i in self.int_inputs if i.role == "value"]

    @property
    def dimensions(self) -> list[str]:
        """Integer inputs used in some array's shape, in declaration order."""
        used = {d for a in self.array_inputs for d in a.shape if isinstance(d, str)}
        return [i.name for i in self.int_inputs if i.name in used]

    def tolerance_for(self, dtype: str, backend: str) -> Tolerance | None:
        """The tolerance for an expected output of ``dtype`` on ``backend``, if declared; a
        GPU platform (``cuda``, ``rocm``) takes the problem's ``gpu`` tolerance."""
        per_backend = self.tolerance.get(dtype)
        key = "gpu" if backend in ("cuda", "rocm") else backend
        return per_backend.get(key) if per_backend else None
