"""One owner per run (the lease), run ids that stay in ``logs/``, views that agree,
and attempts that keep their evidence; real drivers, local engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kedro_pipelinename.batch.pids import is_running
from tests.support.background import background_driver
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

ENV = {"KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5", "KEDRO_BATCH_POLL_INTERVAL": "0.1"}
RUN_ID_VARIABLE = "KEDRO_PIPELINENAME_RUN_ID"


def _lease(project: Path, run_id: str) -> dict[str, Any] | None:
    path = project / "logs" / "batch" / run_id / "lease"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def _alive_jobs(project: Path, run_id: str) -> list[str]:
    alive = []
    for path in (project / "logs" / "local_batch" / run_id).glob("*.json"):
        job = json.loads(path.read_text())
        if is_running(job["pid"], job["start"]):
            alive.append(path.stem)
    return alive


def test_a_second_driver_of_a_live_run_refuses_before_touching_anything(
    tmp_path: Path, start_driver: Any
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "hold_report").touch()
    first = start_driver(project, *run_arguments(LOCAL_RUNNER), env=ENV)
    wait_until((project / "data" / "report_waiting").exists, "the report job to run")
    (run_id,) = run_ids(project)
    lease = _lease(project, run_id)
    record_before = (project / "logs" / "batch" / run_id / "run.json").read_bytes()
    logs_before = sorted((project / "logs" / "local_batch" / run_id).iterdir())

    second = kedro_cli(
        project,
        *run_arguments(LOCAL_RUNNER),
        env={**ENV, RUN_ID_VARIABLE: run_id},
        check=False,
    )
    resumed = batch(project, "resume", run_id, check=False)
    still_alive = _alive_jobs(project, run_id)
    (project / "data" / "hold_report").unlink()
    output, _ = first.communicate(timeout=120)

    assert lease is not None and lease["pid"] == first.pid
    assert second.returncode != 0
    refusal = (
        f"Run {run_id} is held by another driver (pid {first.pid} on "
        f"{lease['host']} since {lease['since']}, last heartbeat"
    )
    assert refusal in second.stdout + second.stderr
    assert resumed.returncode != 0
    assert f"Run {run_id} is still running (driver pid {first.pid}" in resumed.stderr
    # Nothing of the live run was touched: its report job ran on, once.
    assert still_alive == ["kedro-report"]
    assert first.returncode == 0, output[-3000:]
    assert outputs(project) == EXPECTED_OUTPUTS
    assert node_runs(project) == ONE_RUN_OF_EACH_NODE
    data = record(project, run_id)
    assert [driver["pid"] for driver in data["drivers"]] == [first.pid]
    assert [len(job["attempts"]) for job in data["jobs"]] == [1, 1, 1]
    assert record_before != b""
    assert logs_before[0].parent.is_dir()
    assert _lease(project, run_id) is None  # released when the driver ended


def test_two_racing_drivers_of_one_run_id_run_each_node_once(
    tmp_path: Path, start_driver: Any
) -> None:
    project = write_commands_project(tmp_path / "proj")
    run_id = "2026-01-02T03.04.05.678Z"
    env = {**ENV, RUN_ID_VARIABLE: run_id}
    drivers = [
        start_driver(project, *run_arguments(LOCAL_RUNNER), env=env) for _ in range(2)
    ]
    results = [driver.communicate(timeout=120)[0] for driver in drivers]

    codes = sorted(driver.returncode for driver in drivers)
    assert codes[0] == 0 and codes[1] != 0, results
    assert any("is held by another driver" in output for output in results)
    assert node_runs(project) == ONE_RUN_OF_EACH_NODE
    data = record(project, run_id)
    assert (data["state"], len(data["drivers"])) == ("succeeded", 1)


def test_a_killed_drivers_lease_is_taken_over_and_the_takeover_logged(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "hold_report").touch()
    argv = [sys.executable, "-m", "kedro", *run_arguments(LOCAL_RUNNER)]
    with background_driver(
        argv, cwd=project, log=tmp_path / "first.log", env=ENV
    ) as driver:
        wait_until(
            (project / "data" / "report_waiting").exists, "the report job", driver
        )
        (run_id,) = run_ids(project)
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=60)
    (project / "data" / "hold_report").unlink()

    again = kedro_cli(
        project, *run_arguments(LOCAL_RUNNER), env={**ENV, RUN_ID_VARIABLE: run_id}
    )

    assert (
        f"Took over the lease of run {run_id} from pid {driver.pid}"
        in again.stdout + again.stderr
    )
    assert outputs(project) == EXPECTED_OUTPUTS
    data = record(project, run_id)
    assert [driver["state"] for driver in data["drivers"]] == ["failed", "succeeded"]


@pytest.mark.parametrize("command", ["resume", "cancel", "status"])
def test_a_run_id_that_leaves_logs_is_refused(tmp_path: Path, command: str) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "logs" / "batch").mkdir(parents=True)  # as after any run
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "executed"
    (evil / "run.json").write_text(
        json.dumps(
            {
                "run_id": "evil",
                "engine": "local",
                "project_path": str(project),
                "started": "2026-01-01T00:00:00+00:00",
                "command": {
                    "argv": [sys.executable, "-c", f"open({str(marker)!r}, 'w')"],
                    "env": {},
                },
                "jobs": [{"name": "x", "job_id": "../../../../evil/x"}],
            }
        )
    )
    before = sorted(path.name for path in evil.iterdir())

    result = batch(project, command, "../../../evil", check=False)

    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert result.returncode != 0
    assert len(errors) == 1, result.stderr
    assert "'../../../evil'" in errors[0] and "not a run id" in errors[0]
    assert not marker.exists()
    assert sorted(path.name for path in evil.iterdir()) == before


def test_after_kill_9_runs_status_and_cancel_agree_and_leave_no_job_running(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "hold_report").touch()
    argv = [sys.executable, "-m", "kedro", *run_arguments(LOCAL_RUNNER)]
    with background_driver(
        argv, cwd=project, log=tmp_path / "driver.log", env=ENV
    ) as driver:
        wait_until(
            (project / "data" / "report_waiting").exists, "the report job", driver
        )
        (run_id,) = run_ids(project)
        os.kill(driver.pid, signal.SIGKILL)  # the driver only: its job runs on
        driver.wait(timeout=60)
        listed = json_of(batch(project, "runs", "--json").stdout)
        status = json_of(batch(project, "status", run_id, "--json").stdout)
        cancelled = batch(project, "cancel", run_id)
    after = json_of(batch(project, "status", run_id, "--json").stdout)
    listed_after = json_of(batch(project, "runs", "--json").stdout)

    (run,) = listed
    assert (run["state"], run["jobs_done"]) == (status["state"], status["jobs_done"])
    assert (run["jobs_done"], run["jobs_total"]) == (2, 3)
    assert f"Run {run_id} is cancelled: 1 unfinished job(s) cancelled" in (
        cancelled.stdout
    )
    assert "to run it again" not in cancelled.stdout + cancelled.stderr
    assert _alive_jobs(project, run_id) == []
    data = record(project, run_id)
    assert {job["job"]["name"]: job["state"] for job in data["jobs"]} == {
        "kedro-client_1": "SUCCEEDED",
        "kedro-client_2": "SUCCEEDED",
        "kedro-report": "CANCELLED",
    }
    assert after["state"] == listed_after[0]["state"] == "cancelled"


def test_after_ctrl_c_the_last_progress_line_counts_no_running_job(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "hold_report").touch()
    argv = [sys.executable, "-m", "kedro", *run_arguments(LOCAL_RUNNER)]
    log = tmp_path / "driver.log"
    with background_driver(argv, cwd=project, log=log, env=ENV) as driver:
        wait_until(
            (project / "data" / "report_waiting").exists, "the report job", driver
        )
        driver.send_signal(signal.SIGINT)
        driver.wait(timeout=120)
    output = log.read_text()

    progress = [line for line in output.splitlines() if " waiting, " in line]
    assert progress, output[-3000:]
    assert "0 running" in progress[-1] and "1 cancelled" in progress[-1], progress


def test_each_attempt_keeps_its_log_and_reason_and_status_shows_them(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "fail_report").touch()
    kedro_cli(project, *run_arguments(LOCAL_RUNNER), env=ENV, check=False)
    (run_id,) = run_ids(project)
    batch(project, "resume", run_id, env=ENV, check=False)
    (project / "data" / "fail_report").unlink()
    batch(project, "resume", run_id, env=ENV)

    status = json_of(batch(project, "status", run_id, "--json").stdout)
    text = batch(project, "status", run_id).stdout

    report = next(job for job in status["jobs"] if job["name"] == "kedro-report")
    attempts = report["attempts"]
    assert [(a["number"], a["driver"], a["state"]) for a in attempts] == [
        (1, 1, "FAILED"),
        (2, 2, "FAILED"),
        (3, 3, "SUCCEEDED"),
    ]
    logs = [Path(a["log"]) for a in attempts]
    assert len(set(logs)) == 3
    assert all("report was told to fail" in path.read_text() for path in logs[:2])
    assert "report was told to fail" not in logs[2].read_text()
    assert all("exited with code 1" in a["reason"] for a in attempts[:2])
    assert [d["state"] for d in status["drivers"]] == ["failed", "failed", "succeeded"]
    assert all(d["error"] for d in status["drivers"][:2])
    assert "Attempts of kedro-report:" in text
    print(text)


def test_resume_of_a_run_whose_command_needs_an_unset_secret_is_one_line(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "fail_report").touch()
    secret = {"KEDRO_BATCH_EXTRA_ENV": json.dumps({"API_TOKEN": "tok-9f8e7d6c5b"})}
    kedro_cli(project, *run_arguments(LOCAL_RUNNER), env={**ENV, **secret}, check=False)
    (run_id,) = run_ids(project)

    result = subprocess.run(
        [sys.executable, "-m", "kedro", "batch", "resume", run_id],
        cwd=project,
        env={
            key: value
            for key, value in os.environ.items()
            if key != "KEDRO_BATCH_EXTRA_ENV"
        },
        capture_output=True,
        text=True,
        timeout=300,
    )

    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert result.returncode != 0
    assert len(errors) == 1, result.stderr
    assert "refers to KEDRO_BATCH_EXTRA_ENV, which is not set" in errors[0]
