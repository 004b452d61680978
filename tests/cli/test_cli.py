"""The command line, in-process through ``cli.main(argv)``, plus one subprocess smoke test."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from judge import cli

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS = ROOT / "problems"
CANONICAL = ROOT / "submissions" / "nn_vmap_forward" / "accepted" / "canonical.py"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def broken_problems(tmp_path: Path, mutate) -> Path:
    """A copy of the bundled problems whose nn_vmap_forward YAML went through ``mutate``."""
    folder = tmp_path / "problems"
    shutil.copytree(PROBLEMS, folder)
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    path = folder / "nn_vmap_forward" / "problem.yaml"
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def test_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["grade", "no_such_solution.py"], capsys)
    assert code == 2
    assert out == ""
    assert err.strip() == "judge: error: no_such_solution.py: no such file"


def test_folder_instead_of_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(["grade", str(tmp_path)], capsys)
    assert code == 2
    assert "is a folder" in err and len(err.strip().splitlines()) == 1


def test_invalid_problem_names_file_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def mutate(data: dict) -> None:
        data["inputs"]["batch"]["max"] = "ten"

    problems = broken_problems(tmp_path, mutate)
    code, _, err = run(["grade", str(CANONICAL), "--problems", str(problems)], capsys)
    assert code == 2
    assert "Traceback" not in err
    line = err.strip()
    assert line.startswith("judge: error: ")
    assert "nn_vmap_forward/problem.yaml: inputs.batch.max: expected an integer" in line
    assert "'ten'" in line


def test_several_problem_errors_are_all_listed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def mutate(data: dict) -> None:
        data["tolerence"] = data.pop("tolerance")
        data["cases"]["count"] = 0

    problems = broken_problems(tmp_path, mutate)
    code, _, err = run(["grade", str(CANONICAL), "--problems", str(problems)], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert re.search(r"problem\.yaml: \d+ problems$", lines[0])
    assert any("tolerence: unknown key (did you mean 'tolerance'?)" in ln for ln in lines)
    assert any(ln.strip().startswith("tolerance: missing required key") for ln in lines)
    assert any(ln.strip().startswith("cases.count: expected an integer >= 1") for ln in lines)


def test_malformed_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    problems = broken_problems(tmp_path, lambda data: None)
    (problems / "nn_vmap_forward" / "problem.yaml").write_text("name: [unclosed\n")
    code, _, err = run(["grade", str(CANONICAL), "--problems", str(problems)], capsys)
    assert code == 2
    assert "not valid YAML: line" in err and "Traceback" not in err


def test_unknown_problem_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["grade", str(CANONICAL), "--problem", "nn_vmap_fwd"], capsys)
    assert code == 2
    assert "did you mean 'nn_vmap_forward'?" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["grade", "x.py", "--backend", "metal"],
        ["grade", "x.py", "--time-per-call", "-1"],
        ["grade", "x.py", "--format", "xml"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(argv)
    assert raised.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_memory_below_what_jax_needs(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["grade", str(CANONICAL), "--memory", "512"], capsys)
    assert code == 2
    assert "1536" in err


def test_every_command_has_help_and_is_in_readme(capsys: pytest.CaptureFixture[str]) -> None:
    """Every command and option is shown in README, the manual's pages or bench/README.md, written
    by hand: the --help reference (docs/reference/cli.md) does not count."""
    parser = cli.build_parser()
    pages = [
        ROOT / "README.md",
        ROOT / "bench" / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
    ]
    readme = "\n".join(p.read_text() for p in pages if p.name != "cli.md")
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands, "the CLI has no commands"
    for name, sub in commands.items():
        assert sub.description or sub.format_help()
        assert f"judge {name}" in readme, f"README and docs/ do not show `judge {name}`"
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"judge {name} {action.option_strings[0]} has no help"
                long = max(action.option_strings, key=len)
                assert long in readme, f"README and docs/ do not document {long}"


@pytest.mark.slow
def test_json_format_prints_only_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["grade", str(CANONICAL), "--format", "json"], capsys)
    assert code == 0
    report = json.loads(out)  # nothing but the report on stdout
    assert report["schema"] == "judge.report/1"
    assert report["verdict"] == "accepted"
    assert report["problem"] == "nn_vmap_forward"
    assert report["cases"]["passed"] == report["cases"]["run"] == report["cases"]["planned"]
    assert report["environment"]["backend"] == "cpu"
    assert report["environment"]["jax"]


@pytest.mark.slow
def test_output_file_and_summary_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    wrong = ROOT / "submissions" / "nn_vmap_forward" / "wrong_answer" / "not_flattened.py"
    argv = ["grade", str(wrong), "--format", "json", "--output", str(target)]
    code, out, _ = run(argv, capsys)
    assert code == 1
    report = json.loads(target.read_text())
    assert report["verdict"] == "wrong_answer"
    assert out.strip() == report["summary"]
    assert len(out.strip().splitlines()) == 1


@pytest.mark.slow
def test_unavailable_backend_names_the_available_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["grade", str(CANONICAL), "--backend", "tpu"], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "backend 'tpu' is not available here" in lines[0]
    assert re.search(r"available: .*\bcpu\b", lines[0])


@pytest.mark.slow
def test_python_dash_m_smoke() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "judge", "grade", str(CANONICAL), "--color", "never"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("accepted")
    assert "\x1b[" not in done.stdout  # no colour when asked for none


@pytest.mark.slow
def test_a_broken_reference_is_a_judge_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    problems = broken_problems(tmp_path, lambda data: None)
    (tmp_path / "reference" / "nn_vmap_forward.py").write_text(
        "def nn_vmap_forward(seed, x_batch, features):\n    raise RuntimeError('oops')\n"
    )
    argv = ["grade", str(CANONICAL), "--problems", str(problems), "--format", "json"]
    code, out, _ = run(argv, capsys)
    assert code == 3
    report = json.loads(out)
    assert report["verdict"] == "judge_error"
    assert "reference" in report["summary"] and "oops" in report["summary"]


def test_sandbox_bwrap_where_it_cannot_run_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from judge import sandbox

    monkeypatch.setattr(
        sandbox.BwrapSandbox, "problem", staticmethod(lambda: "bubblewrap is not installed (test)")
    )
    code, out, err = run(["grade", str(CANONICAL), "--sandbox", "bwrap"], capsys)
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "judge: error: --sandbox bwrap: bubblewrap is not installed (test)"
    ]


def test_auto_never_falls_back_to_no_isolation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no kernel sandbox works, grading refuses (exit 2, one line naming each reason)
    unless --sandbox none says the code is trusted."""
    from judge import sandbox

    monkeypatch.setattr(
        sandbox.BwrapSandbox, "problem", staticmethod(lambda: "no bubblewrap (test)")
    )
    monkeypatch.setattr(
        sandbox.LandlockSandbox, "problem", staticmethod(lambda: "no Landlock (test)")
    )
    code, out, err = run(["grade", str(CANONICAL)], capsys)
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert "no Landlock (test)" in line and "no bubblewrap (test)" in line
    assert "--sandbox none" in line


def test_auto_picks_the_kernel_sandbox_when_it_works() -> None:
    from judge import sandbox

    if sandbox.landlock_problem() is not None:
        pytest.skip(f"no Landlock here: {sandbox.landlock_problem()}")
    expected = "bwrap" if sandbox.bwrap_problem() is None else "landlock"
    assert sandbox.resolve_sandbox("auto").name == expected
