"""Gradescope's results.json, as its autograder specification documents it, checked field by
field. Written from the specification (docs/specs.md of gradescope/autograder_samples, with
the output-formatting options of March 2023), independently of ``judge.render.gradescope``.
"""

from __future__ import annotations

from typing import Any

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
NUMBER = (int, float)

TOP = {
    "score": NUMBER,
    "execution_time": NUMBER,
    "output": str,
    "output_format": str,
    "test_output_format": str,
    "test_name_format": str,
    "visibility": str,
    "stdout_visibility": str,
    "extra_data": dict,
    "tests": list,
    "leaderboard": list,
}
TEST = {
    "score": NUMBER,
    "max_score": NUMBER,
    "status": str,
    "name": str,
    "name_format": str,
    "number": str,
    "output": str,
    "output_format": str,
    "tags": list,
    "visibility": str,
    "extra_data": dict,
}


def _fields(data: dict[str, Any], allowed: dict[str, Any], where: str) -> list[str]:
    problems = []
    for key, value in data.items():
        if key not in allowed:
            problems.append(f"{where}{key}: not a field of the specification")
        elif isinstance(value, bool) or not isinstance(value, allowed[key]):
            problems.append(f"{where}{key}: {type(value).__name__} is the wrong type")
    for key in ("output_format", "test_output_format", "test_name_format", "name_format"):
        if key in data and data[key] not in FORMATS:
            problems.append(f"{where}{key}: {data[key]!r} is not a format")
    for key in ("visibility", "stdout_visibility"):
        if key in data and data[key] not in VISIBILITIES:
            problems.append(f"{where}{key}: {data[key]!r} is not a visibility")
    return problems


def problems_with(results: dict[str, Any]) -> list[str]:
    """Every way ``results`` departs from the specification (empty when it conforms)."""
    found = _fields(results, TOP, "")
    tests = results.get("tests", [])
    if "score" not in results and not all("score" in t for t in tests):
        found.append("score: required at the top level unless every test has one")
    for k, test in enumerate(tests):
        if not isinstance(test, dict):
            found.append(f"tests[{k}]: not an object")
            continue
        found += _fields(test, TEST, f"tests[{k}].")
        if "status" in test and test["status"] not in ("passed", "failed"):
            found.append(f"tests[{k}].status: {test['status']!r}")
    return found
