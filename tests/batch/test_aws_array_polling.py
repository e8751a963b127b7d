"""The AWS engine's polling CPU: an array's children through their parent
(``engines/aws/children.py``), one validation per request key, a lean parse.

Against botocore's Stubber: each test states the exact calls AWS Batch must
receive, so a poll that described every child again (100 per DescribeJobs)
fails on the first unexpected request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from kedro_pipelinename.batch.engine import ArraySubmission, JobStatus
from kedro_pipelinename.engines.aws.api import make_client
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from tests.support.plans import RUN_ID, planned

PARENT = "a1b2c3d4-0000-4000-8000-000000000001"


@pytest.fixture
def stubbed(aws_environment: None) -> Iterator[tuple[AWSBatchEngine, Stubber]]:
    settings = AWSBatchSettings(
        job_queue="queue", job_definition="definition:3", region="eu-west-1"
    )
    client = make_client(settings)
    engine = AWSBatchEngine(settings, RUN_ID, client=client)
    with Stubber(client) as stubber:
        yield engine, stubber
        stubber.assert_no_pending_responses()


def _array(size: int) -> ArraySubmission:
    jobs = [
        planned(f"kedro-client_{number}-fit", namespace=f"client_{number}")
        for number in range(size)
    ]
    return ArraySubmission(
        name="kedro-fit", jobs=jobs, command=("kedro", "batch", "child"), env={}
    )


def _submitted_array(stubber: Stubber, engine: AWSBatchEngine, size: int) -> list[str]:
    stubber.add_response(
        "submit_job",
        {"jobId": PARENT, "jobName": "kedro-fit", "jobArn": f"arn:job/{PARENT}"},
    )
    return list(engine.submit_array(_array(size)).child_ids)


def _parent(stubber: Stubber, status: str, size: int, **summary: int) -> None:
    """DescribeJobs of the parent alone, with its children's counts."""
    entry: dict[str, Any] = {
        "jobId": PARENT,
        "jobName": "kedro-fit",
        "jobQueue": "queue",
        "status": status,
        "startedAt": 1,
        "jobDefinition": "definition:3",
        "arrayProperties": {"size": size, "statusSummary": summary},
    }
    stubber.add_response("describe_jobs", {"jobs": [entry]}, {"jobs": [PARENT]})


def _listed(stubber: Stubber, status: str, indexes: list[int]) -> None:
    """ListJobs of the array's children in ``status``."""
    summaries = [
        {
            "jobId": f"{PARENT}:{index}",
            "jobName": "kedro-fit",
            "status": status,
            "arrayProperties": {"index": index},
        }
        for index in indexes
    ]
    stubber.add_response(
        "list_jobs",
        {"jobSummaryList": summaries},
        {"arrayJobId": PARENT, "jobStatus": status},
    )


def _statuses(states: dict[str, Any]) -> dict[str, JobStatus]:
    return {job_id: state.status for job_id, state in states.items()}


def test_a_finished_array_of_250_children_is_one_describe_of_its_parent(
    stubbed: tuple[AWSBatchEngine, Stubber],
) -> None:
    engine, stubber = stubbed
    children = _submitted_array(stubber, engine, 250)
    _parent(stubber, "SUCCEEDED", 250, SUCCEEDED=250)

    states = engine.poll(children)

    assert _statuses(states) == dict.fromkeys(children, JobStatus.SUCCEEDED)
    assert {state.array_id for state in states.values()} == {PARENT}


def test_children_move_only_where_the_counts_moved_and_failures_are_described(
    stubbed: tuple[AWSBatchEngine, Stubber],
) -> None:
    engine, stubber = stubbed
    children = _submitted_array(stubber, engine, 3)
    # Every child in one status: nothing but the parent is asked.
    _parent(stubber, "PENDING", 3, PENDING=3)
    assert set(_statuses(engine.poll(children)).values()) == {JobStatus.PENDING}
    # One child running: its status is listed, no child described.
    _parent(stubber, "RUNNING", 3, PENDING=2, RUNNING=1)
    _listed(stubber, "RUNNING", [0])
    running = _statuses(engine.poll(children))
    assert running[children[0]] is JobStatus.RUNNING
    assert running[children[1]] is JobStatus.PENDING
    # The same counts again: no call but the parent's.
    _parent(stubber, "RUNNING", 3, PENDING=2, RUNNING=1)
    assert _statuses(engine.poll(children)) == running
    # One succeeded, one failed: the failed child alone is described, for its
    # reason, exit code and log stream.
    _parent(stubber, "RUNNING", 3, PENDING=1, SUCCEEDED=1, FAILED=1)
    _listed(stubber, "SUCCEEDED", [0])
    _listed(stubber, "FAILED", [2])
    failed = {
        "jobId": children[2],
        "jobName": "kedro-fit",
        "jobQueue": "queue",
        "status": "FAILED",
        "statusReason": "Essential container in task exited",
        "startedAt": 1,
        "jobDefinition": "definition:3",
        "arrayProperties": {"index": 2},
        "container": {"exitCode": 3, "logStreamName": "fit/default/child-2"},
    }
    stubber.add_response("describe_jobs", {"jobs": [failed]}, {"jobs": [children[2]]})
    states = engine.poll(children)
    assert _statuses(states) == {
        children[0]: JobStatus.SUCCEEDED,
        children[1]: JobStatus.PENDING,
        children[2]: JobStatus.FAILED,
    }
    failure = states[children[2]]
    assert failure.exit_code == 3
    assert failure.reason == "Essential container in task exited"
    assert failure.log_location is not None
    assert "fit/default/child-2" in failure.log_location
    # The parent failed once the last child finished: the one left is listed,
    # the failed child is not described again.
    _parent(stubber, "FAILED", 3, SUCCEEDED=2, FAILED=1)
    _listed(stubber, "SUCCEEDED", [0, 1])
    last = engine.poll(children)
    assert last[children[1]].status is JobStatus.SUCCEEDED
    assert last[children[2]] == failure


def test_children_of_an_array_it_did_not_submit_are_described_themselves(
    stubbed: tuple[AWSBatchEngine, Stubber],
) -> None:
    # An engine opened by `kedro batch status` knows no array: each child is
    # described, with its log stream while it runs.
    engine, stubber = stubbed
    child = f"{PARENT}:0"
    entry = {
        "jobId": child,
        "jobName": "kedro-fit",
        "jobQueue": "queue",
        "status": "RUNNING",
        "startedAt": 1,
        "jobDefinition": "definition:3",
        "arrayProperties": {"index": 0},
        "container": {"logStreamName": "fit/default/child-0"},
    }
    stubber.add_response("describe_jobs", {"jobs": [entry]}, {"jobs": [child]})

    (state,) = engine.poll([child]).values()

    assert state.status is JobStatus.RUNNING
    assert state.log_location is not None
    assert "fit/default/child-0" in state.log_location


def test_the_preflight_validates_requests_alike_but_for_their_text_once(
    aws_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore's validator was most of the driver's CPU at 10,000 jobs; its
    # verdict depends on a request's structure, types and lengths only.
    from botocore.validate import ParamValidator

    from kedro_pipelinename.batch.engine import EngineRun
    from kedro_pipelinename.batch.settings import BatchSettings
    from kedro_pipelinename.engines.aws.preflight import check_plan
    from tests.support.plans import plan_of

    validated: list[str] = []
    validate = ParamValidator.validate

    def counted(self: ParamValidator, params: Any, shape: Any) -> Any:
        validated.append(params["jobName"])
        return validate(self, params, shape)

    monkeypatch.setattr(ParamValidator, "validate", counted)
    # client_1 .. client_9: names and commands of one length; client_10 is
    # longer, and its second job waits on a parent (one more dependsOn).
    jobs = [
        planned(f"kedro-client_{n}-fit", namespace=f"client_{n}") for n in range(1, 10)
    ]
    jobs += [
        planned("kedro-client_10-fit", namespace="client_10"),
        planned("kedro-report", depends_on=["kedro-client_1-fit"]),
    ]
    settings = AWSBatchSettings(
        job_queue="queue", job_definition="definition:3", region="eu-west-1"
    )
    run = EngineRun(plan=plan_of(jobs), settings=BatchSettings(), project_path=Path())

    assert check_plan(run, settings, make_client(settings)) == []
    assert validated == ["kedro-client_1-fit", "kedro-client_10-fit", "kedro-report"]


def test_the_engines_client_parses_of_a_described_job_only_what_the_engine_reads(
    aws_environment: None,
) -> None:
    # botocore walking every member of every described job (command,
    # environment, volumes...) was most of the polling CPU.
    import json

    from botocore.parsers import create_parser

    from kedro_pipelinename.batch.engine import EngineRun
    from kedro_pipelinename.batch.settings import BatchSettings
    from kedro_pipelinename.engines.aws.api import job_state
    from tests.support.plans import plan_of

    settings = AWSBatchSettings(
        job_queue="queue", job_definition="definition:3", region="eu-west-1"
    )
    run = EngineRun(plan=plan_of([]), settings=BatchSettings(), project_path=Path())
    engine = AWSBatchEngine.with_client(run, settings, make_client(settings))
    other = make_client(settings)
    answer = {
        "jobs": [
            {
                "jobId": "j-1",
                "jobName": "kedro-fit",
                "jobQueue": "queue",
                "status": "FAILED",
                "statusReason": "Essential container in task exited",
                "jobDefinition": "definition:3",
                "createdAt": 5,
                "startedAt": 6,
                "tags": {"kedro-pipelinename:job": "kedro-fit"},
                "container": {
                    "command": ["kedro", "run"],
                    "environment": [{"name": "A", "value": "1"}],
                    "exitCode": 3,
                    "logStreamName": "fit/default/1",
                    "vcpus": 2,
                },
            }
        ]
    }

    def parsed(client: Any) -> dict[str, Any]:
        shape = client.meta.service_model.operation_model("DescribeJobs").output_shape
        response = {
            "body": json.dumps(answer).encode(),
            "headers": {},
            "status_code": 200,
        }
        jobs: list[dict[str, Any]] = create_parser("json").parse(response, shape)[
            "jobs"
        ]
        return jobs[0]

    lean, whole = parsed(engine.client), parsed(other)
    assert "command" not in lean["container"]
    assert "jobDefinition" not in lean
    assert whole["container"]["command"] == ["kedro", "run"]  # other clients: all
    assert job_state(lean) == job_state(whole)
    assert lean["tags"] == whole["tags"]
    assert lean["createdAt"] == whole["createdAt"]
    assert lean["container"]["vcpus"] == 2


def test_a_request_the_preflight_did_not_see_is_validated_before_it_is_sent(
    aws_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine's client does not validate (make_client): after the
    # pre-flight, a job's request is not validated again, but an array's
    # (arrayProperties, which no job's request has) is, once per key.
    from botocore.validate import ParamValidator

    from kedro_pipelinename.batch.engine import EngineRun, Submission
    from kedro_pipelinename.batch.settings import BatchSettings
    from tests.support.plans import plan_of

    validated: list[str] = []
    validate = ParamValidator.validate

    def counted(self: ParamValidator, params: Any, shape: Any) -> Any:
        if shape.name == "SubmitJobRequest":
            validated.append(params["jobName"])
        return validate(self, params, shape)

    monkeypatch.setattr(ParamValidator, "validate", counted)
    job = planned("kedro-client_1-fit", namespace="client_1")
    settings = AWSBatchSettings(
        job_queue="queue", job_definition="definition:3", region="eu-west-1"
    )
    run = EngineRun(plan=plan_of([job]), settings=BatchSettings(), project_path=Path())
    engine = AWSBatchEngine.with_client(run, settings, make_client(settings))
    with Stubber(engine.client) as stubber:
        stubber.add_response(
            "describe_job_queues",
            {
                "jobQueues": [
                    {
                        "jobQueueName": "queue",
                        "jobQueueArn": "arn:q",
                        "state": "ENABLED",
                        "priority": 1,
                        "computeEnvironmentOrder": [],
                    }
                ]
            },
        )
        stubber.add_response(
            "describe_job_definitions",
            {
                "jobDefinitions": [
                    {
                        "jobDefinitionName": "definition",
                        "jobDefinitionArn": "arn:d",
                        "revision": 3,
                        "type": "container",
                    }
                ]
            },
        )
        assert engine.check() == []
        assert validated == ["kedro-client_1-fit"]
        stubber.add_response(
            "submit_job", {"jobId": "j-1", "jobName": job.name, "jobArn": "arn:j-1"}
        )
        engine.submit(Submission(job=job))
        assert validated == ["kedro-client_1-fit"]  # seen by the pre-flight
        for _ in range(2):
            _submitted_array(stubber, engine, 3)
        stubber.assert_no_pending_responses()
    assert validated == ["kedro-client_1-fit", "kedro-fit"]
