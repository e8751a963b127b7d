"""``kedro batch`` on AWS Batch: moto's server, with ``MotoCompute`` running jobs.

The driver is a ``kedro run`` subprocess talking to moto's server in this
process; ``MotoCompute`` (``tests/engines``) runs each job's container command
as a process in the project, honouring ``dependsOn`` and ``TerminateJob``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kedro_pipelinename.batch.record_model import parse_record
from kedro_pipelinename.batch.record_store import write_record
from kedro_pipelinename.commands.live import ask_engine
from tests.support.aws import BatchWorld, StrictLimits
from tests.support.cli import kedro_cli
from tests.support.commands_project import (
    AWS_RUNNER,
    EXPECTED_OUTPUTS,
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
from tests.support.moto_compute import MotoCompute
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_commands_project(tmp_path / "proj")


@pytest.fixture
def compute(project: Path, batch_world: BatchWorld) -> Iterator[MotoCompute]:
    with MotoCompute(project).running() as running:
        yield running


def _env(world: BatchWorld) -> dict[str, str]:
    return {
        "KEDRO_BATCH_ENDPOINT_URL": world.endpoint,
        "KEDRO_BATCH_POLL_INTERVAL": "0.1",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5",
        "KEDRO_BATCH_LOOKUP_DELAY": "0",
        # The container command: this interpreter's Kedro, in the project.
        "KEDRO_BATCH_EXECUTABLE": f"{sys.executable} -m kedro",
    }


def test_runs_and_status_on_aws_and_an_unreachable_engine(
    project: Path, compute: MotoCompute, batch_world: BatchWorld
) -> None:
    kedro_cli(project, *run_arguments(AWS_RUNNER), env=_env(batch_world))
    (run_id,) = run_ids(project)

    listed = json_of(batch(project, "runs", "--json").stdout)
    status = json_of(batch(project, "status", run_id, "--json").stdout)

    assert outputs(project) == EXPECTED_OUTPUTS
    assert [(run["run_id"], run["engine"], run["state"]) for run in listed] == [
        (run_id, "aws", "succeeded")
    ]
    # Each planned job with its own Batch job: the two clients are children
    # of one array job, the report a job of its own.
    assert sorted(job["name"] for job in status["jobs"]) == [
        "kedro-client_1",
        "kedro-client_2",
        "kedro-report",
    ]
    assert {job["job_id"] for job in status["jobs"]} == batch_world.running_ids()
    assert {job["state"] for job in status["jobs"]} == {"SUCCEEDED"}
    assert all("CloudWatch" in job["log"] for job in status["jobs"])
    _assert_unreachable_engine_is_one_line_and_changes_nothing(project, run_id)


def _assert_unreachable_engine_is_one_line_and_changes_nothing(
    project: Path, run_id: str
) -> None:
    path = project / "logs" / "batch" / run_id / "run.json"
    data = json.loads(path.read_text())
    # As if its driver was killed: status asks the engine, which is gone.
    data["state"] = "running"
    # Nothing listens on port 9; one try, so the refusal is quick.
    data["engine_settings"].update(
        endpoint_url="http://127.0.0.1:9", api_max_attempts=1
    )
    path.write_text(json.dumps(data))
    before = path.read_bytes()

    result = batch(project, "status", run_id, check=False)

    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.returncode != 0
    assert len(errors) == 1
    assert f"Could not ask AWS Batch queue kedro-queue about run {run_id}" in errors[0]
    assert path.read_bytes() == before


def test_cancel_on_aws_terminates_the_run_and_the_driver_exits(
    project: Path, compute: MotoCompute, batch_world: BatchWorld, start_driver: Any
) -> None:
    (project / "data" / "hold_report").touch()
    driver = start_driver(project, *run_arguments(AWS_RUNNER), env=_env(batch_world))
    wait_until((project / "data" / "report_waiting").exists, "the report job to run")
    (run_id,) = run_ids(project)

    batch(project, "cancel", run_id)
    output, _ = driver.communicate(timeout=120)
    wait_until(lambda: compute.alive() == 0, "the job processes to end")

    assert driver.returncode != 0
    assert f"Run {run_id} was stopped: cancelled by `kedro batch cancel`" in output
    # The two clients ran as one array job.
    assert {job["jobName"]: job["status"] for job in batch_world.jobs()} == {
        "kedro-client_1-and-1-more": "SUCCEEDED",
        "kedro-report": "FAILED",
    }
    assert record(project, run_id)["state"] == "cancelled"


def test_resume_on_aws_reruns_only_the_failed_job(
    project: Path, compute: MotoCompute, batch_world: BatchWorld
) -> None:
    (project / "data" / "fail_report").touch()
    failed = kedro_cli(
        project, *run_arguments(AWS_RUNNER), env=_env(batch_world), check=False
    )
    (run_id,) = run_ids(project)
    (project / "data" / "fail_report").unlink()

    batch(project, "resume", run_id)

    assert failed.returncode != 0
    assert outputs(project) == EXPECTED_OUTPUTS
    assert node_runs(project) == sorted([*ONE_RUN_OF_EACH_NODE, ("report", None)])
    # The clients' array once (adopted by the resume), the report twice.
    assert Counter(job["jobName"] for job in batch_world.jobs()) == {
        "kedro-client_1-and-1-more": 1,
        "kedro-report": 2,
    }
    assert record(project, run_id)["state"] == "succeeded"


def test_status_of_500_aws_jobs_costs_five_describe_jobs(
    tmp_path: Path, batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = batch_world.client()
    ids = [
        client.submit_job(
            jobName=f"kedro-job-{index}",
            jobQueue=batch_world.queue,
            jobDefinition=batch_world.definition,
        )["jobId"]
        for index in range(500)
    ]
    record_data = {
        "run_id": "2026-01-01T00.00.00.000Z",
        "engine": "aws",
        "engine_label": "AWS Batch queue kedro-queue",
        "project_path": str(tmp_path),
        "pipeline_names": ["train"],
        "settings": {},
        "engine_settings": {
            "job_queue": batch_world.queue,
            "job_definition": batch_world.definition,
            "endpoint_url": batch_world.endpoint,
        },
        "jobs": [
            {"name": f"kedro-job-{index}", "nodes": [f"n{index}"], "job_id": job_id}
            for index, job_id in enumerate(ids)
        ],
    }
    run = parse_record(record_data)  # a format-1 record, migrated
    write_record(tmp_path, run)
    limits = StrictLimits()
    import kedro_pipelinename.engines.aws.engine as aws_engine

    original = aws_engine.make_client  # type: ignore[attr-defined]
    monkeypatch.setattr(
        aws_engine, "make_client", lambda settings: limits.install(original(settings))
    )

    view = ask_engine(run)

    assert {job.state for job in view.jobs} == {"SUCCEEDED"}
    assert dict(limits.calls) == {"DescribeJobs": 5}  # no pre-flight call
    assert limits.describe_sizes == [100] * 5
    print(f"status of 500 AWS jobs: {dict(limits.calls)}")
