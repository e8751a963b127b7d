"""``python -m kedro_pipelinename.demo PATH``: the README's first command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kedro_pipelinename.demo.project import DemoProject
from tests.support.cli import run_command
from tests.support.demo import CLIENT_1_TRAIN_OUTPUTS, read_outputs

pytestmark = pytest.mark.slow


def test_demo_writes_the_project_runs_it_job_by_job_and_prints_the_outputs(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "elsewhere"  # the demo must not depend on the cwd
    elsewhere.mkdir()
    target = tmp_path / "demo"

    result = run_command(
        [sys.executable, "-m", "kedro_pipelinename.demo", str(target)],
        cwd=elsewhere,
        env={"COLUMNS": "1000"},
        timeout=120,
    )

    project = DemoProject(path=target.resolve())
    output = result.stdout + result.stderr
    assert read_outputs(project) == CLIENT_1_TRAIN_OUTPUTS
    assert "Plan of run" in output
    assert "kedro-client_1-prepare" in output
    assert (
        f"Outputs of client_1_train ({len(CLIENT_1_TRAIN_OUTPUTS)} file(s)):" in output
    )
    printed = [
        line.split()[0] for line in output.splitlines() if line.startswith("  /")
    ]
    assert sorted(printed) == [str(path) for path in project.output_files()]
    assert "4 node(s) ran in 4 process(es), under run id" in output
    assert list(elsewhere.iterdir()) == []


def test_demo_refuses_a_directory_that_is_not_a_demo_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "mine"\n')

    result = run_command(
        [sys.executable, "-m", "kedro_pipelinename.demo", str(tmp_path)],
        cwd=tmp_path,
        check=False,
        timeout=60,
    )

    assert result.returncode == 2
    assert "is not empty and holds no demo project" in result.stderr
    assert (tmp_path / "pyproject.toml").read_text() == '[project]\nname = "mine"\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pyproject.toml"]


def test_without_a_path_the_demo_removes_its_temp_project(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()

    result = run_command(
        [sys.executable, "-m", "kedro_pipelinename.demo"],
        cwd=tmp_path,
        env={"COLUMNS": "1000", "TMPDIR": str(temp)},
        timeout=120,
    )

    output = result.stdout + result.stderr
    assert "Outputs of client_1_train" in output
    assert "Removed the temp project" in output
    assert list(temp.glob("kedro-pipelinename-demo-*")) == []
