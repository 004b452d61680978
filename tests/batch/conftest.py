"""Fixtures of the batch tests: the problem, and grade() replaced by a stand-in."""

from __future__ import annotations

import pytest
from batch_helpers import PROBLEMS, FakeGrade

from judge.batch import student as batch_student
from judge.problem import Problem, load_problem


@pytest.fixture(scope="session")
def problem() -> Problem:
    return load_problem("nn_vmap_forward", PROBLEMS)


@pytest.fixture
def fake_grade(monkeypatch: pytest.MonkeyPatch) -> FakeGrade:
    fake = FakeGrade()
    monkeypatch.setattr(batch_student, "grade", fake)
    return fake
