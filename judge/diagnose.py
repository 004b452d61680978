"""Turning what went wrong into words a learner can act on: one function per family.

Each function takes plain facts (a worker's reply, a Mismatch, the case) and returns a
Diagnostic with a message naming what the learner's code did, a hint with the fix, and the
evidence. Hints come from ``wording``, where a problem's ``hints:`` replace the generic ones.
"""

from __future__ import annotations

import dataclasses
import re
import signal
from collections.abc import Callable
from typing import Any

import numpy as np

from . import arguments, wording
from .cases import Case
from .catalogue import LIFTED_TRANSFORMS
from .notebook.frames import notebook_hint
from .problem import KnownError, Problem
from .result import Diagnostic, Mismatch, Severity

# The most characters of a learner's message a pattern is searched in (a worker's reply holds
# at most 8000 of it: ``grading.replies``); the whole message stays in the evidence.
MAX_MATCHED = 8000


def _diagnostic(
    problem: Problem | None,
    code: str,
    message: str,
    evidence: dict[str, Any],
    severity: Severity = Severity.ERROR,
    hint_key: str | None = None,
) -> Diagnostic:
    return Diagnostic(code, severity, message, wording.hint(problem, hint_key or code), evidence)


def load_failure(problem: Problem, filename: str, reply: dict[str, Any]) -> Diagnostic:
    """The learner's file could not be loaded: a compile_error's diagnostic."""
    code = str(reply.get("code", "exception"))
    evidence = reply.get("evidence") or {}
    if not isinstance(evidence, dict):
        evidence = {}
    message = str(reply.get("message", ""))[:2000]
    if code == "syntax_error":
        return _diagnostic(problem, code, f"Python cannot parse {filename}: {message}", evidence)
    if code == "import_error":
        return _diagnostic(problem, code, f"importing {filename} failed: {message}", evidence)
    if code == "entry_point_missing":
        return _diagnostic(problem, code, _missing(problem, filename, evidence), evidence)
    if code == "entry_point_not_callable" and evidence.get("type"):
        kind = str(evidence["type"])
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        what = f"{problem.entry_point} is {article} {kind}, not a function"
        return _diagnostic(problem, code, what, evidence)
    if code in ("entry_point_not_callable", "signature_mismatch"):
        return _diagnostic(problem, code, message, evidence)
    kind = evidence.get("type", "an exception")
    detail = str(evidence.get("message", "")).removeprefix(f"{kind}: ")
    exits = kind in ("SystemExit", "KeyboardInterrupt")
    what = f"{filename} raised {kind} while being loaded" + (f": {detail}" if detail else "")
    if exits:
        what = f"{filename} called exit() or raised {kind} while being loaded"
    return _diagnostic(problem, "exception", what, evidence, hint_key="exception_at_import")


def _missing(problem: Problem, filename: str, evidence: dict[str, Any]) -> str:
    """No entry point: the learner's closest name (``did_you_mean``, found by the worker)
    is what to rename, and the name the problem expects is what to rename it to; never the
    other way round (``did you mean <their own misspelling>?`` reads as approval)."""
    name = problem.entry_point
    close = evidence.get("did_you_mean")
    if isinstance(close, str) and close and close != name:
        return (
            f"{filename} has no function named {name} (the name the exercise expects) but "
            f"defines {close}: did you mean {name}? Rename {close} to {name}."
        )
    return f"{filename} has no function named {name} (the name the exercise expects)"


def locate_in_notebook(diagnostic: Diagnostic, where: tuple[int, int] | None) -> Diagnostic:
    """Point a diagnostic at the notebook cell (and line in it) rather than the converted file."""
    if where is None:
        return diagnostic
    cell, line = where
    place = f"notebook cell {cell}, line {line}"
    message, count = re.subn(r"\(line \d+\)", f"({place})", diagnostic.message)
    if not count:
        message = f"{message} ({place})"
    evidence = {**diagnostic.evidence, "cell": cell, "line_in_cell": line}
    hint = notebook_hint(diagnostic, cell)  # not the .py one, which names a __main__ block
    return dataclasses.replace(diagnostic, message=message, evidence=evidence, hint=hint)


def signature_warning(problem: Problem, warning: dict[str, Any]) -> Diagnostic:
    return _diagnostic(
        problem,
        "signature_mismatch",
        f"your function is {warning.get('signature')}; the statement names it "
        f"{warning.get('expected')}. Arguments are passed by position, so this still works.",
        {k: warning.get(k) for k in ("signature", "expected")},
        Severity.WARNING,
    )


def submission_problem(code: str, message: str, filename: str) -> Diagnostic:
    return _diagnostic(None, code, f"{filename}: {message}", {})


def _where(problem: Problem, case: Case, index: int | None) -> str:
    # No index: the case was found by shrinking, and is the one the report shows.
    number = f"case {index + 1} " if index is not None else "the smallest failing case "
    return f"{number}({case.describe(problem)})"


def exception(problem: Problem, case: Case, index: int | None, reply: dict[str, Any]) -> Diagnostic:
    kind = str(reply.get("type", "Exception"))
    text = str(reply.get("message", kind))
    first = wording.shorten(wording.first_meaningful_line(text), 200) if text else kind
    evidence = {
        "type": kind,
        "message": text,
        "traceback": reply.get("traceback", []),
        "line": reply.get("line"),
        "case": case.describe(problem),
    }
    return _diagnostic(
        problem,
        "exception",
        f"{problem.entry_point} raised {first} on {_where(problem, case, index)}",
        evidence,
    )


def _signal_name(returncode: int | None) -> str:
    if returncode is None:
        return "unknown status"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def process_died(
    problem: Problem, case: Case | None, index: int | None, returncode: int | None, during: str
) -> Diagnostic:
    where = _where(problem, case, index) if case is not None else ""
    return _diagnostic(
        problem,
        "process_died",
        f"the process running your code ended "
        f"({_signal_name(returncode)}) {during} {where}".rstrip(),
        {"returncode": returncode, "during": during},
    )


def protocol_violation(
    problem: Problem, case: Case | None, index: int | None, message: str
) -> Diagnostic:
    """The worker was ended for a reply the judge refuses (``runtime.wire``'s limits)."""
    where = f" on {_where(problem, case, index)}" if case is not None else " while loading"
    detail = message.removeprefix("protocol violation:").strip()
    return _diagnostic(
        problem,
        "protocol_violation",
        f"the worker's reply{where} broke the judge's limits, so it was ended: {detail}",
        {"message": detail},
    )


def observations_dropped(dropped: int) -> Diagnostic:
    """Past the grading's budget of observations the judge keeps nothing more."""
    return Diagnostic(
        "observations_dropped",
        Severity.INFO,
        f"the calls recorded more than the judge keeps: {dropped} of them were judged on their "
        "outputs alone, and nothing was concluded from what was not kept",
        "",
        {"dropped_calls": dropped},
    )


def timeout(
    problem: Problem, case: Case | None, index: int | None, limit_s: float, which: str
) -> Diagnostic:
    if which == "submission":
        message = f"grading took longer than the {limit_s:g} s allowed for a whole submission"
    elif which == "cpu":
        message = f"your code used more than the {limit_s:g} s of CPU time allowed in all"
    elif case is None:
        message = f"loading your file took longer than {limit_s:g} s"
    else:
        message = (
            f"{problem.entry_point} gave no answer within {limit_s:g} s on "
            f"{_where(problem, case, index)}"
        )
    return _diagnostic(problem, "timeout", message, {"limit_s": limit_s, "limit": which})


def memory_limit(
    problem: Problem, case: Case | None, index: int | None, limit_mb: int
) -> Diagnostic:
    where = f" on {_where(problem, case, index)}" if case is not None else " while loading"
    return _diagnostic(
        problem,
        "memory_limit",
        f"your code ran out of memory{where} (limit {limit_mb} MB)",
        {"limit_mb": limit_mb},
    )


def disk_limit(
    problem: Problem, case: Case | None, index: int | None, limit_mb: int, used_mb: int | None
) -> Diagnostic:
    where = f" on {_where(problem, case, index)}" if case is not None else " while loading"
    return _diagnostic(
        problem,
        "disk_limit",
        f"your code wrote more than {limit_mb} MB into its folder{where}",
        {"limit_mb": limit_mb, "used_mb": used_mb},
    )


def output_too_large(problem: Problem, case: Case, index: int | None, message: str) -> Diagnostic:
    return _diagnostic(
        problem,
        "output_too_large",
        f"{problem.entry_point} returned a value "
        f"too large to compare on {_where(problem, case, index)}: {message}",
        {},
    )


def mismatch(
    problem: Problem, case: Case, index: int | None, found: Mismatch, everywhere: bool = True
) -> Diagnostic:
    """A wrong answer: the comparator's finding, worded for the learner. ``everywhere``: the
    values are right once flattened on every case failing this way, not only this one."""
    evidence = {**found.evidence, "case": case.describe(problem)}
    message = f"{found.message} on {_where(problem, case, index)}"
    if (
        found.code == "not_flattened"
        and found.evidence.get("values_match_when_flattened")
        and everywhere
    ):
        message += "; once flattened, your values are right"
    if found.code == "wrong_output_dtype" and not everywhere:
        # Right once cast on this case only: the claim would not hold on the others.
        message = f"{found.message.split(';')[0]} on {_where(problem, case, index)}"
    return _diagnostic(problem, found.code, message, evidence)


def _beside(problem: Problem, other: Case, case: Case) -> str:
    """``other`` described so that it reads apart from ``case``: the arrays that differ are
    named when the numbers are all the same (``seed 5, batch=2, ..., another x_batch``)."""
    described = other.describe(problem)
    if described != case.describe(problem):
        return described
    differ = [
        spec.name
        for spec in problem.array_inputs
        if not np.array_equal(other.values[spec.name], case.values[spec.name])
    ]
    if not differ:
        return f"{described}, the same call"
    return described + "".join(f", another {name}" for name in differ)


def state_between_calls(
    problem: Problem,
    case: Case,
    earlier: list[Case],
    alone: str | None,
    reproduced: bool,
) -> Diagnostic:
    """The failure depends on calls made before: ``alone`` says how the case did as the first
    call of a fresh process (``passed``, or its failure); ``earlier`` the calls that make it
    fail there, when ``reproduced``."""
    name = problem.entry_point
    first = (
        "gives the right answer"
        if alone == "passed"
        else f"fails another way ({alone})"
        if alone
        else "could not be run"
    )
    head = f"{name}({case.describe(problem)}) {first} as the first call of a fresh process"
    if not reproduced:
        message = (
            f"{head}, and its failure did not happen again there, even after the calls "
            "that came before it: your function's answer depends on something besides its "
            "arguments (state kept between calls, the time, a random source)"
        )
    else:
        count = f"{len(earlier)} earlier call{'s' if len(earlier) != 1 else ''}"
        if all(c.key == case.key for c in earlier):  # a count of calls, whatever they are
            which = f"{count} with the same arguments"
        else:
            shown = "; ".join(_beside(problem, c, case) for c in earlier[:3])
            more = f" and {len(earlier) - 3} more" if len(earlier) > 3 else ""
            which = f"{count} ({shown}{more})"
        message = (
            f"{head}, and fails after {which}: your function keeps something "
            "between calls (a cache keyed on part of the arguments, a counter, a global) that "
            "changes its answer"
        )
    evidence = {
        "case": case.describe(problem),
        "alone": alone,
        "earlier_calls": [c.describe(problem) for c in earlier],
        "reproduced": reproduced,
    }
    return _diagnostic(problem, "state_between_calls", message, evidence)


# --- known errors -----------------------------------------------------------------------------

# Flax and JAX errors a learner meets in these exercises, in plain words. A problem package may
# add its own (``errors:`` in its YAML); those are tried first.
ENGINE_KNOWN_ERRORS = (
    KnownError(
        r"got axis spec None but output was batched on axis",
        "split_rngs",
        "Flax refused the layer: split_rngs gives every example its own initialisation key, so "
        "the variables come out with a batch axis, while variable_axes (None) says they have none.",
        "When variables are shared (variable_axes None), share their key too: "
        "split_rngs={'params': False}.",
    ),
    KnownError(
        r"PRNGKey accepts a scalar seed",
        "prng_key_array",
        "jax.random.PRNGKey was given an array: it takes one integer seed.",
        "Pass the integer seed itself: jax.random.PRNGKey(seed).",
    ),
    KnownError(
        r"needs PRNG for",
        "missing_rng",
        "a layer that makes variables got no random key for them: inside nn.vmap (or another "
        "lifted transform) a key reaches the layer only through split_rngs, and yours does not "
        "name that stream; or init was not given a key.",
        "Name the stream in split_rngs: split_rngs={'params': False} shares one key across the "
        "batch, True splits it; and init with a key: model.init(jax.random.PRNGKey(seed), x).",
    ),
    KnownError(
        r"RNGs should be of shape \(2,\) or PRNGKey|InvalidRngError",
        "invalid_rng",
        "init was given something that is not a random key (a plain int or float?).",
        "Make the key first: model.init(jax.random.PRNGKey(seed), x).",
    ),
    KnownError(
        r"the given initializer is expected to generate shape|ScopeParamShapeError",
        "param_shape_error",
        "a layer was applied to inputs of another size than the ones it was initialised with.",
        "Initialise and apply the layer on the same inputs.",
    ),
    KnownError(
        r"Shapes must be 1D sequences of concrete values of integer type",
        "non_integer_shape",
        "a shape got a value that is not an integer (features passed as a float?).",
        "Pass sizes such as features as Python ints.",
    ),
    KnownError(
        r"Can't call compact methods on unbound modules|CallCompactUnboundModuleError",
        "unbound_module",
        "a module was called directly, outside init or apply.",
        "Create variables with model.init(key, x), then compute with model.apply(variables, x).",
    ),
    KnownError(
        r"the judge does not allow .* in graded code",
        "forbidden_operation",
        "your code tried something graded code may not do: start or signal a process, use the "
        "network, load native code, read the judge's files, or write outside its own folder.",
        "Compute the answer from the arguments alone: no files, processes or network.",
    ),
    KnownError(
        r"dot_general requires contracting dimensions to have the same shape",
        "dense_shape_error",
        "a matrix product got inputs whose inner sizes differ: the layer was built for other "
        "inputs than the ones it was given (a batch mapped over the wrong axis?).",
        "Check which axis of the input is the batch and which holds the features.",
    ),
)


def translate(problem: Problem, diagnostic: Diagnostic) -> Diagnostic:
    """A known Flax/JAX error in plain words; anything else unchanged.

    The patterns are the problem author's, the text the learner's (its exception's message):
    only its first MAX_MATCHED characters are searched, so that a pattern that backtracks
    cannot be made to run for long by a long message. A real error says what it is there.
    """
    if diagnostic.code not in ("exception", "import_error"):
        return diagnostic
    text = str(diagnostic.evidence.get("message") or diagnostic.message)
    searched = text[:MAX_MATCHED]
    for known in (*problem.known_errors, *ENGINE_KNOWN_ERRORS):
        if re.search(known.pattern, searched):
            where = diagnostic.evidence.get("case")
            message = known.message
            if where:
                message = f"{message.removesuffix('.')} (on {where})."
            # The whole text stays in the evidence (``message``); ``raised`` is its first
            # meaningful line, whole: a renderer shortens it between words.
            evidence = {
                "message": text,
                **diagnostic.evidence,
                "raised": wording.first_meaningful_line(text),
            }
            found = Diagnostic(known.code, Severity.ERROR, message, known.hint, evidence)
            return wording.hinted(problem, found)
    return diagnostic


LIFTED_APIS = tuple(f"flax.linen.{t}" for t in LIFTED_TRANSFORMS)


def key_not_given(
    problem: Problem, diagnostic: Diagnostic, runs: Callable[[str], list[dict[str, Any]]]
) -> Diagnostic:
    """``missing_rng`` where the facts say which half of its message holds: when every lifted
    transform the graded calls ran passes the stream on (its ``split_rngs`` selects it), the
    key never reached ``init`` (a misspelt stream name in ``rngs``, or no key at all), and
    the message says so instead of pointing at ``split_rngs``."""
    if diagnostic.code != "missing_rng":
        return diagnostic
    text = str(diagnostic.evidence.get("message", ""))[:MAX_MATCHED]
    stream = re.search(r'needs PRNG for "([^"]+)"', text)
    ran = [r for api in LIFTED_APIS for r in runs(api)]
    if stream is None or not ran:
        return diagnostic
    name = stream.group(1)
    if not all(arguments.selected(r.get("arguments", {}).get("split_rngs"), name) for r in ran):
        return diagnostic
    where = diagnostic.evidence.get("case")
    message = (
        f"no random key for the {name!r} stream reached init, although your split_rngs passes "
        f"it on: init was given no key for {name!r} (a misspelt stream name in rngs= is "
        "simply not used)" + (f" (on {where})." if where else ".")
    )
    hint = (
        f"Give init the key itself, model.init(key, x), or name the stream exactly: "
        f"rngs={{{name!r}: key}}."
    )
    return dataclasses.replace(diagnostic, message=message, hint=hint)
