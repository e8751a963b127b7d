"""The AWS Batch backend and the driver against moto's server (no docker).

Every client asserts the AWS limits moto does not enforce (``StrictLimits``):
job-name pattern, <= 20 dependsOn, <= 100 ids per DescribeJobs, <= 50 tags.
"""

from __future__ import annotations

import os
import time
import urllib.request
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import Submission
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from tests.support.aws import AWS_JOB_NAME, BatchWorld, StrictLimits
from tests.support.plans import RUN_ID, plan_of, planned, wide_dag

FAST = BatchSettings(poll_interval=0.01, max_poll_interval=0.05)


def _backend(
    world: BatchWorld, limits: StrictLimits, **settings: Any
) -> AWSBatchEngine:
    return AWSBatchEngine(
        world.settings(**settings), RUN_ID, client=world.client(limits)
    )


def _busiest_second(times: list[float]) -> int:
    return max(
        (sum(1 for t in times if start <= t < start + 1.0) for start in times),
        default=0,
    )


def _sent_times(engine: AWSBatchEngine, path: str) -> list[float]:
    """When each request to ``path`` (``/v1/submitjob``) went on the wire: after
    the engine's rate limit let it go (handlers run in registration order)."""
    times: list[float] = []

    def record(request: Any, **_: Any) -> None:
        if request.url.endswith(path):
            times.append(time.monotonic())

    engine.client.meta.events.register("before-send.batch", record)
    return times


def test_500_job_dag_runs_within_every_aws_batch_limit(batch_world: BatchWorld) -> None:
    limits = StrictLimits()
    backend = _backend(batch_world, limits)
    sent = _sent_times(backend, "/v1/submitjob")
    plan = wide_dag(500, fan_in=30)

    outcome = Driver(plan, backend, FAST, LogProgress()).run()

    assert outcome.ok
    assert limits.violations == []
    jobs = {job["jobName"]: job for job in batch_world.jobs()}
    assert len(jobs) == 500
    assert all(AWS_JOB_NAME.match(name) for name in jobs)
    # Submitted up front: every job of the second layer names its 3 parents.
    assert len(jobs["job-0050"]["dependsOn"]) == 3
    # 30 parents > 20: deferred until its parents had succeeded.
    assert jobs["fan-in"]["dependsOn"] == []
    # One tracker: rounds of <= 100 ids, never one call per job (the driver asks
    # only about jobs that can have changed: here a layer of 50 at a time).
    assert max(limits.describe_sizes) == 50
    assert limits.calls["DescribeJobs"] <= 15
    assert limits.calls["SubmitJob"] == 500
    # SubmitJob's quota is 50 requests per second; the tests' limit is 45.
    assert len(sent) == 500
    assert _busiest_second(sent) <= backend.settings.submit_rate


def test_failing_job_is_reported_with_its_nodes_and_log_stream(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = StrictLimits()
    backend = _backend(batch_world, limits)
    plan = plan_of(
        [
            planned("prepare"),
            planned(
                "fit", depends_on=["prepare"], nodes=["client_1.fit", "client_1.score"]
            ),
        ]
    )

    def fail_fit(params: dict[str, Any], **kwargs: Any) -> None:
        # moto's simple backend fails a job submitted while this is set.
        if params["jobName"] == "fit":
            monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
        else:
            monkeypatch.delenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", raising=False)

    backend.client.meta.events.register(
        "before-parameter-build.batch.SubmitJob", fail_fit
    )

    outcome = Driver(plan, backend, FAST, LogProgress()).run()

    (failure,) = outcome.failures
    fit_id = outcome.job_ids["fit"]
    assert (failure.job, failure.nodes) == ("fit", ("client_1.fit", "client_1.score"))
    assert failure.log_location is not None
    assert f"kedro-project/default/{fit_id}" in failure.log_location
    assert outcome.succeeded == {"prepare"}


def _forward(request: Any) -> None:
    """Send a prepared botocore request to moto ourselves (the job is created)."""
    forwarded = urllib.request.Request(
        request.url,
        data=request.body if isinstance(request.body, bytes) else request.body.encode(),
        headers=dict(request.headers),
        method=request.method,
    )
    with urllib.request.urlopen(forwarded, timeout=10) as response:
        response.read()


def test_submit_that_timed_out_after_creating_the_job_is_not_submitted_again(
    batch_world: BatchWorld,
) -> None:
    limits = StrictLimits()
    backend = _backend(batch_world, limits)
    sends: list[str] = []

    def created_then_timed_out(request: Any, **kwargs: Any) -> None:
        sends.append(request.url)
        if len(sends) == 1:
            _forward(request)
            raise ReadTimeoutError(endpoint_url=request.url)

    backend.client.meta.events.register(
        "before-send.batch.SubmitJob", created_then_timed_out
    )

    job_id = backend.submit(Submission(job=planned("kedro-a")))

    assert [job["jobId"] for job in batch_world.jobs()] == [job_id]
    assert len(sends) == 1
    assert limits.calls["ListJobs"] == 1


def test_interrupt_while_submit_is_in_flight_terminates_the_created_job(
    batch_world: BatchWorld,
) -> None:
    limits = StrictLimits()
    backend = _backend(batch_world, limits)

    def created_then_interrupted(request: Any, **kwargs: Any) -> None:
        _forward(request)
        raise KeyboardInterrupt

    backend.client.meta.events.register(
        "before-send.batch.SubmitJob", created_then_interrupted
    )

    with pytest.raises(KeyboardInterrupt):
        backend.submit(Submission(job=planned("kedro-a")))

    created = [job["jobId"] for job in batch_world.jobs()]
    assert (len(created), limits.calls["TerminateJob"]) == (1, 1)


def test_submit_that_timed_out_before_reaching_batch_is_submitted_once_more(
    batch_world: BatchWorld,
) -> None:
    limits = StrictLimits()
    backend = _backend(batch_world, limits)
    sends: list[str] = []

    def timed_out_unsent(request: Any, **kwargs: Any) -> None:
        sends.append(request.url)
        if len(sends) == 1:
            raise ReadTimeoutError(endpoint_url=request.url)

    backend.client.meta.events.register("before-send.batch.SubmitJob", timed_out_unsent)

    job_id = backend.submit(Submission(job=planned("kedro-a")))

    assert [job["jobId"] for job in batch_world.jobs()] == [job_id]
    assert len(sends) == 2


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **kwargs: Any) -> Any:
        yield self._data


def test_throttled_submit_is_retried_by_botocore_and_creates_one_job(
    batch_world: BatchWorld,
) -> None:
    limits = StrictLimits()
    backend = _backend(batch_world, limits)
    sends: list[int] = []

    def throttle_first(request: Any, **kwargs: Any) -> AWSResponse | None:
        sends.append(1)
        if len(sends) > 1:
            return None
        body = b'{"__type": "TooManyRequestsException", "message": "Too Many Requests"}'
        return AWSResponse(
            request.url,
            429,
            {"x-amzn-ErrorType": "TooManyRequestsException"},
            _Body(body),
        )

    backend.client.meta.events.register("before-send.batch.SubmitJob", throttle_first)

    job_id = backend.submit(Submission(job=planned("kedro-a")))

    assert [job["jobId"] for job in batch_world.jobs()] == [job_id]
    assert len(sends) == 2


def test_every_job_carries_the_run_tags(batch_world: BatchWorld) -> None:
    limits = StrictLimits()
    backend = _backend(batch_world, limits, tags={"team": "ml"})
    plan = plan_of([planned("a"), planned("b", depends_on=["a"])])

    Driver(plan, backend, FAST, LogProgress()).run()

    assert sorted((job["jobName"], job["tags"]) for job in batch_world.jobs()) == [
        (
            name,
            {
                "team": "ml",
                "kedro-pipelinename:run-id": RUN_ID,
                "kedro-pipelinename:job": name,
            },
        )
        for name in ("a", "b")
    ]
    assert os.environ.get("MOTO_SIMPLE_BATCH_FAIL_AFTER") is None
