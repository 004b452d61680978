"""One place where every diagnostic gets its hint: the generic ones, and a problem's own.

A problem package may replace the hint of any code (``hints:`` in its YAML), structural and
fingerprint codes included; a key that names no code the judge or the package can emit is an
error in the package (``judge check`` lists it), never silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .problem import Problem
    from .result import Diagnostic

GENERIC_HINTS = {
    "syntax_error": "Fix the line shown; `python -m py_compile FILE` checks a file without "
    "running it.",
    "import_error": "Import only what the grader has: the standard library, numpy, jax and "
    "flax. Remove the import or replace what it provided.",
    "exception_at_import": "Code at the top level runs when your file is loaded. Move tests and "
    'experiments under `if __name__ == "__main__":`.',
    "entry_point_missing": "Define the function at the top level of the file, with exactly "
    "this name (not inside a class or an `if` block).",
    "entry_point_not_callable": "The name must refer to a function defined with `def`.",
    "signature_mismatch": "Give the function the parameters the statement lists, in order.",
    "notebook_invalid": "Download the notebook again from Jupyter (File > Download) or submit "
    "a .py file.",
    "no_code": "Put your function in a code cell (not a markdown cell) and save the notebook.",
    "exception": "Paste the reproducer into Python where your function is defined to see the "
    "error happen, then fix the line the traceback points to.",
    "process_died": "Something ended the whole process: os._exit, a signal, or a crash in "
    "native code. Do not exit or kill the process from your function.",
    "timeout": "Look for a loop that never ends, a sleep, or work that grows much faster "
    "than the input.",
    "memory_limit": "Look for arrays far larger than the inputs, or a list that keeps growing.",
    "disk_limit": "Graded code needs no files: return the result instead of writing it.",
    "output_too_large": "Return only the requested output.",
    "wrong_return_type": "Return an array (a jax or numpy array), not a tuple, dict or None.",
    "wrong_output_shape": "Compare the shape you return with the one the statement asks for.",
    "not_flattened": "Flatten the result before returning it: `out.reshape(-1)`.",
    "non_finite_output": "Look for a division by zero, a log of zero or an overflow.",
    "values_mismatch": "The shape is right but the values are not: run the reproducer and "
    "compare each step with the statement.",
    "wrong_output_dtype": "Return the layer's output as it comes, in the dtype the statement "
    "asks for: no .astype(...) to a narrower type, no half-precision params.",
    "state_between_calls": "Compute the answer from the arguments alone: no cache keyed on "
    "part of them (the seed alone, one array alone), no counter or global that changes from "
    "call to call. Run the reproducer: it makes the calls in that order.",
}


# Codes with no generic hint (each diagnostic words its own), that a problem may still hint.
_OTHER_CODES = (
    "forbidden_operation",
    "split_rngs",
    "prng_key_array",
    "missing_rng",
    "invalid_rng",
    "param_shape_error",
    "non_integer_shape",
    "unbound_module",
    "dense_shape_error",
)


# Each code as an instructor reads it in a class summary: what the students did.
TITLES = {
    "syntax_error": "file does not parse",
    "import_error": "imports something unavailable",
    "exception": "raised an exception",
    "entry_point_missing": "function missing or misnamed",
    "entry_point_not_callable": "entry point is not a function",
    "signature_mismatch": "parameters differ from the statement",
    "notebook_invalid": "notebook cannot be read",
    "no_code": "notebook has no code",
    "process_died": "process died (exit, signal, crash)",
    "timeout": "too slow, or never returns",
    "memory_limit": "ran out of memory",
    "disk_limit": "wrote too much to disk",
    "output_too_large": "returned far too much",
    "wrong_return_type": "returns something other than an array",
    "wrong_output_shape": "output has the wrong shape",
    "not_flattened": "output not flattened",
    "non_finite_output": "NaN or infinite outputs",
    "values_mismatch": "wrong numbers",
    "wrong_output_dtype": "casts the output",
    "forbidden_operation": "tried something graded code may not do",
    "ensemble_params": "params have a batch axis: an ensemble of layers",
    "shared_params": "params shared where each example needs its own",
    "split_rngs": "split_rngs does not match the params' sharing",
    "wrong_in_axes": "maps over the wrong input axis",
    "wrong_out_axes": "maps over the wrong output axis",
    "wrong_variable_axes": "wrong variable_axes",
    "missing_bias": "layer has no bias",
    "param_tree_mismatch": "params at other paths or sizes",
    "wrong_param_dtype": "params of another dtype",
    "wrong_param_values": "params initialised differently",
    "prng_key_array": "PRNGKey given an array",
    "missing_rng": "no random key reached the layer",
    "invalid_rng": "invalid random key",
    "param_shape_error": "layer built for other inputs",
    "non_integer_shape": "a shape that is not an integer",
    "unbound_module": "module used outside init/apply",
    "dense_shape_error": "inner sizes of a product differ",
    "no_submission": "nothing submitted",
    "ambiguous_submission": "several candidate files",
    "unreadable_submission": "submission cannot be read",
    "grading_crashed": "the judge failed on this file",
}


# What "the reference" is, said once in a report that compares the learner's code with it.
REFERENCE_NOTE = (
    '"The reference" is the instructor\'s solution to this exercise: the judge runs it on the '
    "same inputs as your function and compares what the two return and how they are built."
)

# Where a long line is cut for reading: the full text stays in the JSON report's evidence.
ELLIPSIS = " ..."
_NOT_MEANINGFUL = re.compile(r"^(-{3,}|={3,}|Traceback \(most recent call last\):)$")


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut only between words and marked
    with an ellipsis, so a learner never reads half a word and takes it for the error.

    Words are never split, so a URL is shown whole or not at all (a link cut in two leads
    nowhere); a first word longer than ``limit`` (nothing to cut at) is kept whole.
    """
    words = text.split()
    if len(" ".join(words)) <= limit:
        return " ".join(words)
    kept: list[str] = []
    length = 0
    for word in words:
        extra = len(word) + (1 if kept else 0)
        if kept and length + extra + len(ELLIPSIS) > limit:
            break
        kept.append(word)
        length += extra
    shown = " ".join(kept).rstrip(",;:(")
    return shown + ELLIPSIS if len(kept) < len(words) else shown


def first_meaningful_line(text: str) -> str:
    """The first line of an error's text that says something: not blank, not a separator
    (``----``) nor a traceback header. JAX and Flax errors put the sentence that names the
    problem first, and pages of background after a separator."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not _NOT_MEANINGFUL.match(stripped):
            return stripped
    return text.strip()


def title(code: str) -> str:
    """A code in plain words, for an instructor: ``not_flattened`` -> "output not flattened"."""
    if code in TITLES:
        return TITLES[code]
    if code.startswith("no_nn_"):
        return f"never calls nn.{code.removeprefix('no_nn_')}"
    if code.startswith("unused_nn_"):
        return f"builds nn.{code.removeprefix('unused_nn_')} but computes without it"
    return code.replace("_", " ")


def hint(problem: Problem | None, key: str) -> str:
    """The problem's hint for ``key``, else the generic one, else none."""
    return (problem.hints.get(key) if problem else None) or GENERIC_HINTS.get(key, "")


def hinted(problem: Problem | None, diagnostic: Diagnostic) -> Diagnostic:
    """The diagnostic with the problem's hint for its code, when the problem has one."""
    override = problem.hints.get(diagnostic.code) if problem else None
    return dataclasses.replace(diagnostic, hint=override) if override else diagnostic


def unknown_hint_keys(keys: list[str], own_codes: list[str]) -> list[str]:
    """The keys of a problem's ``hints:`` that name no code it can meet (the engine's, or its
    own fingerprints' and known errors')."""
    from .diagnose import ENGINE_KNOWN_ERRORS
    from .structure import CODES as STRUCTURE_CODES
    from .structure import is_structural_code

    known = {
        *GENERIC_HINTS,
        *_OTHER_CODES,
        *STRUCTURE_CODES,
        *(k.code for k in ENGINE_KNOWN_ERRORS),
        *own_codes,
    }
    return [k for k in keys if k not in known and not is_structural_code(k)]


def known_codes() -> list[str]:
    """Every code the engine itself can emit a hint for, sorted (for did-you-mean)."""
    from .diagnose import ENGINE_KNOWN_ERRORS
    from .structure import CODES as STRUCTURE_CODES

    return sorted(
        {*GENERIC_HINTS, *_OTHER_CODES, *STRUCTURE_CODES, *(k.code for k in ENGINE_KNOWN_ERRORS)}
    )
