"""The sandbox runs array jobs as AWS Batch does.

Each test submits with boto3 over HTTP to moto's server on 127.0.0.1 and reads
back with DescribeJobs, ListJobs and CloudWatch Logs' GetLogEvents, as a user
(or the AWS engine) would. Children are ``<parent id>:<index>``; each runs the
job's command with ``AWS_BATCH_JOB_ARRAY_INDEX``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from kedro_pipelinename.sandbox.compute import (
    CONTAINER_EXITED,
    DEPENDENCY_FAILED,
    SandboxCompute,
)
from kedro_pipelinename.sandbox.logs import LOG_GROUP
from tests.support.aws import BatchWorld
from tests.support.waiting import wait_until

#: Batch's stream name of an attempt: <job definition name>/default/<ECS task id>.
STREAM = re.compile(r"^kedro-project/default/[0-9a-f]{32}$")
#: A shell loop a job uses to wait for a file the test makes (bounded: 2 min).
WAIT_FOR = "for n in $(seq 2400); do [ -e {path} ] && break; sleep 0.05; done"


@pytest.fixture
def compute(tmp_path: Path, batch_world: BatchWorld) -> Iterator[SandboxCompute]:
    with SandboxCompute(tmp_path).running() as running:
        yield running


def _submit(world: BatchWorld, script: str, **request: Any) -> str:
    job_id: str = world.client().submit_job(
        jobName="job",
        jobQueue=world.queue,
        jobDefinition=world.definition,
        containerOverrides={"command": ["sh", "-c", script]},
        **request,
    )["jobId"]
    return job_id


def _array(world: BatchWorld, script: str, size: int, **request: Any) -> str:
    return _submit(world, script, arrayProperties={"size": size}, **request)


def _describe(world: BatchWorld, *job_ids: str) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = world.client().describe_jobs(jobs=list(job_ids))[
        "jobs"
    ]
    by_id = {job["jobId"]: job for job in jobs}
    return [by_id[job_id] for job_id in job_ids]


def _finished(world: BatchWorld, job_id: str) -> dict[str, Any]:
    wait_until(
        lambda: _describe(world, job_id)[0]["status"] in ("SUCCEEDED", "FAILED"),
        f"job {job_id} ends",
    )
    return _describe(world, job_id)[0]


def _children(world: BatchWorld, array_id: str, size: int) -> list[dict[str, Any]]:
    return _describe(world, *(f"{array_id}:{i}" for i in range(size)))


def _listed(world: BatchWorld, **request: Any) -> list[str]:
    summaries = world.client().list_jobs(**request)["jobSummaryList"]
    return sorted(summary["jobId"] for summary in summaries)


def _log(world: BatchWorld, stream: str) -> list[str]:
    logs = boto3.client("logs", endpoint_url=world.endpoint, region_name=world.region)
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)
    return [event["message"] for event in events["events"]]


def _summary(**counts: int) -> dict[str, int]:
    statuses = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")
    return {**dict.fromkeys(statuses, 0), "SUCCEEDED": 0, "FAILED": 0, **counts}


@pytest.mark.usefixtures("compute")
def test_each_child_runs_the_command_with_its_index_and_its_own_log(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    array_id = _array(
        batch_world,
        f'echo "$AWS_BATCH_JOB_ID" > {tmp_path}/ran-$AWS_BATCH_JOB_ARRAY_INDEX; '
        'echo "child $AWS_BATCH_JOB_ARRAY_INDEX"',
        5,
    )

    parent = _finished(batch_world, array_id)
    children = _children(batch_world, array_id, 5)

    assert parent["status"] == "SUCCEEDED"
    assert parent["arrayProperties"] == {
        "size": 5,
        "statusSummary": _summary(SUCCEEDED=5),
    }
    assert parent["attempts"] == []
    assert [(tmp_path / f"ran-{i}").read_text() for i in range(5)] == [
        f"{array_id}:{i}\n" for i in range(5)
    ]
    assert [c["arrayProperties"] for c in children] == [{"index": i} for i in range(5)]
    assert [c["status"] for c in children] == ["SUCCEEDED"] * 5
    assert [c["container"]["exitCode"] for c in children] == [0] * 5
    streams = [c["container"]["logStreamName"] for c in children]
    assert all(STREAM.match(stream) for stream in streams)
    assert len(set(streams)) == 5
    assert [_log(batch_world, s) for s in streams] == [[f"child {i}"] for i in range(5)]


@pytest.mark.usefixtures("compute")
def test_a_failed_child_fails_the_array_and_list_jobs_finds_it_by_status(
    batch_world: BatchWorld,
) -> None:
    array_id = _array(batch_world, 'test "$AWS_BATCH_JOB_ARRAY_INDEX" != 2', 4)

    parent = _finished(batch_world, array_id)
    failed = _children(batch_world, array_id, 4)[2]
    listed = {
        status: _listed(batch_world, arrayJobId=array_id, jobStatus=status)
        for status in ("SUCCEEDED", "FAILED", "RUNNING")
    }
    in_queue = batch_world.client().list_jobs(jobQueue=batch_world.queue)

    assert parent["status"] == "FAILED"
    assert parent["arrayProperties"]["statusSummary"] == _summary(SUCCEEDED=3, FAILED=1)
    assert (failed["status"], failed["statusReason"]) == ("FAILED", CONTAINER_EXITED)
    assert failed["container"]["exitCode"] == 1
    assert listed == {
        "SUCCEEDED": [f"{array_id}:{i}" for i in (0, 1, 3)],
        "FAILED": [f"{array_id}:2"],
        "RUNNING": [],
    }
    # A queue lists the parent with its size; its children only by arrayJobId.
    assert [(s["jobId"], s["arrayProperties"]) for s in in_queue["jobSummaryList"]] == [
        (array_id, {"size": 4})
    ]
    assert _listed(batch_world, arrayJobId=array_id) == [
        f"{array_id}:{i}" for i in range(4)
    ]


@pytest.mark.usefixtures("compute")
def test_n_to_n_pairs_children_so_one_failure_fails_only_its_pair(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    first = _array(
        batch_world,
        'sleep 0.3; test "$AWS_BATCH_JOB_ARRAY_INDEX" != 1 && '
        f"touch {tmp_path}/first-$AWS_BATCH_JOB_ARRAY_INDEX",
        3,
    )
    second = _array(
        batch_world,
        f"test -e {tmp_path}/first-$AWS_BATCH_JOB_ARRAY_INDEX && "
        f"touch {tmp_path}/second-$AWS_BATCH_JOB_ARRAY_INDEX",
        3,
        dependsOn=[{"jobId": first, "type": "N_TO_N"}],
    )

    parent = _finished(batch_world, second)
    children = _children(batch_world, second, 3)

    assert [c["status"] for c in children] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert children[1]["statusReason"] == DEPENDENCY_FAILED
    assert children[1]["attempts"] == []
    assert sorted(p.name for p in tmp_path.glob("second-*")) == [
        "second-0",
        "second-2",
    ]
    assert parent["status"] == "FAILED"


@pytest.mark.usefixtures("compute")
def test_n_to_n_between_arrays_of_two_sizes_is_refused(
    batch_world: BatchWorld,
) -> None:
    first = _array(batch_world, "true", 3)

    with pytest.raises(ClientError) as refused:
        _array(batch_world, "true", 4, dependsOn=[{"jobId": first, "type": "N_TO_N"}])

    assert refused.value.response["Error"]["Code"] == "ClientException"
    assert "3 children, this job 4" in refused.value.response["Error"]["Message"]
    assert _listed(batch_world, jobQueue=batch_world.queue) == [first]


@pytest.mark.parametrize("size", [1, 10_001])
@pytest.mark.usefixtures("compute")
def test_an_array_size_outside_2_to_10000_is_refused(
    batch_world: BatchWorld, size: int
) -> None:
    with pytest.raises(ClientError) as refused:
        _array(batch_world, "true", size)

    assert refused.value.response["Error"]["Code"] == "ClientException"
    assert f"not {size}" in refused.value.response["Error"]["Message"]
    assert _listed(batch_world, jobQueue=batch_world.queue) == []


@pytest.mark.usefixtures("compute")
def test_a_job_after_an_array_waits_for_every_child(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    array_id = _array(
        batch_world,
        "sleep 0.$AWS_BATCH_JOB_ARRAY_INDEX; "
        f"touch {tmp_path}/done-$AWS_BATCH_JOB_ARRAY_INDEX",
        3,
    )
    after = _submit(
        batch_world,
        " && ".join(f"test -e {tmp_path}/done-{i}" for i in range(3)),
        dependsOn=[{"jobId": array_id}],
    )
    failing = _array(batch_world, 'test "$AWS_BATCH_JOB_ARRAY_INDEX" = 0', 2)
    after_failing = _submit(
        batch_world, f"touch {tmp_path}/ran", dependsOn=[{"jobId": failing}]
    )

    assert _finished(batch_world, after)["status"] == "SUCCEEDED"
    job = _finished(batch_world, after_failing)
    assert (job["status"], job["statusReason"]) == ("FAILED", DEPENDENCY_FAILED)
    assert not (tmp_path / "ran").exists()


@pytest.mark.usefixtures("compute")
def test_a_job_after_one_child_waits_for_that_child_only(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    array_id = _array(
        batch_world,
        'if [ "$AWS_BATCH_JOB_ARRAY_INDEX" = 0 ]; then '
        f"{WAIT_FOR.format(path=tmp_path / 'go')}; fi",
        2,
    )
    after = _submit(batch_world, "true", dependsOn=[{"jobId": f"{array_id}:1"}])

    job = _finished(batch_world, after)
    still = _describe(batch_world, f"{array_id}:0", array_id)
    (tmp_path / "go").touch()

    assert job["status"] == "SUCCEEDED"
    assert [j["status"] for j in still] == ["RUNNING", "PENDING"]
    assert _finished(batch_world, array_id)["status"] == "SUCCEEDED"


@pytest.mark.usefixtures("compute")
def test_sequential_children_run_one_after_the_other(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    order = tmp_path / "order"
    order.touch()
    array_id = _array(
        batch_world,
        # Each child finds exactly the children before it in the file.
        f'test "$(wc -l < {order})" = "$AWS_BATCH_JOB_ARRAY_INDEX" && '
        f'sleep 0.3 && echo "$AWS_BATCH_JOB_ARRAY_INDEX" >> {order}',
        3,
        dependsOn=[{"type": "SEQUENTIAL"}],
    )

    assert _finished(batch_world, array_id)["status"] == "SUCCEEDED"
    assert order.read_text().split() == ["0", "1", "2"]


@pytest.mark.usefixtures("compute")
def test_terminating_the_parent_stops_every_unfinished_child(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    # Child 0 runs, 1 and 2 wait for it (SEQUENTIAL).
    array_id = _array(
        batch_world,
        f"touch {tmp_path}/started-$AWS_BATCH_JOB_ARRAY_INDEX; sleep 600",
        3,
        dependsOn=[{"type": "SEQUENTIAL"}],
    )
    wait_until((tmp_path / "started-0").exists, "child 0 started")

    batch_world.client().terminate_job(jobId=array_id, reason="stopped by the test")
    parent = _finished(batch_world, array_id)
    children = _children(batch_world, array_id, 3)

    assert parent["status"] == "FAILED"
    assert [(c["status"], c["statusReason"]) for c in children] == [
        ("FAILED", "stopped by the test")
    ] * 3
    assert [len(c["attempts"]) for c in children] == [1, 0, 0]
    assert sorted(p.name for p in tmp_path.glob("started-*")) == ["started-0"]


@pytest.mark.usefixtures("compute")
def test_cancelling_the_parent_cancels_the_children_not_started(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    array_id = _array(
        batch_world,
        f"touch {tmp_path}/started-$AWS_BATCH_JOB_ARRAY_INDEX; "
        f"{WAIT_FOR.format(path=tmp_path / 'go')}",
        3,
        dependsOn=[{"type": "SEQUENTIAL"}],
    )
    wait_until((tmp_path / "started-0").exists, "child 0 started")

    batch_world.client().cancel_job(jobId=array_id, reason="cancelled by the test")
    (tmp_path / "go").touch()
    parent = _finished(batch_world, array_id)
    children = _children(batch_world, array_id, 3)

    assert parent["status"] == "FAILED"
    assert children[0]["status"] == "SUCCEEDED"
    assert [(c["status"], c["statusReason"]) for c in children[1:]] == [
        ("FAILED", "cancelled by the test")
    ] * 2


@pytest.mark.usefixtures("compute")
def test_terminating_one_child_stops_that_child_only(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    array_id = _array(
        batch_world,
        f"touch {tmp_path}/started-$AWS_BATCH_JOB_ARRAY_INDEX; "
        f"{WAIT_FOR.format(path=tmp_path / 'go')}",
        2,
    )
    wait_until(
        lambda: len(list(tmp_path.glob("started-*"))) == 2, "both children started"
    )

    batch_world.client().terminate_job(jobId=f"{array_id}:0", reason="only child 0")
    stopped = _finished(batch_world, f"{array_id}:0")
    other, parent = _describe(batch_world, f"{array_id}:1", array_id)
    (tmp_path / "go").touch()

    assert (stopped["status"], stopped["statusReason"]) == ("FAILED", "only child 0")
    assert other["status"] == "RUNNING"
    # A parent finishes only with its last child (AWS: PENDING until then).
    assert parent["status"] == "PENDING"
    assert parent["arrayProperties"]["statusSummary"] == _summary(RUNNING=1, FAILED=1)
    assert _finished(batch_world, f"{array_id}:1")["status"] == "SUCCEEDED"
    assert _finished(batch_world, array_id)["status"] == "FAILED"


@pytest.mark.usefixtures("compute")
def test_each_child_has_its_own_attempts_and_retries(
    batch_world: BatchWorld,
) -> None:
    # Child 1 fails its first attempt; child 0 succeeds at once.
    array_id = _array(
        batch_world,
        'echo "attempt $AWS_BATCH_JOB_ATTEMPT"; '
        'test "$AWS_BATCH_JOB_ARRAY_INDEX" = 0 || test "$AWS_BATCH_JOB_ATTEMPT" = 2',
        2,
        retryStrategy={"attempts": 2},
    )

    parent = _finished(batch_world, array_id)
    children = _children(batch_world, array_id, 2)

    assert parent["status"] == "SUCCEEDED"
    assert [[a["container"]["exitCode"] for a in c["attempts"]] for c in children] == [
        [0],
        [1, 0],
    ]
    streams = [a["container"]["logStreamName"] for a in children[1]["attempts"]]
    assert [_log(batch_world, s) for s in streams] == [["attempt 1"], ["attempt 2"]]


def test_children_beyond_the_slots_wait_runnable_for_a_free_one(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    # Two children running at once: the second fails to make the lock directory.
    lock = tmp_path / "lock"
    script = (
        f"mkdir {lock} && touch {tmp_path}/started-$AWS_BATCH_JOB_ARRAY_INDEX && "
        f"{WAIT_FOR.format(path=tmp_path / 'go')} && rmdir {lock}"
    )
    with SandboxCompute(tmp_path, slots=1).running():
        array_id = _array(batch_world, script, 3)
        wait_until(lambda: any(tmp_path.glob("started-*")), "a child started")
        snapshot = sorted(c["status"] for c in _children(batch_world, array_id, 3))
        (tmp_path / "go").touch()
        parent = _finished(batch_world, array_id)

    assert snapshot == ["RUNNABLE", "RUNNABLE", "RUNNING"]
    assert parent["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 3
