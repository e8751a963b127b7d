"""The sandbox's compute does what AWS Batch does and the engine relies on.

Each test submits jobs with boto3 over HTTP to moto's server on 127.0.0.1 and
reads them back with DescribeJobs and CloudWatch Logs' GetLogEvents, as a user
(or the AWS engine) would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from kedro_pipelinename.sandbox.compute import (
    CONTAINER_EXITED,
    DEPENDENCY_FAILED,
    TIMED_OUT,
    SandboxCompute,
)
from kedro_pipelinename.sandbox.logs import LOG_GROUP
from kedro_pipelinename.sandbox.resources import create_batch_resources
from tests.support.aws import MOTO_REGION, BatchWorld, reset_moto
from tests.support.waiting import wait_until

#: Batch's stream name of an attempt: <job definition name>/default/<ECS task id>.
STREAM = re.compile(r"^kedro-project/default/[0-9a-f]{32}$")


@pytest.fixture
def compute(tmp_path: Path, batch_world: BatchWorld) -> Iterator[SandboxCompute]:
    with SandboxCompute(tmp_path).running() as running:
        yield running


def _submit(world: BatchWorld, command: list[str], **request: Any) -> str:
    job_id: str = world.client().submit_job(
        jobName="job",
        jobQueue=world.queue,
        jobDefinition=world.definition,
        containerOverrides={"command": command},
        **request,
    )["jobId"]
    return job_id


def _finished(world: BatchWorld, job_id: str) -> dict[str, Any]:
    client = world.client()

    def describe() -> dict[str, Any]:
        job: dict[str, Any] = client.describe_jobs(jobs=[job_id])["jobs"][0]
        return job

    wait_until(
        lambda: describe()["status"] in ("SUCCEEDED", "FAILED"), f"job {job_id} ends"
    )
    return describe()


def _log(world: BatchWorld, stream: str) -> list[str]:
    logs = boto3.client("logs", endpoint_url=world.endpoint, region_name=world.region)
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)
    return [event["message"] for event in events["events"]]


def _sh(script: str) -> list[str]:
    return ["sh", "-c", script]


@pytest.mark.usefixtures("compute")
def test_a_failed_attempt_is_retried_and_every_attempt_is_listed_with_its_log(
    batch_world: BatchWorld,
) -> None:
    job_id = _submit(
        batch_world,
        _sh('echo "attempt $AWS_BATCH_JOB_ATTEMPT"; exit 3'),
        retryStrategy={"attempts": 3},
    )

    job = _finished(batch_world, job_id)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == CONTAINER_EXITED
    attempts = job["attempts"]
    assert [a["container"]["exitCode"] for a in attempts] == [3, 3, 3]
    streams = [a["container"]["logStreamName"] for a in attempts]
    assert all(STREAM.match(stream) for stream in streams)
    assert len(set(streams)) == 3  # one ECS task, so one stream, per attempt
    assert job["container"]["logStreamName"] == streams[-1]
    assert [_log(batch_world, s) for s in streams] == [
        ["attempt 1"],
        ["attempt 2"],
        ["attempt 3"],
    ]


@pytest.mark.usefixtures("compute")
def test_a_job_that_fails_once_succeeds_on_its_retry(batch_world: BatchWorld) -> None:
    job_id = _submit(
        batch_world,
        _sh('test "$AWS_BATCH_JOB_ATTEMPT" = 2'),
        retryStrategy={"attempts": 2},
    )

    job = _finished(batch_world, job_id)

    assert job["status"] == "SUCCEEDED"
    assert [a["container"]["exitCode"] for a in job["attempts"]] == [1, 0]


@pytest.mark.usefixtures("compute")
def test_an_exit_rule_of_evaluate_on_exit_stops_the_retries(
    batch_world: BatchWorld,
) -> None:
    job_id = _submit(
        batch_world,
        _sh("exit 3"),
        retryStrategy={
            "attempts": 3,
            "evaluateOnExit": [
                {"onExitCode": "1", "action": "RETRY"},
                {"onExitCode": "3", "action": "EXIT"},
            ],
        },
    )

    job = _finished(batch_world, job_id)

    assert job["status"] == "FAILED"
    assert len(job["attempts"]) == 1


@pytest.mark.usefixtures("compute")
def test_an_attempt_longer_than_its_timeout_is_stopped(
    batch_world: BatchWorld,
) -> None:
    # AWS wants 60 s at least; moto does not check, and a test cannot wait.
    job_id = _submit(
        batch_world, ["sleep", "600"], timeout={"attemptDurationSeconds": 1}
    )

    job = _finished(batch_world, job_id)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == TIMED_OUT
    assert len(job["attempts"]) == 1


@pytest.mark.usefixtures("compute")
def test_a_child_of_a_failed_job_fails_without_running(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    parent = _submit(batch_world, _sh("exit 1"))
    child = _submit(
        batch_world, ["touch", str(tmp_path / "ran")], dependsOn=[{"jobId": parent}]
    )

    job = _finished(batch_world, child)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == DEPENDENCY_FAILED
    assert job["attempts"] == []
    assert not (tmp_path / "ran").exists()


@pytest.mark.usefixtures("compute")
def test_a_child_runs_after_its_parent_succeeded(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    marker = tmp_path / "parent-done"
    parent = _submit(batch_world, _sh(f"sleep 0.5; touch {marker}"))
    child = _submit(
        batch_world, _sh(f"test -e {marker}"), dependsOn=[{"jobId": parent}]
    )

    assert _finished(batch_world, child)["status"] == "SUCCEEDED"


@pytest.mark.usefixtures("compute")
def test_terminate_job_stops_a_running_job(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    job_id = _submit(batch_world, _sh(f"touch {tmp_path / 'started'}; sleep 600"))
    wait_until((tmp_path / "started").exists, "the job started")

    batch_world.client().terminate_job(jobId=job_id, reason="stopped by the test")
    job = _finished(batch_world, job_id)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == "stopped by the test"


def test_a_name_revision_job_definition_resolves_and_runs(
    moto_endpoint: str, aws_environment: None, tmp_path: Path
) -> None:
    reset_moto(moto_endpoint)
    made = create_batch_resources(
        moto_endpoint, MOTO_REGION, queue="q", definition="clients:2"
    )
    world = BatchWorld(
        endpoint=made.endpoint, region=made.region, queue="q", definition="clients:2"
    )
    client = world.client()

    with SandboxCompute(tmp_path).running():
        # What the AWS engine's pre-flight asks for a name:revision.
        found = client.describe_job_definitions(jobDefinitions=["clients:2"])
        job_id = _submit(world, ["true"])
        job = _finished(world, job_id)

    assert [
        (d["jobDefinitionName"], d["revision"]) for d in found["jobDefinitions"]
    ] == [("clients", 2)]
    assert job["status"] == "SUCCEEDED"
    assert job["jobDefinition"].endswith(":job-definition/clients:2")
