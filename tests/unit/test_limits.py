"""Every limit is declared once (``limits.DECLARED``) and every place reads that declaration:
the ``Limits`` value, problem.yaml, the command line, the worker, the manual's table."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge import generated
from judge.cli_args import build_parser
from judge.cli_flags import isolation_options
from judge.errors import UsageError
from judge.grading import GradeOptions
from judge.limits import BY_NAME, DECLARED, Limits, markdown_table

BASE = Limits(call_s=10.0, submission_s=120.0, memory_mb=4096)


def test_the_limits_value_has_the_declared_fields_in_order_with_their_defaults() -> None:
    fields = dataclasses.fields(Limits)
    assert [f.name for f in fields] == [limit.name for limit in DECLARED]
    for field in fields:
        declared = BY_NAME[field.name]
        if declared.default is not None:
            assert field.default == declared.default, field.name
    assert list(BASE.to_dict()) == [limit.name for limit in DECLARED]


def test_every_flag_comes_from_the_declaration(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["grade", "--help"])
    helps = capsys.readouterr().out
    for limit in DECLARED:
        if limit.flag is not None:
            assert limit.flag in helps and limit.meaning.split(",")[0] in " ".join(helps.split())


@given(
    st.fixed_dictionaries(
        {},
        optional={
            limit.name: st.integers(max(1, int(limit.minimum)), 10_000).map(limit.kind)
            for limit in DECLARED
            if limit.flag is not None
        },
    )
)
def test_flags_reach_the_limits_unchanged(given_values: dict[str, float]) -> None:
    argv = ["grade", "x.py"]
    for name, value in given_values.items():
        argv += [BY_NAME[name].flag or "", str(value)]
    options = GradeOptions(**isolation_options(build_parser().parse_args(argv)))
    limits = BASE.overridden(options.limits)
    for limit in DECLARED:
        expected = given_values.get(limit.name, getattr(BASE, limit.name))
        assert getattr(limits, limit.name) == expected


def test_a_value_under_its_least_is_refused_by_the_flag() -> None:
    args = build_parser().parse_args(["grade", "x.py", "--memory", "100"])
    with pytest.raises(UsageError, match=r"--memory 100: at least 1536"):
        isolation_options(args)


def test_an_unknown_limit_name_is_refused() -> None:
    with pytest.raises(TypeError, match="unknown limits: memory"):
        GradeOptions(limits={"memory": 2048})


def test_the_worker_gets_what_it_enforces_and_the_reference_less() -> None:
    learner = BASE.for_worker(learner=True)
    reference = BASE.for_worker(learner=False)
    assert set(reference) < set(learner) <= set(BY_NAME)
    assert reference == {"memory_mb": 4096, "result_mb": 16}


def test_the_table_has_a_row_per_limit_and_is_a_generated_block() -> None:
    table = markdown_table()
    for limit in DECLARED:
        assert f"| `{limit.name}` (" in table
    assert "limits" in generated.BLOCKS
    text = f"a\n{generated.start_marker('limits')}\nold\n{generated.end_marker('limits')}\nb"
    assert generated.stale(text) == ["limits"]
    assert generated.stale(generated.rewritten(text)) == []
    assert generated.rewritten(text).startswith("a\n") and generated.rewritten(text).endswith("b")
