"""JUnit XML, which CI tools read: a grading's rubric, or a problem set's checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..result import Report, RubricResult, Verdict
from .text import visible

if TYPE_CHECKING:
    from ..check import CheckResult


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def render(report: Report) -> str:
    """One test suite for the submission: a test case per rubric item (or one for the verdict)."""
    suites = ET.Element("testsuites", name="judge grade")
    accepted = report.verdict is Verdict.ACCEPTED
    items = report.rubric or [
        RubricResult("verdict", "verdict", "verdict", 1.0, True, accepted, report.score)
    ]
    failures = sum(not item.passed for item in items)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"{report.problem}: {report.submission}",
        tests=str(len(items)),
        failures=str(failures),
        time=f"{report.timing.get('total_s', 0.0):.3f}",
    )
    messages = {d.code: d.message for d in report.diagnostics}
    for item in items:
        case = ET.SubElement(suite, "testcase", classname=report.problem, name=str(item.title))
        if not item.passed:
            reasons = [messages[c] for c in item.codes if c in messages]
            if item.note:  # not earned for want of an item it requires, say
                reasons.insert(0, str(item.note))
            failure = ET.SubElement(
                case,
                "failure",
                message=reasons[0] if reasons else report.summary,
                type=str(report.verdict),
            )
            failure.text = "\n".join(reasons) or report.summary
    out = ET.SubElement(suite, "system-out")
    # Learner output: visible escapes for control characters (raw ones are not even valid
    # XML 1.0, and would reach whatever terminal shows the CI log).
    out.text = visible(str(report.output.get("stdout", "")))
    return _xml(suites)


def render_checks(results: Sequence[CheckResult]) -> str:
    """One test suite per problem, one test case per check, failures with their reason."""
    suites = ET.Element(
        "testsuites",
        name="judge check",
        tests=str(len(results)),
        failures=str(sum(not r.passed for r in results)),
        skipped=str(sum(bool(r.skipped) for r in results)),
    )
    by_problem: dict[str, list[CheckResult]] = {}
    for result in results:
        by_problem.setdefault(result.problem, []).append(result)
    for problem, checks in by_problem.items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=problem,
            tests=str(len(checks)),
            failures=str(sum(not r.passed for r in checks)),
            skipped=str(sum(bool(r.skipped) for r in checks)),
            time=f"{sum(r.duration_s for r in checks):.3f}",
        )
        for result in checks:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=problem,
                name=result.name,
                time=f"{result.duration_s:.3f}",
            )
            if result.skipped:
                ET.SubElement(case, "skipped", message=result.skipped[:500])
            elif not result.passed:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=result.message.splitlines()[0][:500] if result.message else "failed",
                )
                failure.text = result.message
    return _xml(suites)
