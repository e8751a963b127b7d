"""Run records on S3 (``record_uri: s3://bucket/prefix``): real drivers and the
real ``kedro batch`` commands against moto's S3 server on 127.0.0.1, and the
lease's conditional writes (moto honours ``IfNoneMatch`` and ``IfMatch`` on
PutObject with a 412, as S3 does)."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from kedro_pipelinename.batch.lease import LeaseHeld
from kedro_pipelinename.batch.record_model import RecordError
from kedro_pipelinename.batch.s3_store import S3Store, check_conditional_writes
from tests.support.aws import MOTO_REGION, BatchWorld
from tests.support.background import background_driver
from tests.support.batch_project import write_batch_project
from tests.support.cli import kedro_cli, pipelines_flag
from tests.support.commands_project import (
    AWS_RUNNER,
    EXPECTED_OUTPUTS,
    LOCAL_RUNNER,
    ONE_RUN_OF_EACH_NODE,
    batch,
    json_of,
    node_runs,
    outputs,
    run_arguments,
    write_commands_project,
)
from tests.support.moto_compute import MotoCompute
from tests.support.recorded import HOLD, record_node_runs
from tests.support.recorded import node_runs as recorded_node_runs
from tests.support.waiting import DEADLINE, wait_until

RUN_ID = "2026-01-02T03.04.05.678Z"
OLD_HEARTBEAT = "2020-01-01T00:00:00.000000+00:00"


#: ``report`` says it started (``data/report_started``), then waits for
#: ``data/release`` (bounded).
HELD_REPORT = (
    HOLD
    + """

_report = report


def report(first, second):
    hold("report")
    return _report(first, second)
"""
)


def _bucket(endpoint: str) -> Any:
    """An S3 client of moto's server, with a fresh bucket (``.test_bucket``)."""
    client = boto3.client("s3", endpoint_url=endpoint, region_name=MOTO_REGION)
    bucket = f"runs-{uuid.uuid4().hex[:12]}"
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    client.test_bucket = bucket
    return client


@pytest.fixture
def s3(moto_endpoint: str, aws_environment: None) -> Any:
    """An S3 client of moto's server, with a fresh bucket."""
    return _bucket(moto_endpoint)


def _env(s3: Any, moto_endpoint: str) -> dict[str, str]:
    return {
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5",
        "KEDRO_BATCH_POLL_INTERVAL": "0.1",
        "KEDRO_BATCH_RECORD_URI": f"s3://{s3.test_bucket}/team/runs",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }


def _object(s3: Any, name: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=s3.test_bucket, Key=f"team/runs/{RUN_ID}/{name}")
    except s3.exceptions.NoSuchKey:
        return None
    data: dict[str, Any] = json.loads(body["Body"].read())
    return data


def _remote_holder(heartbeat: str) -> str:
    return json.dumps(
        {
            "host": "another-host",
            "pid": 4242,
            "start": "1",
            "since": OLD_HEARTBEAT,
            "heartbeat": heartbeat,
            "timeout": 60.0,
        }
    )


@pytest.mark.slow
def test_two_drivers_sharing_an_s3_store_one_refuses_and_any_project_sees_the_run(
    tmp_path: Path, start_driver: Any, s3: Any, moto_endpoint: str
) -> None:
    project = write_commands_project(tmp_path / "proj")
    elsewhere = write_commands_project(tmp_path / "elsewhere")
    env = {**_env(s3, moto_endpoint), "KEDRO_PIPELINENAME_RUN_ID": RUN_ID}
    (project / "data" / "hold_report").touch()
    first = start_driver(project, *run_arguments(LOCAL_RUNNER), env=env)
    wait_until((project / "data" / "report_waiting").exists, "the report job to run")
    lease = _object(s3, "lease")

    second = kedro_cli(project, *run_arguments(LOCAL_RUNNER), env=env, check=False)
    runs = batch(elsewhere, "runs", "--json", env=env)
    status = batch(elsewhere, "status", RUN_ID, "--json", env=env)
    (project / "data" / "hold_report").unlink()
    output, _ = first.communicate(timeout=120)

    assert lease is not None and lease["pid"] == first.pid
    assert second.returncode != 0
    assert (
        f"Run {RUN_ID} is held by another driver (pid {first.pid} on {lease['host']} "
        f"since {lease['since']}, last heartbeat"
    ) in second.stdout + second.stderr
    assert [run["run_id"] for run in json_of(runs.stdout)] == [RUN_ID]
    assert json_of(status.stdout)["state"] == "running"
    assert first.returncode == 0, output[-3000:]
    assert outputs(project) == EXPECTED_OUTPUTS
    assert node_runs(project) == ONE_RUN_OF_EACH_NODE
    data = _object(s3, "run.json")
    assert data is not None
    assert (data["state"], [d["pid"] for d in data["drivers"]]) == (
        "succeeded",
        [first.pid],
    )
    assert not (project / "logs" / "batch").exists()  # the records are on S3
    assert _object(s3, "lease") is None  # released when the driver ended
    done = batch(elsewhere, "status", RUN_ID, "--json", env=env)
    assert json_of(done.stdout)["state"] == "succeeded"


@pytest.mark.slow
def test_cancel_from_another_project_stops_a_live_run_through_the_s3_store(
    tmp_path: Path, start_driver: Any, s3: Any, moto_endpoint: str
) -> None:
    project = write_commands_project(tmp_path / "proj")
    elsewhere = write_commands_project(tmp_path / "elsewhere")
    env = {**_env(s3, moto_endpoint), "KEDRO_PIPELINENAME_RUN_ID": RUN_ID}
    (project / "data" / "hold_report").touch()
    driver = start_driver(project, *run_arguments(LOCAL_RUNNER), env=env)
    wait_until((project / "data" / "report_waiting").exists, "the report job to run")

    cancelled = batch(elsewhere, "cancel", RUN_ID, env=env)
    output, _ = driver.communicate(timeout=120)

    assert driver.returncode != 0
    assert f"Run {RUN_ID} was stopped: cancelled by `kedro batch cancel`" in output
    assert (
        f"Run {RUN_ID} is cancelled: its driver cancelled 1 unfinished job(s)"
        in cancelled.stdout
    )
    data = _object(s3, "run.json")
    assert data is not None and data["state"] == "cancelled"
    assert {job["job"]["name"]: job["state"] for job in data["jobs"]} == {
        "kedro-client_1": "SUCCEEDED",
        "kedro-client_2": "SUCCEEDED",
        "kedro-report": "CANCELLED",
    }


@pytest.mark.slow
def test_two_aws_batch_drivers_sharing_an_s3_store_run_each_job_once(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    s3 = _bucket(batch_world.endpoint)  # after batch_world's reset of moto
    project = write_batch_project(tmp_path / "proj")
    record_node_runs(project)
    nodes = project / "src" / "proj" / "nodes.py"
    nodes.write_text(nodes.read_text() + HELD_REPORT)
    elsewhere = write_commands_project(tmp_path / "elsewhere")
    env = {
        **_env(s3, batch_world.endpoint),
        "KEDRO_PIPELINENAME_RUN_ID": RUN_ID,
        "KEDRO_BATCH_ENDPOINT_URL": batch_world.endpoint,
        # The jobs' `kedro` is this interpreter's (PATH may have another).
        "KEDRO_BATCH_EXECUTABLE": str(Path(sys.executable).parent / "kedro"),
        "KEDRO_BATCH_LOOKUP_DELAY": "0.2",
    }
    argv = [
        "run",
        f"{pipelines_flag()}=train",
        "--env=batch_env",
        "--params=smoothing=2.0",
        f"--runner={AWS_RUNNER}",
    ]
    started = project / "data" / "report_started"

    with MotoCompute(project).running():
        log = tmp_path / "first.log"
        with background_driver(
            [sys.executable, "-m", "kedro", *argv], cwd=project, log=log, env=env
        ) as first:
            wait_until(started.exists, "the report job started", first)
            second = kedro_cli(project, *argv, env=env, check=False)
            runs = batch(elsewhere, "runs", "--json", env=env)
            (project / "data" / "release").write_text("")
            first.wait(timeout=DEADLINE)
        output = log.read_text()

    assert second.returncode != 0
    assert f"Run {RUN_ID} is held by another driver (pid {first.pid} on " in (
        second.stdout + second.stderr
    )
    assert [run["run_id"] for run in json_of(runs.stdout)] == [RUN_ID]
    assert first.returncode == 0, output[-3000:]
    # One Batch job per planned job, the clients' as one array job.
    assert sorted(job["jobName"] for job in batch_world.jobs()) == [
        "kedro-client_1-and-1-more",
        "kedro-report",
    ]
    assert recorded_node_runs(project) == {
        "client_1.prepare": 1,
        "client_1.fit": 1,
        "client_2.prepare": 1,
        "client_2.fit": 1,
        "report": 1,
    }
    data = _object(s3, "run.json")
    assert data is not None and data["state"] == "succeeded"
    assert [driver["pid"] for driver in data["drivers"]] == [first.pid]


@pytest.mark.slow
def test_a_stale_s3_lease_is_taken_over_and_the_takeover_logged(
    tmp_path: Path, s3: Any, moto_endpoint: str
) -> None:
    project = write_commands_project(tmp_path / "proj")
    s3.put_object(
        Bucket=s3.test_bucket,
        Key=f"team/runs/{RUN_ID}/lease",
        Body=_remote_holder(OLD_HEARTBEAT).encode(),
    )
    env = {**_env(s3, moto_endpoint), "KEDRO_PIPELINENAME_RUN_ID": RUN_ID}

    result = kedro_cli(project, *run_arguments(LOCAL_RUNNER), env=env, check=False)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert (
        f"Took over the lease of run {RUN_ID} from pid 4242 on another-host since "
        f"{OLD_HEARTBEAT}, last heartbeat {OLD_HEARTBEAT}: its heartbeat is too old."
    ) in " ".join(output.split())
    assert node_runs(project) == ONE_RUN_OF_EACH_NODE
    assert _object(s3, "lease") is None


def test_a_remote_holder_with_a_fresh_heartbeat_keeps_the_s3_lease(
    s3: Any, moto_endpoint: str
) -> None:
    from kedro_pipelinename.batch.record_model import now

    store = S3Store.from_uri(f"s3://{s3.test_bucket}/team/runs", client=s3)
    lease = store.lease(RUN_ID, timeout=60.0, purpose="this driver")
    lease.acquire()
    # Another host takes the lease over (say, this driver stalled past its timeout).
    s3.put_object(
        Bucket=s3.test_bucket,
        Key=f"team/runs/{RUN_ID}/lease",
        Body=_remote_holder(now()).encode(),
    )
    lease.renew()  # IfMatch on our last ETag: 412

    other = store.lease(RUN_ID, timeout=60.0, purpose="this driver")
    with pytest.raises(LeaseHeld, match="pid 4242 on another-host"):
        other.acquire()
    assert (lease.holding, other.holding) == (False, False)
    holder = store.read_holder(RUN_ID)
    assert holder is not None and holder.host == "another-host"


def test_an_s3_store_is_refused_where_botocore_cannot_write_conditionally() -> None:
    # botocore 1.29 (CI's aws_floor): PutObject has neither parameter.
    members = {"Bucket": None, "Key": None, "Body": None}

    with pytest.raises(RecordError) as refused:
        check_conditional_writes(members)

    message = str(refused.value)
    assert "Batch setting 'record_uri' is an s3:// URI" in message
    assert "cannot make S3 conditional writes" in message
    assert "no IfNoneMatch or IfMatch" in message
    assert "pip install -U boto3 botocore" in message
    check_conditional_writes()  # the botocore installed here has both


@pytest.mark.slow
def test_the_commands_refuse_a_record_uri_that_is_not_s3(tmp_path: Path) -> None:
    project = write_commands_project(tmp_path / "proj")

    result = batch(
        project, "runs", env={"KEDRO_BATCH_RECORD_URI": "/shared/runs"}, check=False
    )

    assert result.returncode != 0
    assert "Batch setting 'record_uri' must be an s3://bucket/prefix URI" in (
        result.stderr
    )
    assert "'/shared/runs'" in result.stderr


def test_an_unreachable_s3_store_is_one_line_naming_it(s3: Any) -> None:
    store = S3Store.from_uri("s3://no-such-bucket-here/runs", client=s3)

    with pytest.raises(RecordError) as refused:
        store.list_records()

    message = str(refused.value)
    assert message.startswith(
        "The run records at s3://no-such-bucket-here/runs cannot be reached:"
    )
    assert "NoSuchBucket" in message
