"""The AWS Batch backend and the driver against botocore's Stubber.

Each test states the exact requests AWS Batch must receive, in order; the Stubber
fails the test on any other request, and ``assert_no_pending_responses`` on a
missing one.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import JobStatus, Submission
from kedro_pipelinename.batch.errors import (
    BatchJobError,
    BatchSettingsError,
    JobFailure,
)
from kedro_pipelinename.batch.plan import JobPlan
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.aws.api import (
    TokenBucket,
    job_state,
    make_client,
    submit_job_request,
)
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from tests.support.plans import RUN_ID, plan_of, planned

# One submit at a time: a Stubber answers calls in the order they come, so
# concurrent submits would take each other's answers.
SERIAL = 1
FAST = BatchSettings(
    poll_interval=0.001, max_poll_interval=0.004, submit_concurrency=SERIAL
)


class RecordingBackend(AWSBatchEngine):
    """The real backend; ``wait`` records instead of sleeping (tests only)."""

    waits: list[float]

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def settings(aws_environment: None) -> AWSBatchSettings:
    return AWSBatchSettings(
        job_queue="queue", job_definition="definition:3", region="eu-west-1"
    )


@pytest.fixture
def stubbed(settings: AWSBatchSettings) -> Iterator[tuple[RecordingBackend, Stubber]]:
    client = make_client(settings)
    backend = RecordingBackend(settings, RUN_ID, client=client)
    backend.waits = []
    with Stubber(client) as stubber:
        yield backend, stubber
        stubber.assert_no_pending_responses()


def _submitted(stubber: Stubber, job_id: str, name: str) -> None:
    """A SubmitJob for ``name`` (its full shape is checked in its own test)."""
    stubber.add_response(
        "submit_job",
        {"jobId": job_id, "jobName": name, "jobArn": f"arn:aws:batch:job/{job_id}"},
    )


def _described(stubber: Stubber, states: dict[str, str], **extra: Any) -> None:
    jobs = [
        {
            "jobId": job_id,
            "jobName": job_id,
            "jobQueue": "queue",
            "status": status,
            "startedAt": 1,
            "jobDefinition": "definition:3",
            **extra.get(job_id, {}),
        }
        for job_id, status in states.items()
    ]
    stubber.add_response("describe_jobs", {"jobs": jobs}, {"jobs": list(states)})


def _terminated(stubber: Stubber, job_id: str, reason: str) -> None:
    stubber.add_response("terminate_job", {}, {"jobId": job_id, "reason": reason})


def test_submit_request_carries_command_env_dependencies_retries_resources_and_tags(
    stubbed: tuple[RecordingBackend, Stubber], settings: AWSBatchSettings
) -> None:
    backend, stubber = stubbed
    backend.settings = AWSBatchSettings(
        job_queue="queue",
        job_definition="definition:3",
        retry_attempts=3,
        # A list, as YAML gives it: the setting converts it.
        evaluate_on_exit=[{"onExitCode": "137", "action": "retry"}],  # type: ignore[arg-type]
        attempt_timeout=600,
        resources={"vcpu": 1, "memory": 2048},
        resources_by_namespace={"client_1": {"memory": 4096}},
        resources_by_tag={"gpu": {"gpu": 1}},
        tags={"team": "ml"},
    )
    job = planned(
        "kedro-client_1",
        namespace="client_1",
        tags=["gpu"],
        nodes=["client_1.fit"],
    )
    expected = {
        "jobName": "kedro-client_1",
        "jobQueue": "queue",
        "jobDefinition": "definition:3",
        "dependsOn": [{"jobId": "parent-1"}, {"jobId": "parent-2"}],
        "containerOverrides": {
            "command": [
                "kedro",
                "run",
                "--pipelines=train",
                "--nodes=client_1.fit",
            ],
            "environment": [{"name": "KEDRO_PIPELINENAME_RUN_ID", "value": RUN_ID}],
            "resourceRequirements": [
                {"type": "GPU", "value": "1"},
                {"type": "MEMORY", "value": "4096"},
                {"type": "VCPU", "value": "1"},
            ],
        },
        "retryStrategy": {
            "attempts": 3,
            "evaluateOnExit": [{"onExitCode": "137", "action": "RETRY"}],
        },
        "timeout": {"attemptDurationSeconds": 600},
        "tags": {
            "team": "ml",
            "kedro-pipelinename:run-id": RUN_ID,
            "kedro-pipelinename:job": "kedro-client_1",
        },
    }
    stubber.add_response(
        "submit_job",
        {"jobId": "job-1", "jobName": "kedro-client_1", "jobArn": "arn"},
        expected,
    )

    job_id = backend.submit(Submission(job=job, depends_on=("parent-1", "parent-2")))

    assert job_id == "job-1"


def test_submit_request_without_options_sends_no_empty_fields(
    settings: AWSBatchSettings,
) -> None:
    request = submit_job_request(Submission(job=planned("kedro-a")), settings, RUN_ID)

    assert sorted(request) == [
        "containerOverrides",
        "jobDefinition",
        "jobName",
        "jobQueue",
        "tags",
    ]
    assert sorted(request["containerOverrides"]) == ["command", "environment"]


def test_poll_asks_describe_jobs_for_at_most_100_ids_per_call(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    ids = [f"job-{number:03d}" for number in range(250)]
    for start in (0, 100, 200):
        _described(stubber, {job_id: "RUNNING" for job_id in ids[start : start + 100]})

    states = backend.poll(ids)

    assert sorted(states) == ids
    assert {state.status for state in states.values()} == {JobStatus.RUNNING}


def test_failed_job_state_has_status_reason_container_reason_exit_code_and_stream() -> (
    None
):
    state = job_state(
        {
            "jobId": "job-1",
            "status": "FAILED",
            "statusReason": "Essential container in task exited",
            "container": {
                "exitCode": 3,
                "reason": "OutOfMemoryError: Container killed due to memory usage",
                "logStreamName": "kedro-project/default/abc",
            },
        }
    )

    assert (state.reason, state.detail, state.exit_code) == (
        "Essential container in task exited",
        "OutOfMemoryError: Container killed due to memory usage",
        3,
    )
    assert state.log_location is not None
    assert "kedro-project/default/abc" in state.log_location


def test_failed_job_state_falls_back_to_the_last_attempt() -> None:
    state = job_state(
        {
            "jobId": "job-1",
            "status": "FAILED",
            "attempts": [
                {"container": {"exitCode": 1, "logStreamName": "first"}},
                {
                    "container": {
                        "exitCode": 2,
                        "reason": "killed",
                        "logStreamName": "s2",
                    }
                },
            ],
        }
    )

    assert (state.exit_code, state.detail) == (2, "killed")
    assert state.log_location is not None and "s2" in state.log_location


def test_fail_fast_terminates_every_other_unfinished_job(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    plan = plan_of([planned("a"), planned("b"), planned("c"), planned("d")])
    for name in "abcd":
        _submitted(stubber, f"id-{name}", name)
    _described(
        stubber,
        {"id-a": "FAILED", "id-b": "RUNNING", "id-c": "RUNNABLE", "id-d": "SUCCEEDED"},
        **{"id-a": {"statusReason": "exit 1", "container": {"exitCode": 1}}},
    )
    reason = "fail_fast: job a of the same run failed"
    _terminated(stubber, "id-b", reason)
    _terminated(stubber, "id-c", reason)

    outcome = Driver(plan, backend, FAST, LogProgress()).run()

    assert [failure.job for failure in outcome.failures] == ["a"]
    assert outcome.not_run == ("b", "c")
    assert outcome.succeeded == {"d"}


def test_without_fail_fast_other_jobs_keep_running_to_the_end(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    plan = plan_of([planned("a"), planned("b")])
    _submitted(stubber, "id-a", "a")
    _submitted(stubber, "id-b", "b")
    _described(stubber, {"id-a": "FAILED", "id-b": "RUNNING"})
    _described(stubber, {"id-b": "SUCCEEDED"})
    settings = BatchSettings(
        fail_fast=False, poll_interval=0.001, submit_concurrency=SERIAL
    )

    outcome = Driver(plan, backend, settings, LogProgress()).run()

    assert ([f.job for f in outcome.failures], outcome.succeeded) == (
        ["a"],
        frozenset({"b"}),
    )


def test_interrupt_while_tracking_terminates_unfinished_jobs_then_reraises(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    plan = plan_of([planned("a"), planned("b", depends_on=["a"])])
    _submitted(stubber, "id-a", "a")
    _submitted(stubber, "id-b", "b")
    reason = "the Kedro driver stopped: KeyboardInterrupt"
    _terminated(stubber, "id-a", reason)
    _terminated(stubber, "id-b", reason)

    def interrupt(**kwargs: Any) -> None:
        raise KeyboardInterrupt

    # provide-client-params comes before the Stubber's own checks.
    backend.client.meta.events.register(
        "provide-client-params.batch.DescribeJobs", interrupt
    )

    with pytest.raises(KeyboardInterrupt):
        Driver(plan, backend, FAST, LogProgress()).run()


def test_fan_in_over_20_waits_until_at_most_20_parents_are_unfinished(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    parents = [planned(f"p{number:02d}") for number in range(25)]
    child = planned("child", depends_on=[job.name for job in parents])
    plan = plan_of([*parents, child])
    for job in parents:
        _submitted(stubber, f"id-{job.name}", job.name)
    ids = [f"id-{job.name}" for job in parents]
    _described(
        stubber,
        {job_id: "SUCCEEDED" if n < 5 else "RUNNING" for n, job_id in enumerate(ids)},
    )
    # AWS Batch allows 20 dependsOn: exactly the 20 parents still running.
    stubber.add_response(
        "submit_job",
        {"jobId": "id-child", "jobName": "child", "jobArn": "arn"},
        {
            "jobName": "child",
            "jobQueue": "queue",
            "jobDefinition": "definition:3",
            "dependsOn": [{"jobId": job_id} for job_id in ids[5:]],
            "containerOverrides": submit_job_request(
                Submission(job=child), backend.settings, RUN_ID
            )["containerOverrides"],
            "tags": {
                "kedro-pipelinename:run-id": RUN_ID,
                "kedro-pipelinename:job": "child",
            },
        },
    )
    # The child waits on running parents: it is described only once they finished.
    _described(stubber, {job_id: "SUCCEEDED" for job_id in ids[5:]})
    _described(stubber, {"id-child": "SUCCEEDED"})

    outcome = Driver(plan, backend, FAST, LogProgress()).run()

    assert outcome.ok


def test_poll_interval_doubles_while_nothing_changes_and_shrinks_on_change(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    plan = plan_of([planned("a"), planned("b")])
    _submitted(stubber, "id-a", "a")
    _submitted(stubber, "id-b", "b")
    for _ in range(4):
        _described(stubber, {"id-a": "SUBMITTED", "id-b": "SUBMITTED"})
    _described(stubber, {"id-a": "SUCCEEDED", "id-b": "RUNNING"})
    _described(stubber, {"id-b": "RUNNING"})
    _described(stubber, {"id-b": "SUCCEEDED"})
    settings = BatchSettings(
        poll_interval=1.0, max_poll_interval=5.0, submit_concurrency=SERIAL
    )

    Driver(plan, backend, settings, LogProgress()).run()

    # After a change the wait shrinks by a tenth, not back to poll_interval:
    # jobs that take minutes are asked about about once per change.
    assert backend.waits == [1.0, 2.0, 4.0, 5.0, 5.0, 4.5, 5.0]


def test_job_error_names_the_failed_job_first_and_counts_dependents() -> None:
    error = BatchJobError(
        [
            JobFailure(
                job="b",
                nodes=["b.n"],
                reason="Dependent Job failed",
                caused_by_dependency=True,
            ),
            JobFailure(
                job="a",
                nodes=["a.x", "a.y"],
                reason="Essential container in task exited",
                detail="OutOfMemoryError",
                exit_code=137,
                log_location="CloudWatch Logs stream s",
            ),
        ],
        "KEDRO_PIPELINENAME_RUN_ID=r kedro run --from-nodes=a.x",
    )

    assert str(error).splitlines() == [
        "Job 'a' (nodes: a.x, a.y) failed; reason: Essential container in task "
        "exited; detail: OutOfMemoryError; exit code: 137; logs: CloudWatch Logs "
        "stream s",
        "1 job(s) failed because a job they depend on failed: b",
        "To resume the run: KEDRO_PIPELINENAME_RUN_ID=r kedro run --from-nodes=a.x",
    ]


def test_token_bucket_allows_at_most_rate_calls_in_any_second() -> None:
    now = [0.0]
    times: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    bucket = TokenBucket(50, clock=lambda: now[0], sleep=sleep)
    for _ in range(200):
        bucket.acquire()
        times.append(now[0])

    busiest = max(
        sum(1 for t in times if start <= t < start + 1.0 - 1e-9) for start in times
    )
    # Spaced (1 + RATE_MARGIN) / 50 s apart: 48 in a second, never 51.
    assert busiest == 48


def test_plan_driver_outcome_and_stub_leave_nothing_pending(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    """An empty plan makes no AWS call at all."""
    backend, _ = stubbed

    outcome = Driver(
        JobPlan(run_id=RUN_ID, pipeline_names=("t",), grouping="none", jobs=()),
        backend,
        FAST,
        LogProgress(),
    ).run()

    assert outcome.ok


def test_error_while_submitting_terminates_the_jobs_already_submitted(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    plan = plan_of([planned("a"), planned("b"), planned("c")])
    _submitted(stubber, "id-a", "a")
    _submitted(stubber, "id-b", "b")
    stubber.add_client_error(
        "submit_job", "ClientException", "Job definition is inactive", 400
    )
    _terminated(stubber, "id-a", "the Kedro driver stopped: ClientException")
    _terminated(stubber, "id-b", "the Kedro driver stopped: ClientException")

    with pytest.raises(ClientError, match="Job definition is inactive"):
        Driver(plan, backend, FAST, LogProgress()).run()


def test_max_parallel_keeps_at_most_that_many_jobs_unfinished(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    plan = plan_of([planned("a"), planned("b"), planned("c")])
    _submitted(stubber, "id-a", "a")
    _submitted(stubber, "id-b", "b")
    _described(stubber, {"id-a": "SUCCEEDED", "id-b": "RUNNING"})
    _submitted(stubber, "id-c", "c")
    _described(stubber, {"id-b": "SUCCEEDED", "id-c": "SUCCEEDED"})
    settings = BatchSettings(
        max_parallel=2, poll_interval=0.001, submit_concurrency=SERIAL
    )

    outcome = Driver(plan, backend, settings, LogProgress()).run()

    assert outcome.succeeded == {"a", "b", "c"}


def test_sigterm_to_the_driver_terminates_unfinished_jobs_then_exits_143(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    plan = plan_of([planned("a")])
    _submitted(stubber, "id-a", "a")
    _terminated(stubber, "id-a", "the Kedro driver stopped: SystemExit")

    def cancelled_by_ci(**kwargs: Any) -> None:
        signal.raise_signal(signal.SIGTERM)

    backend.client.meta.events.register(
        "provide-client-params.batch.DescribeJobs", cancelled_by_ci
    )

    with pytest.raises(SystemExit) as caught:
        Driver(plan, backend, FAST, LogProgress()).run()

    assert caught.value.code == 143
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_missing_job_queue_is_reported_before_anything_is_submitted(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    stubber.add_response(
        "describe_job_queues", {"jobQueues": []}, {"jobQueues": ["queue"]}
    )
    # Every problem at once: the definition is checked too.
    stubber.add_response("describe_job_definitions", {"jobDefinitions": []})

    with pytest.raises(BatchSettingsError, match="job queue 'queue' does not exist"):
        backend.verify()


def test_missing_job_definition_revision_is_reported_before_anything_is_submitted(
    stubbed: tuple[RecordingBackend, Stubber],
) -> None:
    backend, stubber = stubbed
    stubber.add_response(
        "describe_job_queues",
        {
            "jobQueues": [
                {
                    "jobQueueName": "queue",
                    "jobQueueArn": "arn",
                    "state": "ENABLED",
                    "priority": 1,
                    "computeEnvironmentOrder": [],
                }
            ]
        },
        {"jobQueues": ["queue"]},
    )
    stubber.add_response(
        "describe_job_definitions",
        {"jobDefinitions": []},
        {"jobDefinitions": ["definition:3"]},
    )

    with pytest.raises(BatchSettingsError, match="job definition 'definition:3'"):
        backend.verify()
