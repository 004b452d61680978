"""The judge's vocabulary: every diagnostic code, failure kind and rubric check, each with its
wording beside it. The ground floor: it imports nothing from the judge but ``result``.

A code is one ``Code`` entry: its family, whether it names how the code is built (structural),
its rank for root-cause ordering, its title for an instructor, its generic hint (or None when
each diagnostic words its own) and the codes it may be a consequence of (``follows_from``).
``wording``, ``structure``, ``diagnose``, ``grading`` and the problem loader read it; the table of
codes in docs/reference/codes.md is written from it (``python -m judge.generated FILE``).

Long because every code sits with its wording, one entry each, as an author reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .result import Verdict

# --- ranks: the root cause first -------------------------------------------------------------

BUILT = 0  # how the code is built (observed, not inferred from values): structural
NAMED = 1  # a named mistake
INITIAL_VALUES = 2  # initial values differ
OUTPUTS = 3  # outputs differ
NOTE = 4  # warnings and notes (any code with a severity other than error ranks here)

# Families whose codes a problem's ``hints:`` may not name: the batch's own (worded by the
# batch), the judge's faults, and fingerprint codes (a problem hints those it declares).
UNHINTABLE_FAMILIES = ("submission", "judge", "fingerprint-only")


@dataclass(frozen=True)
class Code:
    """One diagnostic code and its wording."""

    name: str
    family: str
    title: str  # what the students did, as an instructor reads it in a class summary
    hint: str | None = None  # the generic hint; None: each diagnostic words its own
    rank: int = NAMED
    follows_from: tuple[str, ...] = ()  # the codes this one may be a consequence of
    doc: str = ""  # what the codes table adds to the title (markdown)

    @property
    def structural(self) -> bool:
        """Whether the code names how the code is built: when present, the root cause."""
        return self.rank == BUILT

    @property
    def hintable(self) -> bool:
        """Whether a problem's ``hints:`` may name it without declaring it."""
        return self.family not in UNHINTABLE_FAMILIES


# --- lifted transforms -----------------------------------------------------------------------

# The Flax lifted transforms whose use is checked (``runtime/observer.py`` records the same
# ones; the runtime imports nothing from the judge, so a test holds the two lists together).
LIFTED_TRANSFORMS = ("vmap", "scan", "jit", "remat", "map_variables")


def _transform(api: str) -> str:
    """``flax.linen.vmap`` (or ``vmap``) -> ``vmap``."""
    return api.rsplit(".", 1)[-1]


def no_transform_code(api: str) -> str:
    """The code of a lifted transform never called: ``flax.linen.vmap`` -> ``no_nn_vmap``."""
    return f"no_nn_{_transform(api)}"


def unused_transform_code(api: str) -> str:
    """The code of one built but not computing the output: -> ``unused_nn_vmap``."""
    return f"unused_nn_{_transform(api)}"


def _transform_codes() -> tuple[Code, ...]:
    never = [
        Code(
            no_transform_code(t),
            "structure",
            f"never calls nn.{t}",
            rank=BUILT,
            doc=f"the reference builds its layer with `nn.{t}`; the learner's code never does",
        )
        for t in LIFTED_TRANSFORMS
    ]
    unused = [
        Code(
            unused_transform_code(t),
            "structure",
            f"builds nn.{t} but computes without it",
            rank=BUILT,
            doc="built but never run, or run to make the variables while another layer's "
            "`apply` makes the output",
        )
        for t in LIFTED_TRANSFORMS
    ]
    return (*never, *unused)


# --- the codes -------------------------------------------------------------------------------

_LOAD = (
    Code(
        "syntax_error",
        "load",
        "file does not parse",
        "Fix the line shown; `python -m py_compile FILE` checks a file without running it.",
    ),
    Code(
        "import_error",
        "load",
        "imports something unavailable",
        "Import only what the grader has: the standard library, numpy, jax and flax. Remove the "
        "import or replace what it provided.",
    ),
    Code(
        "exception_at_import",
        "load",
        "raised an exception while loaded",
        "Code at the top level runs when your file is loaded. Move tests and experiments under "
        '`if __name__ == "__main__":`.',
        doc="a hint key only: the diagnostic's code is `exception`",
    ),
    Code(
        "entry_point_missing",
        "load",
        "function missing or misnamed",
        "Define the function at the top level of the file, with exactly this name (not inside a "
        "class or an `if` block).",
        doc="with a did-you-mean",
    ),
    Code(
        "entry_point_not_callable",
        "load",
        "entry point is not a function",
        "The name must refer to a function defined with `def`.",
    ),
    Code(
        "signature_mismatch",
        "load",
        "parameters differ from the statement",
        "Give the function the parameters the statement lists, in order.",
        doc="an error when the function cannot take the parameters positionally, a warning "
        "when only their names differ",
    ),
    Code(
        "notebook_invalid",
        "load",
        "notebook cannot be read",
        "Download the notebook again from Jupyter (File > Download) or submit a .py file.",
    ),
    Code(
        "no_code",
        "load",
        "notebook has no code",
        "Put your function in a code cell (not a markdown cell) and save the notebook.",
    ),
)

_RUNTIME = (
    Code(
        "exception",
        "runtime",
        "raised an exception",
        "Paste the reproducer into Python where your function is defined to see the error "
        "happen, then fix the line the traceback points to.",
        doc="with the learner's own traceback lines, not the judge's or the libraries'",
    ),
    Code(
        "process_died",
        "runtime",
        "process died (exit, signal, crash)",
        "Something ended the whole process: os._exit, a signal, or a crash in native code. Do "
        "not exit or kill the process from your function.",
    ),
    Code(
        "protocol_violation",
        "runtime",
        "the worker's reply broke the judge's limits",
        "The judge's worker process is not yours to change: replies too large, too deep or "
        "malformed (a patched runtime, huge values handed to Flax's transforms) end it.",
        doc="a reply over the judge's size or nesting limits, or not in its format",
    ),
    Code(
        "observations_dropped",
        "runtime",
        "more observations than the judge keeps",
        rank=NOTE,
        doc="info: the calls past the grading's budget were judged on their outputs alone",
    ),
    # Known errors (``diagnose.ENGINE_KNOWN_ERRORS``): Flax and JAX errors in plain words.
    Code(
        "forbidden_operation",
        "runtime",
        "tried something graded code may not do",
        doc="the guard refused it (see Isolation)",
    ),
    Code("prng_key_array", "runtime", "PRNGKey given an array"),
    Code(
        "missing_rng",
        "runtime",
        "no random key reached the layer",
        doc="`split_rngs` leaves out its stream, or init got no key",
    ),
    Code("invalid_rng", "runtime", "invalid random key"),
    Code("param_shape_error", "runtime", "layer built for other inputs"),
    Code("non_integer_shape", "runtime", "a shape that is not an integer"),
    Code("unbound_module", "runtime", "module used outside init/apply"),
    Code("dense_shape_error", "runtime", "inner sizes of a product differ"),
)

_LIMIT = (
    Code(
        "timeout",
        "limit",
        "too slow, or never returns",
        "Look for a loop that never ends, a sleep, or work that grows much faster than the input.",
        doc="`evidence.limit`: `call`, `submission` or `cpu`",
    ),
    Code(
        "memory_limit",
        "limit",
        "ran out of memory",
        "Look for arrays far larger than the inputs, or a list that keeps growing.",
    ),
    Code(
        "disk_limit",
        "limit",
        "wrote too much to disk",
        "Graded code needs no files: return the result instead of writing it.",
        doc="the worker's folder grew past `limits.disk_mb`",
    ),
    Code(
        "output_too_large",
        "limit",
        "returned far too much",
        "Return only the requested output.",
    ),
)

# What a wrong output may be a consequence of: any code that changes values. Not a missing or
# unused nn.vmap, nor a missing bias: a plain Dense with the same key, or a zero bias, gives the
# reference's numbers, so a wrong output beside them has another cause to find.
_CHANGES_VALUES = (
    "ensemble_params",
    "shared_params",
    "split_rngs",
    "wrong_in_axes",
    "wrong_out_axes",
    "wrong_variable_axes",
    "param_tree_mismatch",
    "wrong_param_dtype",
    "wrong_param_shape",
    "wrong_param_values",
    "wrong_output_dtype",
    "state_between_calls",
    "ignores_seed",
    "wrong_init_key",
    "wrong_initializer",
    "wrong_flatten_order",
    "argument_ignored",
)

_OUTPUT = (
    Code(
        "wrong_return_type",
        "output",
        "returns something other than an array",
        "Return an array (a jax or numpy array), not a tuple, dict or None.",
    ),
    Code(
        "wrong_output_shape",
        "output",
        "output has the wrong shape",
        "Compare the shape you return with the one the statement asks for.",
    ),
    Code(
        "not_flattened",
        "output",
        "output not flattened",
        "Flatten the result before returning it: `out.reshape(-1)`.",
        doc="the output has the right number of elements but is not 1-D; says whether the "
        "values are right once flattened",
    ),
    Code(
        "wrong_flatten_order",
        "output",
        "flattens in the wrong order",
        "Flatten the layer's output row by row, as it comes: `out.reshape(-1)`, not `out.T` "
        "or `order='F'`.",
        doc="the layer's own output (observed) flattened in another order than the "
        "reference's; also a bundled fingerprint",
    ),
    Code(
        "non_finite_output",
        "output",
        "NaN or infinite outputs",
        "Look for a division by zero, a log of zero or an overflow.",
    ),
    Code(
        "values_mismatch",
        "output",
        "wrong numbers",
        "The shape is right but the values are not: run the reproducer and compare each step "
        "with the statement.",
        rank=OUTPUTS,
        follows_from=_CHANGES_VALUES,
    ),
    Code(
        "wrong_output_dtype",
        "output",
        "casts the output",
        "Return the output in the dtype the statement asks for: no .astype(...) to a "
        "narrower type, and no half-precision params or computation in the layer "
        "(param_dtype=, dtype=).",
        doc="an error when the values are right once cast to the output's dtype, a warning "
        "when they pass as they are",
    ),
    Code(
        "state_between_calls",
        "state",
        "answer depends on earlier calls",
        "Compute the answer from the arguments alone: no cache keyed on part of them (the seed "
        "alone, one array alone), no counter or global that changes from call to call. Run the "
        "reproducer: it makes the calls in that order.",
        doc="the smallest failing case passes, or fails otherwise, as the first call of a fresh "
        "process; root cause, with the calls that reproduce it",
    ),
)

_STRUCTURE = (
    Code(
        "ensemble_params",
        "structure",
        "params have a batch axis: an ensemble of layers",
        rank=BUILT,
        doc="variables mapped over the batch: one layer per example",
    ),
    Code(
        "shared_params",
        "structure",
        "params shared where each example needs its own",
        rank=BUILT,
    ),
    Code(
        "split_rngs",
        "structure",
        "split_rngs does not match the params' sharing",
        rank=BUILT,
        doc="also a known error: Flax refuses split keys for shared params",
    ),
    Code("wrong_in_axes", "structure", "maps over the wrong input axis", rank=BUILT),
    Code("wrong_out_axes", "structure", "maps over the wrong output axis", rank=BUILT),
    Code("wrong_variable_axes", "structure", "wrong variable_axes", rank=BUILT),
    *_transform_codes(),
    Code("missing_bias", "params", "layer has no bias", rank=BUILT),
    Code(
        "structure_unverified",
        "structure",
        "records of the structure the file or the numbers deny",
        rank=BUILT,
        doc="the worker's records (which a learner's process can forge) name a transform the "
        "file never calls, arguments no call in the file writes, or a structure no output "
        "bears out: the structure items earn nothing",
    ),
    Code("param_tree_mismatch", "params", "params at other paths or sizes", rank=BUILT),
    Code("wrong_param_dtype", "params", "params of another dtype", rank=BUILT),
    Code(
        "wrong_param_shape",
        "params",
        "params of another size",
        rank=BUILT,
        follows_from=("wrong_in_axes", "wrong_out_axes", "no_nn_vmap", "unused_nn_vmap"),
        doc="same path, another size: the layer was built for other inputs or outputs; a "
        "consequence of a wrong in_axes when one is named",
    ),
    Code(
        "wrong_param_values",
        "params",
        "params initialised differently",
        rank=INITIAL_VALUES,
        follows_from=(
            "split_rngs",
            "ensemble_params",
            "shared_params",
            "wrong_variable_axes",
            "param_tree_mismatch",
            "wrong_param_dtype",
            "ignores_seed",
            "wrong_init_key",
            "wrong_initializer",
            "argument_ignored",
            "state_between_calls",
        ),
        doc="same shapes, other initial values",
    ),
    Code(
        "argument_ignored",
        "params",
        "initial params ignore an argument",
        "Make the initial variables from the arguments: the key from the seed given, "
        "jax.random.PRNGKey(seed).",
        doc="the same initial variables for two calls that differ only in one argument, where "
        "the reference's differ: that argument is ignored",
    ),
    Code(
        "variables_unobserved",
        "params",
        "variables not seen being created",
        rank=NOTE,
        doc="info: their checks count as passed",
    ),
)

# Codes only a problem's fingerprints emit (``fingerprints:`` in problem.yaml): the bundled
# problems' ones, for titles and ranking; a problem hints those it declares.
_BUNDLED = "from the bundled problems' fingerprints"
_FINGERPRINTS = (
    Code("ignores_seed", "fingerprint-only", "ignores the seed", doc=_BUNDLED),
    Code("wrong_init_key", "fingerprint-only", "initialises with another key", doc=_BUNDLED),
    Code(
        "wrong_initializer",
        "fingerprint-only",
        "initialises with another initializer",
        doc=_BUNDLED,
    ),
)

# A student with nothing gradable (``judge batch``; verdict ``judge_error``, retried on a rerun).
_BATCH = (
    Code("no_submission", "submission", "nothing submitted"),
    Code("ambiguous_submission", "submission", "several candidate files"),
    Code("unreadable_submission", "submission", "submission cannot be read"),
    Code("grading_crashed", "judge", "the judge failed on this file"),
)

CODES: dict[str, Code] = {
    c.name: c for c in (*_LOAD, *_RUNTIME, *_LIMIT, *_OUTPUT, *_STRUCTURE, *_FINGERPRINTS, *_BATCH)
}
STRUCTURAL_CODES = tuple(name for name, c in CODES.items() if c.structural)
# Codes that only say that numbers differ: symptoms, once a cause is known.
SYMPTOMS = tuple(name for name, c in CODES.items() if c.follows_from)


def is_structural(code: str) -> bool:
    """Whether ``code`` names how the code is built (observed, not inferred from values)."""
    entry = CODES.get(code)
    return entry is not None and entry.structural


def rank(code: str) -> int:
    """The root-cause rank of an error with this code; a code the engine does not know (a
    problem's own fingerprint or known error) is a named mistake."""
    entry = CODES.get(code)
    return entry.rank if entry is not None else NAMED


def hintable_codes() -> list[str]:
    """Every code a problem's ``hints:`` may name without declaring it, sorted."""
    return sorted(name for name, c in CODES.items() if c.hintable)


# --- failure kinds: what happened on one case ------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One kind of failing case: its verdict, whether grading stops there (``fatal``: the
    learner's worker is gone, or must be), whether it is re-run in a fresh worker before it is
    reported (``confirmed``) and whether it is shrunk to a smaller failing case."""

    name: str
    verdict: Verdict
    fatal: bool = False
    confirmed: bool = False
    shrunk: bool = False


# A timeout or the memory limit is not confirmed: confirming one costs the whole limit again
# (10 s and more), and its report never claims a reproducer that gives an output.
FAILURES: dict[str, Failure] = {
    f.name: f
    for f in (
        Failure("mismatch", Verdict.WRONG_ANSWER, confirmed=True, shrunk=True),
        Failure("exception", Verdict.RUNTIME_ERROR, confirmed=True, shrunk=True),
        Failure("timeout", Verdict.TIME_LIMIT_EXCEEDED, fatal=True),
        Failure("died", Verdict.RUNTIME_ERROR, fatal=True, confirmed=True),
        Failure("memory", Verdict.MEMORY_LIMIT_EXCEEDED, fatal=True),
        Failure("disk", Verdict.MEMORY_LIMIT_EXCEEDED, fatal=True),
        Failure("too_large", Verdict.WRONG_ANSWER),
    )
}
FATAL_FAILURES = tuple(name for name, f in FAILURES.items() if f.fatal)
CONFIRMED_FAILURES = tuple(name for name, f in FAILURES.items() if f.confirmed)
SHRUNK_FAILURES = tuple(name for name, f in FAILURES.items() if f.shrunk)

# --- rubric checks ---------------------------------------------------------------------------

OUTPUTS_CHECK = "outputs"  # the engine's own: every case's output
# How the code is built: implemented in ``structure.RUBRIC_CHECKS`` (a test holds the names).
STRUCTURE_CHECKS = ("transform", "variable_paths", "variable_shapes")
RUBRIC_CHECKS = (OUTPUTS_CHECK, *STRUCTURE_CHECKS)
# The comparator's codes that can mean "right values, wrong format", each with the evidence
# key that says whether the values are right. An ``outputs`` item's ``partial:`` may name these
# and the problem's own fingerprint codes, nothing else: partial credit is given for a slip the
# engine can see, never for a number that is merely close.
RIGHT_VALUE_CODES = {
    "not_flattened": "values_match_when_flattened",
    "wrong_output_dtype": "values_match_when_cast",
}

# --- the manual's table of codes (written by ``generated``) --------------------------------

_RANK_WORDS = {
    BUILT: "0 built",
    NAMED: "1 named",
    INITIAL_VALUES: "2 initial values",
    OUTPUTS: "3 outputs",
    NOTE: "4 note",
}


def markdown_table() -> str:
    """Every code as a row of the codes table (docs/reference/codes.md), in catalogue order."""
    rows = ["| code | family | rank | what it means |", "| --- | --- | --- | --- |"]
    for c in CODES.values():
        meaning = f"{c.title}; {c.doc}" if c.doc else c.title
        rows.append(f"| `{c.name}` | {c.family} | {_RANK_WORDS[c.rank]} | {meaning} |")
    return "\n".join(rows)
