"""One grading, start to end: start the workers, load the file, run the plan, decide.

Verdict rules: the first failing case in plan order decides the verdict. A wrong answer or an
exception lets the other cases run (for the score) and is then shrunk to a smaller failing case;
a timeout, a dead process or the memory limit stops grading. ``accepted`` needs every case to
pass, every required rubric item to pass, and at least ``cases.min_informative`` cases to be
informative (an all-zero answer must fail them). The reference failing is the judge's fault:
``judge_error``, never the learner's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .. import catalogue, diagnose
from ..cases import Case
from ..catalogue import RIGHT_VALUE_CODES
from ..decide import CaseCounts, Decision, Facts, decide
from ..errors import WorkerError
from ..notebook.frames import in_cells
from ..problem import Problem
from ..result import Diagnostic, Report, RubricResult, Verdict
from ..sandbox import WorkerDied, WorkerTimeout, resolve_sandbox
from ..submission import Submission
from . import analysis, evidence, fingerprints, memo, report, rubric
from .confirm import Confirmed, Confirmer
from .evaluate import Evaluator
from .options import GradeOptions
from .outcome import FATAL_FAILURES, Budget, Outcome
from .pair import WorkerPair
from .replies import clean_reply

# Each failure kind's verdict, and the failures whose case is re-run in a fresh worker before
# it is reported (``confirm``), shrunk or not: the catalogue's failure kinds.
_VERDICTS = {name: failure.verdict for name, failure in catalogue.FAILURES.items()}
CONFIRMED_FAILURES = catalogue.CONFIRMED_FAILURES


class Grading:
    """State of one grading run; ``run`` returns the Report."""

    def __init__(
        self, submission: Submission, problem: Problem, options: GradeOptions, hidden: list[str]
    ) -> None:
        self.submission = submission
        self.problem = problem
        self.options = options
        self.limits = options.limits_for(problem)
        self.sandbox = resolve_sandbox(options.sandbox, options.backend)
        self.budget = Budget(self.limits.submission_s)
        rid = memo.reference_id(problem, options.backend)
        memo.read_from_disk(rid, options.python)
        self.pair = WorkerPair(submission, problem, options, self.limits, self.sandbox, hidden, rid)
        self.pair.deadline = self.budget.deadline  # every learner's worker, confirmations too
        self.evaluator = Evaluator(self.pair, problem, self.limits, options.backend, self.budget)
        self.diagnostics: list[Diagnostic] = []
        self.environment: dict[str, Any] = {}
        self.rubric: list[RubricResult] = []

    @property
    def timing(self) -> dict[str, float]:
        return self.budget.timing

    def run(self) -> Report:
        started = time.perf_counter()
        plan = memo.plan(self.problem, self.options.seed)
        self.timing["plan_s"] = time.perf_counter() - started
        pair = self.pair
        pair.learner = pair.worker("learner")
        cold = not memo.complete(pair.rid, plan)
        try:
            if cold:  # start it now, so that its start-up overlaps the learner's
                pair.start_reference()
            pair.learner.start()
            started = time.perf_counter()
            hello = pair.hello(pair.learner)
            self.environment = report.environment(
                hello, self.options, self.problem, self.limits, self.sandbox, pair.learner
            )
            if cold:
                pair.ensure_reference()
            self.timing["startup_s"] = time.perf_counter() - started
            self.evaluator.reference_seen.add(memo.loaded(pair.rid) or [])
            pair.send_load()
            started = time.perf_counter()
            verdict, load_diag = self._receive_learner_load()
            self.timing["load_s"] = time.perf_counter() - started
            if verdict is not None:
                assert load_diag is not None
                return self._report(Decision(verdict, [load_diag], 0.0), plan, [], None, 0)
            return self._run_plan(plan)
        finally:
            pair.close()
            if self.evaluator.computed:
                memo.write_to_disk(pair.rid, self.options.python)

    # --- loading the learner's file ---

    def _receive_learner_load(self) -> tuple[Verdict | None, Diagnostic | None]:
        learner = self.pair.learner
        assert learner is not None
        name = Path(self.submission.display).name
        try:
            reply = clean_reply(learner.receive(min(self.limits.call_s, self.budget.remaining())))
        except WorkerTimeout:
            learner.kill()
            return Verdict.TIME_LIMIT_EXCEEDED, diagnose.timeout(
                self.problem, None, None, self.limits.call_s, "call"
            )
        except WorkerDied as exc:
            return self._died_loading(exc, name)
        if reply.get("ok"):
            self.evaluator.learner_seen.add(reply.get("observations"))
            for warning in reply.get("warnings") or []:
                if isinstance(warning, dict):
                    self.diagnostics.append(diagnose.signature_warning(self.problem, warning))
            return None, None
        if reply.get("code") == "memory" and self.pair.memory_confirmed(reply):
            return Verdict.MEMORY_LIMIT_EXCEEDED, diagnose.memory_limit(
                self.problem, None, None, self.limits.memory_mb
            )
        found = diagnose.translate(self.problem, diagnose.load_failure(self.problem, name, reply))
        return Verdict.COMPILE_ERROR, self._locate(found)

    def _died_loading(self, exc: WorkerDied, name: str) -> tuple[Verdict, Diagnostic]:
        failure, _ = self.evaluator.death(exc)
        if failure == "timeout":
            return Verdict.TIME_LIMIT_EXCEEDED, diagnose.timeout(
                self.problem, None, None, self.limits.cpu_s, "cpu"
            )
        if failure == "memory":
            return Verdict.MEMORY_LIMIT_EXCEEDED, diagnose.memory_limit(
                self.problem, None, None, self.limits.memory_mb
            )
        if failure == "disk":
            used = self.pair.learner.disk_used_mb if self.pair.learner else None
            return Verdict.MEMORY_LIMIT_EXCEEDED, diagnose.disk_limit(
                self.problem, None, None, self.limits.disk_mb, used
            )
        if str(exc).startswith("protocol violation"):
            return Verdict.COMPILE_ERROR, diagnose.protocol_violation(
                self.problem, None, None, str(exc)
            )
        return Verdict.COMPILE_ERROR, diagnose.process_died(
            self.problem, None, None, exc.returncode, f"while loading {name}"
        )

    def _locate(self, diagnostic: Diagnostic) -> Diagnostic:
        line = diagnostic.evidence.get("line")
        where = self.submission.cell_of_line(line if isinstance(line, int) else None)
        return in_cells(diagnose.locate_in_notebook(diagnostic, where), self.submission)

    # --- the plan ---

    def _run_cases(self, plan: list[Case]) -> list[Outcome]:
        """Evaluate the plan in order; stop after a fatal failure or at the deadline."""
        results: list[Outcome] = []
        for case in plan:
            if self.budget.remaining() <= 0:
                limit = {"limit_s": self.limits.submission_s, "which": "submission"}
                results.append(Outcome(case, failure="timeout", reply=limit))
                break
            outcome = self.evaluator.evaluate(case, reuse=False)  # a repeat runs again
            results.append(outcome)
            if outcome.failure in FATAL_FAILURES:
                break
        return results

    def _structure(self, results: list[Outcome], planned: int) -> list[Diagnostic]:
        """Score the rubric (into ``self.rubric``); the structural and dtype diagnostics."""
        evaluator = self.evaluator
        self.rubric, findings, observed = rubric.score(
            self.problem,
            results,
            planned,
            evaluator.learner_seen,
            evaluator.reference_seen,
            lambda code, outcome: fingerprints.shows(evaluator, code, outcome),
        )
        # Records a learner's process could forge earn nothing the file and numbers deny.
        findings += evidence.withhold_unverified(
            evaluator, self.submission.source, results, self.rubric
        )
        if evaluator.learner_seen.exhausted:
            findings.append(diagnose.observations_dropped(len(evaluator.learner_seen.dropped)))
        if not all(o.passed for o in results):
            values = rubric.initial_values(
                self.problem, observed, evaluator.tolerance(self.problem.output_dtype)
            )
            if values is not None:
                findings.append(values)
        return findings + rubric.output_dtype(self.problem, results)

    def _run_plan(self, plan: list[Case]) -> Report:
        results = self._run_cases(plan)
        index = next((k for k, o in enumerate(results) if not o.passed), None)
        findings = self._structure(results, len(plan))
        if index is None:
            return self._all_passed(plan, results, findings)
        first = results[index]
        shown, steps, confirmed = first, 0, None
        if first.failure in CONFIRMED_FAILURES:
            self.pair.start_spare_learner()  # for the confirmation: starts while shrinking
            if self.options.shrink and first.failure != "died":
                # Start from the smallest case that failed the same way: fewer steps to take.
                same = [k for k, o in enumerate(results) if o.signature == first.signature]
                start = min(same, key=lambda k: (results[k].case.size(self.problem), k))
                shown, steps = self.evaluator.shrink(results[start], self.options.shrink_calls)
            confirmed = Confirmer(self.evaluator).confirm(shown, first, plan, index)
            if confirmed.outcome.case != shown.case:  # the plan's case, with the plan before it
                steps = 0
            shown = confirmed.outcome
        explained = [self._explain(shown, index if shown.case == first.case else None, results)]
        supported: dict[str, frozenset[str]] = {}
        if confirmed is not None and confirmed.needs_earlier_calls:
            # The answer depends on earlier calls: that is the cause, and a stale answer
            # matching a known mistake would only mislead.
            explained.insert(0, self._state(confirmed))
        elif first.failure == "mismatch":
            findings, supported = analysis.explain_wrong_answer(
                self.evaluator, results, shown, first, findings, self.rubric
            )
        facts = Facts(str(first.failure), explained, findings, self.rubric,
                      self._counts(plan, results), supported)  # fmt: skip
        return self._report(decide(facts), plan, results, (shown, index), steps, confirmed)

    def _state(self, confirmed: Confirmed) -> Diagnostic:
        """The diagnostic for a failure that needs earlier calls."""
        alone = confirmed.alone
        how = None if alone is None else "passed" if alone.passed else "/".join(alone.signature)
        return diagnose.state_between_calls(
            self.problem,
            confirmed.outcome.case,
            confirmed.earlier,
            how.rstrip("/") if how else how,
            confirmed.reproduced,
        )

    def _all_passed(
        self, plan: list[Case], results: list[Outcome], findings: list[Diagnostic]
    ) -> Report:
        informative = sum(o.informative for o in results)
        if informative < self.problem.cases.min_informative:
            raise WorkerError(
                f"{self.problem.name}: only {informative} of {len(results)} cases could "
                f"tell a wrong answer from a right one; the problem needs at least "
                f"{self.problem.cases.min_informative}. Widen its input ranges."
            )
        facts = Facts(None, [], findings, self.rubric, self._counts(plan, results))
        return self._report(decide(facts), plan, results, None, 0)

    @staticmethod
    def _counts(plan: list[Case], results: list[Outcome]) -> CaseCounts:
        return CaseCounts(
            planned=len(plan),
            informative_run=sum(o.informative for o in results),
            informative_passed=sum(o.informative and o.passed for o in results),
            run=len(results),
        )

    def _explain(
        self, outcome: Outcome, index: int | None, results: list[Outcome] | None = None
    ) -> Diagnostic:
        problem, case, reply = self.problem, outcome.case, outcome.reply
        if outcome.failure == "mismatch":
            assert outcome.mismatch is not None
            # "Right once flattened" is said only when it holds on every such failing case:
            # a fixed key agrees with the reference on seed 0, the smallest seed there is.
            right = RIGHT_VALUE_CODES.get(outcome.mismatch.code)
            everywhere = right is None or all(
                o.mismatch.code == outcome.mismatch.code and o.mismatch.evidence.get(right)
                for o in results or []
                if o.mismatch is not None
            )
            return diagnose.mismatch(problem, case, index, outcome.mismatch, everywhere)
        if outcome.failure == "exception":
            found = diagnose.translate(problem, diagnose.exception(problem, case, index, reply))
            if not self.evaluator.learner_seen.exhausted:  # a claim over every run
                found = diagnose.key_not_given(problem, found, self.evaluator.learner_seen.runs)
            return self._locate(found)
        if outcome.failure == "timeout":
            limit, which = float(reply.get("limit_s", 0)), str(reply.get("which", "call"))
            return diagnose.timeout(problem, case, index, limit, which)
        if outcome.failure == "memory":
            return diagnose.memory_limit(problem, case, index, self.limits.memory_mb)
        if outcome.failure == "disk":
            used = reply.get("used_mb")
            return diagnose.disk_limit(problem, case, index, self.limits.disk_mb, used)
        if outcome.failure == "too_large":
            return diagnose.output_too_large(problem, case, index, str(reply.get("message")))
        message = str(reply.get("message") or "")
        if message.startswith("protocol violation"):
            return diagnose.protocol_violation(problem, case, index, message)
        return diagnose.process_died(problem, case, index, reply.get("returncode"), "on")

    def _report(
        self,
        decision: Decision,
        plan: list[Case],
        results: list[Outcome],
        failing: tuple[Outcome, int] | None,
        steps: int,
        confirmed: Confirmed | None = None,
    ) -> Report:
        verdict = decision.verdict
        all_diagnostics = decision.diagnostics + self.diagnostics
        report.claim_output_codes(self.rubric, all_diagnostics)
        if self.environment:  # None when the reference's results all came from the cache
            self.environment["reference_device"] = self.pair.reference_device
        return Report(
            problem=self.problem.name,
            submission=self.submission.display,
            verdict=verdict,
            score=decision.score,
            summary=report.summary(verdict, self.problem, plan, results, failing, all_diagnostics),
            cases={
                "run": len(results),
                "passed": sum(o.passed for o in results),
                "seed": self.options.seed,
                "planned": len(plan),
                "informative": sum(o.informative for o in results),
            },
            failing_case=(
                report.failing_case(self.problem, failing[0], failing[1], steps, confirmed)
                if failing is not None
                else None
            ),
            diagnostics=all_diagnostics,
            rubric=list(self.rubric),
            environment=self.environment,
            timing=dict(self.timing),
        )
