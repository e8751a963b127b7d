"""A batch runner's error under ``kedro run`` is one block, not a traceback.

The message already says what failed, where and what to do next; before, it was
the last line under 70 to 200 lines of Rich traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.batch_project import write_batch_project
from tests.support.cli import kedro_cli, pipelines_option

RUNNER = "kedro_pipelinename.batch.LocalBatchRunner"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_batch_project(tmp_path_factory.mktemp("clean-errors") / "proj")


def _run(project: Path, env: dict[str, str]) -> tuple[int, str]:
    result = kedro_cli(
        project,
        "run",
        *pipelines_option("train"),
        "--runner",
        RUNNER,
        env=env,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_settings_error_is_one_block_without_a_traceback(project: Path) -> None:
    code, output = _run(project, {"KEDRO_BATCH_POLL_INTERVAL": "often"})

    assert code == 1
    assert "Error: Batch setting 'poll_interval' from the environment variable" in (
        output
    )
    assert "Traceback" not in output
    assert "╭" not in output  # no Rich traceback box either


def test_a_failed_job_is_one_block_with_the_resume_command(project: Path) -> None:
    code, output = _run(project, {"KEDRO_BATCH_EXECUTABLE": "/bin/false"})

    assert code == 1
    error = output[output.index("\nError: ") :]
    # Both clients' jobs run at once and both fail: the error names the one
    # whose failure the driver saw first, which a loaded machine decides.
    assert any(
        f"Job 'kedro-{c}' (nodes: {c}.prepare, {c}.fit) failed" in error
        for c in ("client_1", "client_2")
    ), error
    assert "\nTo resume the run: " in error
    # The pid shown is the supervisor's, the leader of the job's process group.
    assert "the job's command (process group " in error
    assert "started (process group " in output
    assert "Traceback" not in output
    assert "╭" not in output


def test_a_failed_jobs_log_lines_are_logged_verbatim_not_as_markup(
    project: Path, tmp_path: Path
) -> None:
    # Kedro's RichHandler reads markup by default: "[bold]" and "[red]" vanished
    # from the driver's ERROR line, "[client_1.X]" too.
    line = "KeyError: 'missing columns [bold] and [red] in [client_1.X]'"
    job = tmp_path / "job"
    job.write_text(f'#!/bin/sh\necho "{line}" >&2\nexit 1\n')
    job.chmod(0o755)

    code, output = _run(
        project, {"KEDRO_BATCH_EXECUTABLE": str(job), "COLUMNS": "1000"}
    )

    assert code == 1
    logged = output[: output.index("\nError: ")]
    assert line in logged
    assert "missing columns  and  in" not in output
