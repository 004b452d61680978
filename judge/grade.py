"""Grading one submission: problem + learner file -> Report.

The learner's code and the reference run in workers of their own, started side by side so that
their JAX start-up and compilations overlap; the reference's results are kept for the life of
this process, so its worker starts only when a case (or a fingerprint) is not known yet. The
comparison and the verdict happen here, in the judge's process, which never imports the
learner's code (or JAX).

Verdict rules: the first failing case in plan order decides the verdict. A wrong answer or an
exception lets the other cases run (for the score) and is then shrunk to a smaller failing case;
a timeout, a dead process or the memory limit stops grading. ``accepted`` needs every case to
pass and at least ``cases.min_informative`` of them to be informative (an all-zero answer must
fail them). The reference failing is the judge's fault: ``judge_error``, never the learner's.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import signal
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import cache, diagnose, structure
from .cases import Case, json_values, plan_cases, shrink_candidates
from .compare import Opaque, compare, is_informative
from .errors import BackendUnavailable, ProblemNotFound, WorkerError
from .problem import Problem, Tolerance, default_problems_dir, load_problem, problem_names
from .result import Diagnostic, FailingCase, Report, Severity, Verdict
from .sandbox import (
    Worker,
    WorkerDied,
    WorkerTimeout,
    probe_backends,
    resolve_sandbox,
)
from .submission import Submission, read_submission
from .worker import compile_source, decode_array, encode_array

STARTUP_TIMEOUT_S = 120.0

# Reference results, kept for the life of the judge's process: a class graded in one run, the
# test suite and `judge check` meet the same planned cases again and again. Keyed by the
# reference file's content, so an edited reference is never served stale results. It lives in
# the judge's own memory, where no learner process can write.
_REFERENCE_RESULTS: dict[tuple[Any, ...], tuple[np.ndarray, str | None, list[Any]]] = {}
_REFERENCE_LOADS: dict[tuple[Any, ...], list[Any]] = {}
_VARIANT_RESULTS: dict[tuple[Any, ...], np.ndarray | None] = {}
_CACHE_LIMIT = 50_000


def _remember_in(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


MAX_JSON_VALUES = 1000
_FROM_DISK: set[Any] = set()  # reference ids whose stored results this process has read


@functools.cache
def _library_versions() -> dict[str, str | None]:
    """The versions cache keys depend on; looked up once per process."""
    found: dict[str, str | None] = {"numpy": np.__version__}
    for name in ("jax", "jaxlib", "flax", "hypothesis"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _plan(problem: Problem, seed: int) -> list[Case]:
    """The case plan, from the on-disk cache when this problem and seed were planned before.

    The plan is a pure function of the inputs, the case spec, the seed and the library
    versions; all of them are in the key.
    """
    key = {
        "spec": repr((problem.parameters, problem.inputs, problem.cases)),
        "seed": seed,
        "versions": _library_versions(),
        "judge": judge_version(),
    }
    stored = cache.load("plans", key)
    if isinstance(stored, list):
        try:
            return [
                Case(
                    {
                        k: decode_array(v) if isinstance(v, dict) else v
                        for k, v in c["values"].items()
                    },
                    c["origin"],
                )
                for c in stored
            ]
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    plan = plan_cases(problem, seed)
    cache.store(
        "plans",
        key,
        [
            {
                "origin": c.origin,
                "values": {
                    k: encode_array(v) if isinstance(v, np.ndarray) else int(v)
                    for k, v in c.values.items()
                },
            }
            for c in plan
        ],
    )
    return plan


def _disk_key(reference_id: tuple[Any, ...], python: str | None) -> dict[str, Any]:
    return {
        "reference": list(reference_id),
        "versions": _library_versions(),
        "machine": platform.machine(),
        "python": python or "judge",
        "format": 1,
    }


def _read_reference_results(reference_id: tuple[Any, ...], python: str | None) -> None:
    """Fill the in-memory caches from the disk, once per reference per process."""
    if reference_id in _FROM_DISK:
        return
    _FROM_DISK.add(reference_id)
    stored = cache.load("reference", _disk_key(reference_id, python))
    if not isinstance(stored, dict):
        return
    try:
        if reference_id not in _REFERENCE_LOADS and isinstance(stored.get("load"), list):
            _remember_in(_REFERENCE_LOADS, reference_id, stored["load"])
        for case_key, entry in (stored.get("cases") or {}).items():
            array = decode_array(entry["array"])
            _REFERENCE_RESULTS.setdefault(
                (reference_id, case_key),
                (array, entry.get("original"), entry.get("observed") or []),
            )
        for slot_case, encoded in (stored.get("variants") or {}).items():
            slot, case_key = slot_case.split("|", 1)
            _VARIANT_RESULTS.setdefault(
                (reference_id, slot, case_key),
                decode_array(encoded) if isinstance(encoded, dict) else None,
            )
    except (KeyError, TypeError, ValueError, AttributeError):
        return  # a damaged entry: recompute, and overwrite it


def _write_reference_results(reference_id: tuple[Any, ...], python: str | None) -> None:
    """Store what this process knows of a reference, for the next process."""
    cases = {
        case_key: {"array": encode_array(array), "original": original, "observed": observed}
        for (rid, case_key), (array, original, observed) in list(_REFERENCE_RESULTS.items())
        if rid == reference_id
    }
    variants = {
        f"{slot}|{case_key}": encode_array(array) if array is not None else None
        for (rid, slot, case_key), array in list(_VARIANT_RESULTS.items())
        if rid == reference_id
    }
    cache.store(
        "reference",
        _disk_key(reference_id, python),
        {"load": _REFERENCE_LOADS.get(reference_id, []), "cases": cases, "variants": variants},
    )


def judge_version() -> str:
    try:
        return metadata.version("jax-judge")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class GradeOptions:
    """How to grade. ``None`` limits mean the problem's own."""

    backend: str = "cpu"
    seed: int = 0
    call_s: float | None = None
    submission_s: float | None = None
    memory_mb: int | None = None
    shrink: bool = True
    shrink_s: float = 20.0
    python: str | None = None
    cpu_s: float | None = None
    processes: int | None = None
    output_kb: int | None = None
    # "auto": bubblewrap where it runs, else process isolation; "bwrap"; "none".
    sandbox: str = "auto"
    # More folders the learner's code must not see (a batch's output folder, a report's).
    hide: tuple[str, ...] = ()


@dataclass
class Outcome:
    """What happened on one case. ``failure`` is None when the case passed."""

    case: Case
    expected: np.ndarray | None = None
    got: np.ndarray | Opaque | None = None
    failure: str | None = None  # mismatch, exception, timeout, died, memory, too_large
    mismatch: Any = None
    reply: dict[str, Any] = field(default_factory=dict)
    informative: bool = False

    @property
    def passed(self) -> bool:
        return self.failure is None

    @property
    def signature(self) -> tuple[str, str]:
        """What shrinking must preserve: the same kind of failure."""
        if self.failure == "mismatch":
            return ("mismatch", self.mismatch.code)
        if self.failure == "exception":
            return ("exception", str(self.reply.get("type")))
        return (str(self.failure), "")


# --- replies from the learner's worker ---------------------------------------------------------

_TEXT_FIELDS = {"kind": 40, "type": 200, "repr": 400, "message": 8000, "code": 60}


def clean_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """A learner worker's reply with every field the judge reads of the type it expects.

    The learner's process wrote it and may have forged it: a string where a number belongs
    must not crash the judge, and nothing unexpected may reach a diagnostic. Arrays are checked
    when decoded, observations by ``structure.Observations``.
    """
    clean: dict[str, Any] = {"ok": reply.get("ok") is True}
    for name, limit in _TEXT_FIELDS.items():
        if name in reply:
            clean[name] = str(reply[name])[:limit]
    for name in ("elapsed_s", "load_s"):
        value = reply.get(name)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        clean[name] = float(value) if ok and np.isfinite(value) and value >= 0 else 0.0
    line = reply.get("line")
    clean["line"] = line if type(line) is int else None
    trace = reply.get("traceback")
    clean["traceback"] = [str(t)[:500] for t in trace[:50]] if isinstance(trace, list) else []
    if isinstance(reply.get("library_frames"), int):
        clean["library_frames"] = reply["library_frames"]
    if isinstance(reply.get("array"), dict):
        clean["array"] = reply["array"]
    if isinstance(reply.get("observations"), list):
        clean["observations"] = reply["observations"]
    evidence = reply.get("evidence")
    if isinstance(evidence, dict):
        clean["evidence"] = evidence
    warnings = reply.get("warnings")
    if isinstance(warnings, list):
        clean["warnings"] = [
            {k: str(w.get(k))[:300] for k in ("code", "signature", "expected")}
            for w in warnings[:10]
            if isinstance(w, dict)
        ]
    return clean


# --- problem resolution ------------------------------------------------------------------------


def resolve_problem(submission: Submission, name: str | None, problems_dir: Path | None) -> Problem:
    """The problem named, or the one whose entry point the submission defines."""
    folder = problems_dir or default_problems_dir()
    if name:
        return load_problem(name, folder)
    names = problem_names(folder)
    if not names:
        raise ProblemNotFound(f"no problem packages in {folder}; pass --problems DIR")
    problems = [load_problem(n, folder) for n in names]
    defined = set(submission.defined_names())
    matches = [p for p in problems if p.entry_point in defined]
    if len(matches) == 1:
        return matches[0]
    if len(problems) == 1:
        return problems[0]  # one problem: grade against it and report what is missing
    if matches:
        listing = ", ".join(p.name for p in matches)
        raise ProblemNotFound(
            f"{submission.display}: matches several problems ({listing}); pass --problem NAME"
        )
    raise ProblemNotFound(
        f"{submission.display}: defines no known entry point "
        f"({', '.join(p.entry_point for p in problems)}); pass --problem NAME"
    )


# --- JSON helpers ------------------------------------------------------------------------------


def _array_json(array: np.ndarray, original_dtype: str | None = None) -> dict[str, Any]:
    flat = array.reshape(-1)
    out: dict[str, Any] = {
        "dtype": original_dtype or str(array.dtype),
        "shape": list(array.shape),
        "values": json_values(flat[:MAX_JSON_VALUES]),
    }
    if flat.size > MAX_JSON_VALUES:
        out["truncated"] = True
    return out


def _got_json(outcome: Outcome) -> dict[str, Any] | None:
    if isinstance(outcome.got, Opaque):
        return {"type": outcome.got.type, "repr": outcome.got.repr}
    if isinstance(outcome.got, np.ndarray):
        return {"type": outcome.reply.get("type"), **_array_json(outcome.got)}
    if outcome.failure == "exception":
        return {"exception": outcome.reply.get("type"), "message": outcome.reply.get("message")}
    return None


# --- the grading -------------------------------------------------------------------------------


class _Grading:
    """State of one grading run; ``run`` returns the Report."""

    def __init__(self, submission: Submission, problem: Problem, options: GradeOptions) -> None:
        self.submission = submission
        self.problem = problem
        self.options = options
        limits = problem.limits
        self.call_s = options.call_s or limits.call_s
        self.submission_s = options.submission_s or limits.submission_s
        self.memory_mb = options.memory_mb or limits.memory_mb
        self.cpu_s = options.cpu_s or limits.cpu_s
        self.processes = options.processes or limits.processes
        self.output_kb = options.output_kb or limits.output_kb
        self.sandbox = resolve_sandbox(options.sandbox)
        self.hidden = _hidden_paths(submission, problem, options)
        self.timing: dict[str, float] = {
            k: 0.0
            for k in (
                "plan_s",
                "startup_s",
                "load_s",
                "reference_s",
                "learner_s",
                "compare_s",
                "shrink_s",
            )
        }
        self.reference_id = (
            problem.name,
            hashlib.sha256(problem.reference.read_bytes()).hexdigest(),
            tuple(hashlib.sha256(f.file.read_bytes()).hexdigest() for f in problem.fingerprints),
            options.backend,
            problem.precision,
        )
        self.reference_ready = False
        _read_reference_results(self.reference_id, options.python)
        self.computed = False  # did this grading add to the reference's known results?
        self.outcomes: dict[str, Outcome] = {}
        self.diagnostics: list[Diagnostic] = []
        self.environment: dict[str, Any] = {}
        self.started = time.monotonic()
        self.deadline = self.started + self.submission_s
        self.reference: Worker | None = None
        self.learner: Worker | None = None
        self.earlier_output: list[dict[str, Any]] = []  # of learner workers restarted
        self.learner_seen = structure.Observations()
        self.reference_seen = structure.Observations()
        self.rubric: list[dict[str, Any]] = []

    def learner_output(self) -> dict[str, Any]:
        """What the learner's code printed, across every worker it ran in."""
        parts = [*self.earlier_output, *([self.learner.output()] if self.learner else [])]
        return {
            "stdout": "".join(p["stdout"] for p in parts),
            "stderr": "".join(p["stderr"] for p in parts),
            "truncated": any(p["truncated"] for p in parts),
            "bytes": {s: sum(p["bytes"][s] for p in parts) for s in ("stdout", "stderr")},
        }

    # --- workers ---

    def _worker(self, role: str) -> Worker:
        """A worker for ``role``. Only the learner's is limited, guarded and sandboxed: the
        reference is trusted, and must see its own file."""
        learner = role == "learner"
        return Worker(
            role=role,
            backend=self.options.backend,
            precision=self.problem.precision,
            memory_mb=self.memory_mb,
            output_limit=self.output_kb * 1024,
            python=self.options.python,
            observe=True,
            cpu_s=self.cpu_s if learner else None,
            processes=self.processes if learner else None,
            sandbox=self.sandbox if learner else "none",
            hide=self.hidden if learner else (),
            guard=learner,
            compile_cache=cache.xla_dir(),
        )

    def _hello(self, worker: Worker) -> dict[str, Any]:
        try:
            hello = worker.receive(STARTUP_TIMEOUT_S)
        except (WorkerTimeout, WorkerDied) as exc:
            detail = worker.output()["stderr"].strip().splitlines()[-1:]
            raise WorkerError(
                f"the {worker.role} worker did not start: {exc} {' '.join(detail)}".strip()
            ) from None
        if not hello.get("ok"):
            if hello.get("error") == "backend_unavailable":
                raise BackendUnavailable(
                    self.options.backend,
                    probe_backends(self.options.python),
                    str(hello.get("message", ""))[:200],
                )
            raise WorkerError(f"the {worker.role} worker failed to start: {hello}")
        return hello

    # --- per case ---

    def _expected(self, case: Case) -> tuple[np.ndarray, str | None, list[Any]]:
        """Receive the reference's answer to a case already sent; validate it."""
        assert self.reference is not None
        try:
            reply = self.reference.receive(max(self.call_s * 3, 60.0))
        except (WorkerTimeout, WorkerDied) as exc:
            raise WorkerError(
                f"the reference failed on {case.describe(self.problem)}: {exc}"
            ) from None
        self.timing["reference_s"] += float(reply.get("elapsed_s") or 0.0)
        if not reply.get("ok") or reply.get("kind") != "array":
            detail = reply.get("message") or reply.get("repr") or reply.get("type")
            raise WorkerError(f"the reference failed on {case.describe(self.problem)}: {detail}")
        array = decode_array(reply["array"])
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise WorkerError(f"the reference returned NaN or inf on {case.describe(self.problem)}")
        observations = reply.get("observations")
        return (
            array,
            reply["array"]["__ndarray__"].get("original_dtype"),
            observations if isinstance(observations, list) else [],
        )

    def _tolerance(self, dtype: str) -> Tolerance:
        tol = self.problem.tolerance_for(dtype, self.options.backend) or self.problem.tolerance_for(
            self.problem.output_dtype, self.options.backend
        )
        if tol is None:
            raise WorkerError(
                f"{self.problem.name}: no tolerance declared for {dtype} on {self.options.backend}"
            )
        return tol

    def evaluate(self, case: Case) -> Outcome:
        """Run one case on both sides (each at most once per case) and compare."""
        if case.key in self.outcomes:
            return self.outcomes[case.key]
        assert self.learner is not None
        args = [_wire(v) for v in case.args(self.problem)]
        cache_key = (self.reference_id, case.key)
        cached = _REFERENCE_RESULTS.get(cache_key)
        if cached is None:
            self._ensure_reference().send({"op": "call", "args": args})
        remaining = self.deadline - time.monotonic()
        self.learner.send({"op": "call", "args": args})
        if cached is None:
            cached = self._expected(case)
            _remember_in(_REFERENCE_RESULTS, cache_key, cached)
            self.computed = True
        expected, original, observed = cached
        self.reference_seen.add(observed, case.key)
        tol = self._tolerance(original or str(expected.dtype))
        outcome = Outcome(case, expected, informative=is_informative(expected, tol))
        limit = min(self.call_s, max(remaining, 0.0))
        try:
            reply = clean_reply(self.learner.receive(limit))
        except WorkerTimeout:
            self.learner.kill()
            outcome.failure = "timeout"
            outcome.reply = {
                "limit_s": limit,
                "which": "call" if limit >= self.call_s else "submission",
            }
            return self._remember(outcome)
        except WorkerDied as exc:
            outcome.failure, outcome.reply = self._death(exc)
            return self._remember(outcome)
        outcome.reply = reply
        self.learner_seen.add(reply.pop("observations", None), case.key)
        self.timing["learner_s"] += float(reply.get("elapsed_s") or 0.0)
        started = time.perf_counter()
        if not reply.get("ok"):
            outcome.failure = {"memory": "memory", "too_large": "too_large"}.get(
                str(reply.get("kind")), "exception"
            )
        else:
            try:
                outcome.got = (
                    decode_array(reply["array"])
                    if reply.get("kind") == "array"
                    else Opaque(str(reply.get("type"))[:200], str(reply.get("repr"))[:300])
                )
            except (ValueError, KeyError, TypeError) as exc:
                outcome.got = Opaque("invalid", f"malformed reply: {exc}"[:300])
            outcome.mismatch = compare(expected, outcome.got, tol)
            if outcome.mismatch is not None:
                outcome.failure = "mismatch"
        self.timing["compare_s"] += time.perf_counter() - started
        return self._remember(outcome)

    def _death(self, exc: WorkerDied) -> tuple[str, dict[str, Any]]:
        """Why the learner's process died: the CPU limit (SIGXCPU, or the SIGKILL that
        follows it), an allocation that failed under the memory limit, or anything else."""
        assert self.learner is not None
        code = exc.returncode
        if code == -signal.SIGXCPU or (
            code == -signal.SIGKILL and self.learner.cpu_seconds() >= self.cpu_s - 0.5
        ):
            return "timeout", {"limit_s": self.cpu_s, "which": "cpu", "returncode": code}
        if code is not None and code != 0 and self.learner.ran_out_of_memory():
            return "memory", {"returncode": code}
        return "died", {"returncode": code}

    def _remember(self, outcome: Outcome) -> Outcome:
        self.outcomes[outcome.case.key] = outcome
        return outcome

    # --- shrinking ---

    def shrink(self, failing: Outcome) -> tuple[Outcome, int]:
        """Greedy: take the first simpler candidate that fails the same way; repeat."""
        started = time.monotonic()
        budget_end = min(started + self.options.shrink_s, self.deadline - 1.0)
        steps = 0
        current = failing
        improved = True
        while improved and time.monotonic() < budget_end:
            improved = False
            for candidate in shrink_candidates(self.problem, current.case):
                if time.monotonic() >= budget_end:
                    break
                outcome = self.evaluate(candidate)  # a case met before comes from its cache
                if outcome.failure in ("timeout", "died", "memory"):
                    if not (self.learner and self.learner.alive):  # not for a cached outcome
                        self._restart_learner()
                    continue
                if (
                    not outcome.passed
                    and outcome.signature == failing.signature
                    and (outcome.informative or not failing.informative)
                ):
                    current, steps, improved = outcome, steps + 1, True
                    break
        self.timing["shrink_s"] += time.monotonic() - started
        return current, steps

    def _restart_learner(self) -> None:
        """A candidate killed the learner's worker: start a fresh one to keep shrinking."""
        assert self.learner is not None
        self.learner.close()
        self.earlier_output.append(self.learner.output())
        self.learner = self._worker("learner")
        self.learner.start()
        self._hello(self.learner)
        self._send_load()
        self.learner.receive(STARTUP_TIMEOUT_S)

    def _send_load(self) -> None:
        assert self.learner is not None
        path = Path(self.learner.directory) / self.submission.module_filename
        path.write_text(self.submission.source, encoding="utf-8")
        self.learner.send(
            {
                "op": "load",
                "path": str(path),
                "entry": self.problem.entry_point,
                "parameters": list(self.problem.parameters),
            }
        )

    # --- the whole run ---

    def run(self) -> Report:
        started = time.perf_counter()
        plan = _plan(self.problem, self.options.seed)
        self.timing["plan_s"] = time.perf_counter() - started
        self.learner = self._worker("learner")
        cold = self.reference_id not in _REFERENCE_LOADS or any(
            (self.reference_id, case.key) not in _REFERENCE_RESULTS for case in plan
        )
        try:
            if cold:  # start it now, so that its start-up overlaps the learner's
                self.reference = self._worker("reference")
                self.reference.start()
            self.learner.start()
            started = time.perf_counter()
            self._record_environment(self._hello(self.learner))
            if cold:
                self._ensure_reference()
            self.timing["startup_s"] = time.perf_counter() - started
            self.reference_seen.add(_REFERENCE_LOADS.get(self.reference_id, []))
            self._send_load()
            started = time.perf_counter()
            verdict, load_diag = self._receive_learner_load()
            self.timing["load_s"] = time.perf_counter() - started
            if verdict is not None:
                assert load_diag is not None
                return self._report(verdict, [load_diag], plan, [], None, 0)
            return self._run_plan(plan)
        finally:
            for worker in (self.reference, self.learner):
                if worker is not None:
                    worker.close()
            if self.computed:
                _write_reference_results(self.reference_id, self.options.python)

    def _ensure_reference(self) -> Worker:
        """The reference's worker, started, with the reference and the fingerprints loaded."""
        if self.reference is not None and self.reference_ready:
            return self.reference
        if self.reference is None:
            self.reference = self._worker("reference")
            self.reference.start()
        self._hello(self.reference)
        reply = self.reference.request(
            {
                "op": "load",
                "path": str(self.problem.reference),
                "entry": self.problem.entry_point,
                "parameters": list(self.problem.parameters),
            },
            STARTUP_TIMEOUT_S,
        )
        if not reply.get("ok"):
            raise WorkerError(
                f"the reference {self.problem.reference} failed to load: "
                f"{reply.get('code')}: {reply.get('message')}"
            )
        observed = reply.get("observations")
        _remember_in(
            _REFERENCE_LOADS, self.reference_id, observed if isinstance(observed, list) else []
        )
        self._load_fingerprints()
        self.reference_ready = True
        return self.reference

    def _load_fingerprints(self) -> None:
        """Known-wrong variants go into the reference's worker, one slot each."""
        assert self.reference is not None
        for number, fingerprint in enumerate(self.problem.fingerprints):
            self.reference.send(
                {
                    "op": "load",
                    "slot": f"fingerprint_{number}",
                    "path": str(fingerprint.file),
                    "entry": self.problem.entry_point,
                    "parameters": list(self.problem.parameters),
                }
            )
        for fingerprint in self.problem.fingerprints:
            reply = self.reference.receive(STARTUP_TIMEOUT_S)
            if not reply.get("ok"):
                raise WorkerError(
                    f"the fingerprint {fingerprint.file} failed to load: "
                    f"{reply.get('code')}: {reply.get('message')}"
                )

    def _receive_learner_load(self) -> tuple[Verdict | None, Diagnostic | None]:
        assert self.learner is not None
        name = Path(self.submission.display).name
        try:
            reply = clean_reply(
                self.learner.receive(min(self.call_s, self.deadline - time.monotonic()))
            )
        except WorkerTimeout:
            self.learner.kill()
            return Verdict.TIME_LIMIT_EXCEEDED, diagnose.timeout(
                self.problem, None, None, self.call_s, "call"
            )
        except WorkerDied as exc:
            failure, _ = self._death(exc)
            if failure == "timeout":
                return Verdict.TIME_LIMIT_EXCEEDED, diagnose.timeout(
                    self.problem, None, None, self.cpu_s, "cpu"
                )
            if failure == "memory":
                return Verdict.MEMORY_LIMIT_EXCEEDED, diagnose.memory_limit(
                    self.problem, None, None, self.memory_mb
                )
            return Verdict.COMPILE_ERROR, diagnose.process_died(
                self.problem, None, None, exc.returncode, f"while loading {name}"
            )
        if reply.get("ok"):
            self.learner_seen.add(reply.get("observations"))
            for warning in reply.get("warnings") or []:
                if isinstance(warning, dict):
                    self.diagnostics.append(diagnose.signature_warning(self.problem, warning))
            return None, None
        if reply.get("code") == "memory":
            return Verdict.MEMORY_LIMIT_EXCEEDED, diagnose.memory_limit(
                self.problem, None, None, self.memory_mb
            )
        found = diagnose.translate(self.problem, diagnose.load_failure(self.problem, name, reply))
        return Verdict.COMPILE_ERROR, self._locate(found)

    def _locate(self, diagnostic: Diagnostic) -> Diagnostic:
        line = diagnostic.evidence.get("line")
        where = self.submission.cell_of_line(line if isinstance(line, int) else None)
        return diagnose.locate_in_notebook(diagnostic, where)

    def _run_plan(self, plan: list[Case]) -> Report:
        results: list[Outcome] = []
        for case in plan:
            if time.monotonic() >= self.deadline:
                outcome = Outcome(
                    case,
                    failure="timeout",
                    reply={"limit_s": self.submission_s, "which": "submission"},
                )
                results.append(outcome)
                break
            outcome = self.evaluate(case)
            results.append(outcome)
            if outcome.failure in ("timeout", "died", "memory"):
                break
        first = next((o for o in results if not o.passed), None)
        findings = self._check_structure(results, len(plan)) + self._output_dtype(results)
        if first is None:
            informative = sum(o.informative for o in results)
            if informative < self.problem.cases.min_informative:
                raise WorkerError(
                    f"{self.problem.name}: only {informative} of {len(results)} cases could "
                    f"tell a wrong answer from a right one; the problem needs at least "
                    f"{self.problem.cases.min_informative}. Widen its input ranges."
                )
            failed = [r for r in self.rubric if r["required"] and not r["passed"]]
            verdict = Verdict.WRONG_ANSWER if failed else Verdict.ACCEPTED
            return self._report(verdict, diagnose.rank(findings), plan, results, None, 0)
        index = plan.index(first.case)
        shown, steps = first, 0
        if self.options.shrink and first.failure in ("mismatch", "exception"):
            # Start from the smallest case that failed the same way: fewer steps to take.
            same = [o for o in results if o.signature == first.signature]
            start = min(same, key=lambda o: (o.case.size(self.problem), plan.index(o.case)))
            shown, steps = self.shrink(start)
        verdict = {
            "mismatch": Verdict.WRONG_ANSWER,
            "exception": Verdict.RUNTIME_ERROR,
            "timeout": Verdict.TIME_LIMIT_EXCEEDED,
            "died": Verdict.RUNTIME_ERROR,
            "memory": Verdict.MEMORY_LIMIT_EXCEEDED,
            "too_large": Verdict.WRONG_ANSWER,
        }[str(first.failure)]
        shown_index = index if shown.case == first.case else None
        explained = [self._explain(shown, shown_index)]
        observed_cause = any(diagnose.is_structural(d) for d in findings)
        if verdict is not Verdict.WRONG_ANSWER:
            # A crash, a timeout or the memory limit stopped the code before it built what the
            # structure checks look at: they still score the rubric, but only the failure is
            # shown.
            findings = []
        # Fingerprints explain values when the structure looks right. When the recorded
        # structure already names a cause, it wins: B identically initialised layers compute
        # what one shared layer does, and only the structure can tell them apart.
        fingerprint = None if observed_cause else self._fingerprint(shown, first)
        if fingerprint is not None:
            explained.insert(0, fingerprint)
        return self._report(
            verdict, diagnose.rank(explained + findings), plan, results, (shown, index), steps
        )

    # --- structure and fingerprints ---

    def _check_structure(self, results: list[Outcome], planned: int) -> list[Diagnostic]:
        """Score the rubric (into ``self.rubric``); return the structural diagnostics."""
        findings: list[Diagnostic] = []
        learner, reference = self.learner_seen, self.reference_seen
        # Every case on which both sides initialised variables (under jax.jit the learner's
        # init runs only when a new shape is traced); a mistake may show on some cases only,
        # such as a wrong size that agrees when in_dim == features.
        pairs = [
            (o.case.describe(self.problem), learner.variables(o.case.key), theirs)
            for o in results
            if (theirs := reference.variables(o.case.key)) is not None
        ]
        observed = [p for p in pairs if p[1] is not None] or pairs[:1]

        def first_finding(check: Any, item: Any) -> list[Diagnostic]:
            for where, mine, theirs in observed:
                found = check(item, mine, theirs, where)
                if found:
                    return found
            return []

        self.rubric = []
        for item in self.problem.rubric:
            credit = 1.0
            if item.check == "outputs":
                # Credit: informative cases passed; cases that never ran count as failed.
                diagnostics: list[Diagnostic] = []
                passed = all(o.passed for o in results) and len(results) == planned
                informative = [o for o in results if o.informative]
                denominator = len(informative) + planned - len(results)
                credit = sum(o.passed for o in informative) / denominator if denominator else 0.0
            elif item.check == "transform":
                diagnostics = structure.check_transform(item, learner, reference)
            elif item.check == "variable_paths":
                diagnostics = first_finding(structure.check_variable_paths, item)
            else:
                diagnostics = first_finding(structure.check_variable_shapes, item)
            if item.check != "outputs":
                passed = not diagnostics
                credit = 1.0 if passed else 0.0
            findings += diagnostics
            self.rubric.append(
                {
                    "id": item.id,
                    "title": item.title,
                    "check": item.check,
                    "weight": item.weight,
                    "required": item.required,
                    "passed": passed,
                    "score": round(item.weight * credit, 4),
                    "codes": [d.code for d in diagnostics],
                }
            )
        if not all(o.passed for o in results):
            # Initial values, in the collections the rubric compares.
            tol = self._tolerance(self.problem.output_dtype)
            collections = dict.fromkeys(
                i.collection for i in self.problem.rubric if i.check.startswith("variable_")
            )
            found = (
                structure.check_variable_values(c, mine, theirs, tol, where)
                for c in collections
                for where, mine, theirs in observed
            )
            values = next((v for v in found if v is not None), None)
            if values is not None:
                findings.append(values)
        return findings

    def _output_dtype(self, results: list[Outcome]) -> list[Diagnostic]:
        """A warning when the function returns an array of another dtype than the reference."""
        for outcome in results:
            got, expected = outcome.got, outcome.expected
            if (
                isinstance(got, np.ndarray)
                and expected is not None
                and outcome.reply.get("type") != "list"
                and got.dtype != expected.dtype
            ):
                return [
                    Diagnostic(
                        "wrong_output_dtype",
                        Severity.WARNING,
                        f"your function returns {got.dtype} where the reference returns "
                        f"{expected.dtype}.",
                        "Return the layer's output as it comes, without casting it.",
                        {
                            "dtype": str(got.dtype),
                            "reference_dtype": str(expected.dtype),
                            "case": outcome.case.describe(self.problem),
                        },
                    )
                ]
        return []

    def _fingerprint(self, shown: Outcome, first: Outcome) -> Diagnostic | None:
        """Name the known mistake whose output equals the learner's, on the failing cases."""
        if shown.failure != "mismatch" or not isinstance(shown.got, np.ndarray):
            return None
        # Matching on the shrunk case and on the first failing one guards against a tiny case
        # that two variants happen to agree on.
        checked = [shown] + [first] * (
            first.case != shown.case and isinstance(first.got, np.ndarray)
        )
        for number, fingerprint in enumerate(self.problem.fingerprints):
            if all(self._matches(f"fingerprint_{number}", o) for o in checked):
                return Diagnostic(
                    fingerprint.code,
                    Severity.ERROR,
                    fingerprint.message,
                    fingerprint.hint,
                    {"case": shown.case.describe(self.problem), "matched": "output"},
                )
        return None

    def _matches(self, slot: str, outcome: Outcome) -> bool:
        cache_key = (self.reference_id, slot, outcome.case.key)
        if cache_key in _VARIANT_RESULTS:
            variant = _VARIANT_RESULTS[cache_key]
        else:
            if time.monotonic() > self.deadline - 1.0:
                return False
            args = [_wire(v) for v in outcome.case.args(self.problem)]
            reference = self._ensure_reference()
            reference.send({"op": "call", "slot": slot, "args": args})
            try:
                reply = reference.receive(max(self.call_s * 3, 60.0))
            except (WorkerTimeout, WorkerDied) as exc:
                raise WorkerError(f"the fingerprint {slot} failed: {exc}") from None
            ok = reply.get("ok") and reply.get("kind") == "array"
            variant = decode_array(reply["array"]) if ok else None
            _remember_in(_VARIANT_RESULTS, cache_key, variant)
            self.computed = True
        if variant is None:
            return False
        assert isinstance(outcome.got, np.ndarray) and outcome.expected is not None
        tol = self._tolerance(str(outcome.expected.dtype))
        return variant.shape == outcome.got.shape and compare(variant, outcome.got, tol) is None

    def _explain(self, outcome: Outcome, index: int | None) -> Diagnostic:
        problem, case, reply = self.problem, outcome.case, outcome.reply
        if outcome.failure == "mismatch":
            return diagnose.mismatch(problem, case, index, outcome.mismatch)
        if outcome.failure == "exception":
            found = diagnose.translate(problem, diagnose.exception(problem, case, index, reply))
            return self._locate(found)
        if outcome.failure == "timeout":
            return diagnose.timeout(
                problem,
                case,
                index,
                float(reply.get("limit_s", 0)),
                str(reply.get("which", "call")),
            )
        if outcome.failure == "memory":
            return diagnose.memory_limit(problem, case, index, self.memory_mb)
        if outcome.failure == "too_large":
            return diagnose.output_too_large(problem, case, index, str(reply.get("message")))
        return diagnose.process_died(problem, case, index, reply.get("returncode"), "on")

    # --- report ---

    def _record_environment(self, hello: dict[str, Any]) -> None:
        versions = hello.get("versions") or {}
        self.environment = {
            "backend": self.options.backend,
            "device": hello.get("device"),
            "python": versions.get("python") or platform.python_version(),
            "jax": versions.get("jax"),
            "jaxlib": versions.get("jaxlib"),
            "flax": versions.get("flax"),
            "numpy": versions.get("numpy"),
            "hypothesis": _library_versions()["hypothesis"],
            "judge": judge_version(),
            "matmul_precision": self.problem.precision,
            "sandbox": "bwrap" if self.sandbox == "bwrap" else "process",
            "limits": {
                "call_s": self.call_s,
                "submission_s": self.submission_s,
                "memory_mb": self.memory_mb,
                "cpu_s": self.cpu_s,
                "processes": self.processes,
                "output_kb": self.output_kb,
            },
            "limits_enforced": self._enforced(hello),
        }

    def _enforced(self, hello: dict[str, Any]) -> dict[str, Any]:
        """The limits the learner's worker reported, and the cgroup's process bound if any."""
        enforced = dict(hello.get("limits") or {}) if isinstance(hello.get("limits"), dict) else {}
        cgroup = self.learner.process_limit() if self.learner is not None else None
        if cgroup is not None:
            enforced["processes"] = cgroup
        return enforced

    def _report(
        self,
        verdict: Verdict,
        diagnostics: list[Diagnostic],
        plan: list[Case],
        results: list[Outcome],
        failing: tuple[Outcome, int] | None,
        steps: int,
    ) -> Report:
        run = len(results)
        passed = sum(o.passed for o in results)
        informative_run = sum(o.informative for o in results)
        informative_passed = sum(o.informative and o.passed for o in results)
        not_run = len(plan) - run
        total_weight = sum(item["weight"] for item in self.rubric)
        if verdict is Verdict.ACCEPTED:
            score = 1.0
        elif self.rubric and total_weight:
            score = round(sum(item["score"] for item in self.rubric) / total_weight, 4)
        elif informative_run + not_run:
            score = round(informative_passed / (informative_run + not_run), 4)
        else:
            score = 0.0
        failing_case = None
        if failing is not None:
            shown, index = failing
            failing_case = FailingCase(
                index=index,
                inputs=shown.case.to_json(self.problem),
                expected=_array_json(shown.expected) if shown.expected is not None else None,
                got=_got_json(shown),
                mismatch=(
                    {
                        "code": shown.mismatch.code,
                        "message": shown.mismatch.message,
                        "evidence": shown.mismatch.evidence,
                    }
                    if shown.mismatch
                    else None
                ),
                reproducer=shown.case.reproducer(self.problem),
                shrink_steps=steps,
            )
        all_diagnostics = diagnostics + self.diagnostics
        claimed = {code for item in self.rubric for code in item["codes"]}
        for item in self.rubric:  # what the outputs item lost its points for
            if item["check"] == "outputs" and not item["passed"]:
                item["codes"] = [
                    d.code
                    for d in all_diagnostics
                    if d.code not in claimed and d.severity is Severity.ERROR
                ]
        summary = _summary(verdict, self.problem, plan, results, failing, all_diagnostics)
        return Report(
            problem=self.problem.name,
            submission=self.submission.display,
            verdict=verdict,
            score=score,
            summary=summary,
            cases={
                "run": run,
                "passed": passed,
                "seed": self.options.seed,
                "planned": len(plan),
                "informative": informative_run,
            },
            failing_case=failing_case,
            diagnostics=all_diagnostics,
            rubric=list(self.rubric),
            environment=self.environment,
            timing=dict(self.timing),
        )


def _summary(
    verdict: Verdict,
    problem: Problem,
    plan: list[Case],
    results: list[Outcome],
    failing: tuple[Outcome, int] | None,
    diagnostics: list[Diagnostic],
) -> str:
    if verdict is Verdict.ACCEPTED:
        return f"accepted: all {len(results)} cases passed"
    if failing is not None:
        outcome, index = failing
        first = diagnostics[0].code if diagnostics else str(outcome.failure)
        return (
            f"{verdict} on case {index + 1} of {len(plan)} ({first}); smallest failing "
            f"case: {outcome.case.describe(problem)}"
        )
    first = diagnostics[0] if diagnostics else None
    return f"{verdict}: {first.message}" if first else str(verdict)


def _wire(value: Any) -> Any:
    from .worker import encode_array

    return encode_array(value) if isinstance(value, np.ndarray) else int(value)


def _parse_failure(submission: Submission) -> dict[str, Any] | None:
    """The learner's worker's reply for a file Python cannot parse, found without starting
    one: parsing runs none of the learner's code. None when it parses (the worker compiles it
    again, with the same interpreter, and may still fail for other reasons)."""
    return compile_source(submission.source, submission.module_filename)[1]


def unrun_report(
    problem: Problem,
    options: GradeOptions,
    display: str,
    verdict: Verdict,
    diagnostic: Diagnostic,
) -> Report:
    """The report of a submission none of whose cases ran: it could not be read, loaded or
    found. Its one diagnostic is the reason."""
    return Report(
        problem=problem.name,
        submission=display,
        verdict=verdict,
        score=0.0,
        summary=f"{verdict}: {diagnostic.message}",
        cases={
            "run": 0,
            "passed": 0,
            "seed": options.seed,
            "planned": problem.cases.count,
            "informative": 0,
        },
        diagnostics=[diagnostic],
        environment={"backend": options.backend, "judge": judge_version()},
    )


def _compile_error_report(
    submission: Submission, problem: Problem, options: GradeOptions, code: str, message: str
) -> Report:
    diagnostic = diagnose.submission_problem(code, message, submission.display)
    return unrun_report(problem, options, submission.display, Verdict.COMPILE_ERROR, diagnostic)


def _hidden_paths(submission: Submission, problem: Problem, options: GradeOptions) -> list[str]:
    """What the learner's code must not see: the problem package, the reference and the
    fingerprints, the project the judge runs from, the judge's working folder (reports go
    there), the folder the submission came from (a class's other files), and ``options.hide``.
    The Python installation stays visible even when it lies inside one of them."""
    package_parent = Path(__file__).resolve().parent.parent
    found = [
        problem.directory,
        problem.reference.parent,
        *(f.file.parent for f in problem.fingerprints),
        Path.cwd(),
        Path(submission.path).resolve().parent,
        *(Path(p) for p in options.hide),
    ]
    stored = cache.cache_dir()
    if stored is not None:  # stored reference outputs; its xla/ folder stays readable
        found.append(stored)
    if (package_parent / "pyproject.toml").is_file():  # a source checkout, not site-packages
        found.append(package_parent)
    return sorted({str(p.resolve()) for p in found if str(p.resolve()) != "/"})


def grade(
    path: str | Path,
    problem: str | Problem | None = None,
    options: GradeOptions | None = None,
    problems_dir: Path | None = None,
) -> Report:
    """Grade one learner file against a problem and return its Report.

    Raises a UsageError subclass when the file, the problem or the backend cannot be had,
    ProblemError for an invalid package. A learner's failure is never raised: it is the
    report's verdict. A judge-side failure (the reference broke) is a ``judge_error`` report.
    """
    options = options or GradeOptions()
    started = time.perf_counter()
    submission = read_submission(path)
    resolved = (
        problem
        if isinstance(problem, Problem)
        else resolve_problem(submission, problem, problems_dir)
    )
    unparsable = _parse_failure(submission) if options.python is None else None
    if submission.problem is not None:
        report = _compile_error_report(submission, resolved, options, *submission.problem)
    elif unparsable is not None:
        name = Path(submission.display).name
        found = diagnose.translate(resolved, diagnose.load_failure(resolved, name, unparsable))
        line = found.evidence.get("line")
        found = diagnose.locate_in_notebook(
            found, submission.cell_of_line(line if isinstance(line, int) else None)
        )
        report = unrun_report(resolved, options, submission.display, Verdict.COMPILE_ERROR, found)
    else:
        grading = _Grading(submission, resolved, options)
        try:
            report = grading.run()
        except WorkerError as exc:
            report = Report(
                problem=resolved.name,
                submission=submission.display,
                verdict=Verdict.JUDGE_ERROR,
                score=0.0,
                summary=f"judge_error: {exc}",
                environment=grading.environment,
                timing=dict(grading.timing),
            )
        if grading.learner is not None:
            report.output = grading.learner_output()
    report.timing["total_s"] = time.perf_counter() - started
    return report
