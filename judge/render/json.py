"""The report as JSON: the public ``judge.report/1`` schema, one object."""

from __future__ import annotations

import json

from ..result import Report


def render(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"
