"""``kedro batch runs/status/cancel/resume`` through the real CLI, local engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kedro_pipelinename.batch.pids import is_running
from tests.support.cli import kedro_cli
from tests.support.commands_project import (
    EXPECTED_OUTPUTS,
    LOCAL_RUNNER,
    ONE_RUN_OF_EACH_NODE,
    batch,
    json_of,
    node_runs,
    outputs,
    record,
    run_arguments,
    run_ids,
    write_commands_project,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

#: Short rounds: the driver sees a cancel request within half a second.
ENV = {"KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5", "KEDRO_BATCH_POLL_INTERVAL": "0.1"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A project after one uninterrupted local batch run, and its run id."""
    project = write_commands_project(tmp_path_factory.mktemp("finished") / "proj")
    kedro_cli(project, *run_arguments(LOCAL_RUNNER), env=ENV)
    (run_id,) = run_ids(project)
    return project, run_id


def _local_jobs_alive(project: Path, run_id: str) -> list[str]:
    alive = []
    for path in (project / "logs" / "local_batch" / run_id).glob("*.json"):
        job = json.loads(path.read_text())
        if is_running(job["pid"], job["start"]):
            alive.append(path.stem)
    return alive


def test_a_run_leaves_a_record_that_runs_and_status_read(
    finished: tuple[Path, str],
) -> None:
    project, run_id = finished

    data = record(project, run_id)
    listed = json_of(batch(project, "runs", "--json").stdout)
    status = json_of(batch(project, "status", "--json").stdout)
    watched = batch(project, "status", run_id, "--watch").stdout

    assert outputs(project) == EXPECTED_OUTPUTS
    assert (data["engine"], data["state"], data["pipeline_names"]) == (
        "local",
        "succeeded",
        ["train"],
    )
    assert set(run_arguments(LOCAL_RUNNER)[1:]) <= set(data["resume"]["argv"])
    assert data["resume"]["env"]["KEDRO_BATCH_MAX_POLL_INTERVAL"] == "0.5"
    assert {
        job["job"]["name"]: (
            job["attempts"][-1]["job_id"],
            job["state"],
            job["job"]["depends_on"],
        )
        for job in data["jobs"]
    } == {
        "kedro-client_1": ("kedro-client_1", "SUCCEEDED", []),
        "kedro-client_2": ("kedro-client_2", "SUCCEEDED", []),
        "kedro-report": (
            "kedro-report",
            "SUCCEEDED",
            ["kedro-client_1", "kedro-client_2"],
        ),
    }
    assert [
        (
            run["run_id"],
            run["engine"],
            run["pipeline_names"],
            run["state"],
            run["jobs_done"],
            run["jobs_total"],
        )
        for run in listed
    ] == [(run_id, "local", ["train"], "succeeded", 3, 3)]
    assert (status["run_id"], status["state"]) == (run_id, "succeeded")
    assert {job["name"]: job["state"] for job in status["jobs"]} == {
        "kedro-client_1": "SUCCEEDED",
        "kedro-client_2": "SUCCEEDED",
        "kedro-report": "SUCCEEDED",
    }
    assert all(Path(job["log"]).is_file() for job in status["jobs"])
    assert f"Run {run_id} (train) on local processes: succeeded" in watched


def _recorded_run(project: Path, run_id: str, engine: str) -> Path:
    """A finished run's record, written as a driver would (no run needed)."""
    path = project / "logs" / "batch" / run_id / "run.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "run_id": run_id,
                "engine": engine,
                "project_path": str(project),
                "state": "failed",
                "started": "2000-01-01T00:00:00+00:00",
                "jobs": [{"name": "kedro-report", "job_id": "kedro-report"}],
            }
        )
    )
    return path


def test_user_errors_are_one_line_that_says_what_to_do_and_change_nothing(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    local = _recorded_run(project, "2000-01-02T00.00.00.000Z", "local")
    other = _recorded_run(project, "2000-01-01T00.00.00.000Z", "nosuchengine")
    before = {path: path.read_bytes() for path in (local, other)}
    empty = write_commands_project(tmp_path / "empty")

    results: dict[str, Any] = {
        "unknown": batch(project, "status", "nope", check=False),
        "cancel unknown": batch(project, "cancel", "nope", check=False),
        "other engine": batch(project, "cancel", other.parent.name, check=False),
        "no record": batch(empty, "status", check=False),
    }

    messages = {
        name: [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        for name, result in results.items()
    }
    assert all(result.returncode != 0 for result in results.values())
    assert all(len(lines) == 1 for lines in messages.values()), messages
    assert (
        f"(the newest: {local.parent.name}, {other.parent.name}); see "
        f"`kedro batch runs`" in messages["unknown"][0]
    )
    assert "No batch run 'nope'" in messages["cancel unknown"][0]
    assert (
        "engine 'nosuchengine', which is not installed here"
        in messages["other engine"][0]
    )
    assert "No batch runs are recorded" in messages["no record"][0]
    assert {path: path.read_bytes() for path in (local, other)} == before
    assert not (other.parent / "cancel").exists()


def test_cancel_from_another_terminal_stops_a_live_run(
    tmp_path: Path, start_driver: Any
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "hold_report").touch()
    driver = start_driver(project, *run_arguments(LOCAL_RUNNER), env=ENV)
    wait_until((project / "data" / "report_waiting").exists, "the report job to run")
    (run_id,) = run_ids(project)

    cancelled = batch(project, "cancel", run_id)
    output, _ = driver.communicate(timeout=120)
    status = json_of(batch(project, "status", run_id, "--json").stdout)

    assert driver.returncode != 0
    assert f"Run {run_id} was stopped: cancelled by `kedro batch cancel`" in output
    # The count is what changed: the driver cancelled the one job it ran.
    assert (
        f"Run {run_id} is cancelled: its driver cancelled 1 unfinished job(s)"
        in cancelled.stdout
    )
    assert _local_jobs_alive(project, run_id) == []
    assert record(project, run_id)["state"] == "cancelled"
    assert status["state"] == "cancelled"
    assert {job["name"]: job["state"] for job in status["jobs"]} == {
        "kedro-client_1": "SUCCEEDED",
        "kedro-client_2": "SUCCEEDED",
        "kedro-report": "CANCELLED",
    }


def test_resume_after_a_failure_reruns_only_what_did_not_succeed(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "fail_report").touch()
    failed = kedro_cli(project, *run_arguments(LOCAL_RUNNER), env=ENV, check=False)
    (run_id,) = run_ids(project)
    failed_status = json_of(batch(project, "status", "--json").stdout)
    report = next(job for job in failed_status["jobs"] if job["name"] == "kedro-report")
    failed_log = Path(report["log"]).read_text()
    (project / "data" / "fail_report").unlink()

    resumed = batch(project, "resume", run_id)

    assert failed.returncode != 0
    assert failed_status["state"] == "failed"
    assert (report["state"], report["exit_code"]) == ("FAILED", 1)
    assert "report was told to fail" in failed_log
    assert f"Resuming run {run_id}" in resumed.stdout
    assert outputs(project) == EXPECTED_OUTPUTS
    assert node_runs(project) == sorted([*ONE_RUN_OF_EACH_NODE, ("report", None)])
    data = record(project, run_id)
    assert (data["state"], len(data["drivers"])) == ("succeeded", 2)


def test_with_the_shipped_stderr_logging_json_is_all_of_stdout(
    finished: tuple[Path, str],
) -> None:
    # Kedro's default configuration logs a line on stdout before any command
    # runs; KEDRO_LOGGING_CONFIG=STDERR_LOGGING moves every log to stderr.
    from kedro_pipelinename_commands import STDERR_LOGGING

    project, run_id = finished
    env = {"KEDRO_LOGGING_CONFIG": STDERR_LOGGING}

    listed = json.loads(batch(project, "runs", "--json", env=env).stdout)
    status = json.loads(batch(project, "status", run_id, "--json", env=env).stdout)

    assert [run["run_id"] for run in listed] == [run_id]
    assert status["run_id"] == run_id
