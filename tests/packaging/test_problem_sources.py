"""Where problems come from: installed problem sets (entry points), the bundled set, a folder;
their precedence and their clashes. Fast: the distributions are stand-ins, their packages real
folders on ``sys.path``. ``test_problem_packages.py`` installs a real one."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from judge import cli
from judge.errors import ProblemNotFound
from judge.problem import ENTRY_POINT_GROUP, bundled_problems_dir, load_problem, locate_problems
from judge.problem import sources as sources_module

ROOT = Path(__file__).resolve().parents[2]


def package(site: Path, module: str, problems: dict[str, str]) -> None:
    """A package folder ``module`` (dotted) under ``site`` holding copies of bundled problems,
    renamed: ``{new name: bundled name}``."""
    folder = site.joinpath(*module.split("."))
    folder.mkdir(parents=True)
    for name, bundled in problems.items():
        shutil.copytree(ROOT / "problems" / bundled, folder / name)
        text = (folder / name / "problem.yaml").read_text()
        text = text.replace(f"name: {bundled}\n", f"name: {name}\n", 1)
        reference = (ROOT / "reference" / f"{bundled}.py").resolve()
        text = text.replace(f"../../reference/{bundled}.py", str(reference))
        (folder / name / "problem.yaml").write_text(text)


def installed(monkeypatch: pytest.MonkeyPatch, site: Path, *entries: tuple[str, str, str]) -> None:
    """Stand-in distributions ``(dist name, entry point name, module)`` whose packages are
    under ``site``."""
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    points = [
        SimpleNamespace(
            name=name, value=module, module=module, dist=SimpleNamespace(name=dist, version="1.0")
        )
        for dist, name, module in entries
    ]

    def entry_points(group: str) -> list[SimpleNamespace]:
        return points if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(sources_module.metadata, "entry_points", entry_points)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no ./problems, and no $JUDGE_PROBLEMS: the bundled set."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("JUDGE_PROBLEMS", raising=False)
    return tmp_path


def test_an_installed_set_joins_the_bundled_one(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    package(elsewhere / "site", "course_a.problems", {"course_vmap": "nn_vmap_forward"})
    installed(monkeypatch, elsewhere / "site", ("course-a", "course_a", "course_a.problems"))
    located = locate_problems()
    assert located.problems["course_vmap"].label == "course-a 1.0"
    assert located.problems["nn_vmap_forward"].kind == "bundled"
    problem = load_problem("course_vmap")
    assert problem.directory == (elsewhere / "site" / "course_a" / "problems" / "course_vmap")

    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "course-a 1.0" in out and "bundled" in out
    assert f"source course-a 1.0: {elsewhere / 'site' / 'course_a' / 'problems'}" in out
    assert f"({ENTRY_POINT_GROUP}: course_a = course_a.problems)" in out


def test_an_installed_problem_shadows_the_bundled_one_with_a_warning(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    package(elsewhere / "site", "course_b.problems", {"nn_vmap_forward": "nn_vmap_ensemble"})
    installed(monkeypatch, elsewhere / "site", ("course-b", "b", "course_b.problems"))
    assert load_problem("nn_vmap_forward").title == load_problem("nn_vmap_ensemble").title
    assert cli.main(["list"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("judge: warning: problem 'nn_vmap_forward' of course-b 1.0 is used")
    assert "bundled" in err and "shadowed" in err


def test_one_name_in_two_installed_sets_is_an_error(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    package(elsewhere / "site", "one.problems", {"same": "nn_vmap_forward"})
    package(elsewhere / "site", "two.problems", {"same": "nn_vmap_forward"})
    installed(
        monkeypatch,
        elsewhere / "site",
        ("dist-one", "one", "one.problems"),
        ("dist-two", "two", "two.problems"),
    )
    with pytest.raises(ProblemNotFound, match=r"'same' is installed twice: by dist-one 1\.0"):
        load_problem("nn_vmap_forward")
    assert cli.main(["list"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "dist-two 1.0" in line and "--problems DIR" in line


def test_a_folder_of_ones_own_hides_the_installed_sets(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package(elsewhere / "site", "course_c.problems", {"course_only": "nn_vmap_forward"})
    installed(monkeypatch, elsewhere / "site", ("course-c", "c", "course_c.problems"))
    own = elsewhere / "own"
    package(own, "problems", {"mine": "nn_vmap_forward"})
    assert sorted(locate_problems(own / "problems").problems) == ["mine"]
    with pytest.raises(ProblemNotFound, match="no problem named 'course_only'"):
        load_problem("course_only", own / "problems")
    monkeypatch.chdir(own)  # ./problems: the same rule
    assert sorted(locate_problems().problems) == ["mine"]


def test_a_broken_entry_point_is_a_warning_not_a_silence(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed(monkeypatch, elsewhere / "site", ("ghost", "g", "not_installed_anywhere.problems"))
    located = locate_problems()
    (warning,) = located.warnings
    assert warning.startswith("ghost 1.0 (jax_judge.problems: g = not_installed_anywhere")
    assert "skipped" in warning and sorted(located.problems) == sorted(
        p.name for p in bundled_problems_dir().glob("*") if (p / "problem.yaml").is_file()
    )
