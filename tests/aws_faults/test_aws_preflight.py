"""AWS Batch's pre-flight: every problem of every job at once, each naming our
setting and how to fix it, before anything is submitted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kedro_pipelinename.batch.engine import EngineRun, Submission, check_engine
from kedro_pipelinename.batch.errors import BatchSettingsError
from kedro_pipelinename.batch.settings import BatchSettings, resolve_settings
from kedro_pipelinename.engines.aws.api import endpoint_from_environment, make_client
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.runner import AWSBatchRunner
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from tests.aws_faults.through_proxy import engine_through, settings_through
from tests.support.aws import BatchWorld
from tests.support.fault_proxy import FaultProxy
from tests.support.plans import plan_of, planned


def _namespace_job(nodes: int) -> list[str]:
    return [
        f"big_namespace.node_with_a_long_descriptive_name_{n:04d}" for n in range(nodes)
    ]


def test_every_aws_problem_is_listed_before_anything_is_submitted(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    settings = settings_through(
        batch_world,
        proxy,
        # YAML reads 137 as a number; Batch wants the string "137".
        evaluate_on_exit=[{"onExitCode": 137, "action": "retry"}],
        job_definition="no-such-definition",
    )
    plan = plan_of(
        [
            planned("kedro-small"),
            # 600 nodes: the command lists all of them (~33 KB of node names).
            planned("kedro-big_namespace", nodes=_namespace_job(600)),
        ]
    )
    run = EngineRun(
        plan=plan,
        settings=BatchSettings(extra_env={"AWS_BATCH_JOB_ID": "x", "TEAM": "ml"}),
        project_path=Path.cwd(),
    )

    engine = AWSBatchEngine.with_client(run, settings, make_client(settings))
    with pytest.raises(BatchSettingsError) as caught:
        check_engine(engine)

    message = str(caught.value)
    assert len(caught.value.problems) == 4, message
    assert "'no-such-definition' does not exist" in message
    assert "'evaluate_on_exit'" in message and "onExitCode" in message
    assert "extra_env' has AWS_BATCH_JOB_ID" in message
    assert "kedro-big_namespace (600 node(s))" in message
    assert "30,720 bytes" in message and "grouping: none" in message
    assert batch_world.jobs() == []
    assert proxy.count("SubmitJob") == 0


def test_a_parameter_botocore_refuses_at_submit_names_our_setting(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    # Built by hand, past the pre-flight: what a subclass or a test might do.
    engine = engine_through(
        batch_world, proxy, evaluate_on_exit=[{"onExitCode": 137, "action": "EXIT"}]
    )

    with pytest.raises(BatchSettingsError, match="Batch setting 'evaluate_on_exit'"):
        engine.submit(Submission(job=planned("kedro-a")))

    assert batch_world.jobs() == []


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"vcpu": 0}, "vcpu=0; give a number of vCPUs above 0"),
        ({"memory": 2}, "memory=2; give a whole number of MiB, at least 4"),
        ({"memory": "4096.5"}, "memory='4096.5'; give a whole number of MiB"),
        ({"gpu": -1}, "gpu=-1; give a whole number of GPUs, 0 or more"),
        ({"memroy": 4096}, "'MEMROY' (did you mean memory?)"),
    ],
)
def test_resources_are_checked_against_aws_batchs_rules(
    resources: dict[str, object], expected: str
) -> None:
    with pytest.raises(BatchSettingsError) as caught:
        resolve_settings(
            AWSBatchSettings,
            arguments={},
            blocks=[
                (
                    "aws_batch",
                    {
                        "job_queue": "q",
                        "job_definition": "d",
                        "resources": resources,
                        "resources_by_tag": {"gpu": {"gpu": 1.5}},
                    },
                )
            ],
            environ={},
        )

    message = str(caught.value)
    assert expected in message
    # Both bad settings at once, each with where it came from.
    assert (
        "gpu=1.5" in message and "(from the parameter aws_batch.resources)" in message
    )


def test_aws_endpoint_url_is_applied_explicitly_where_botocore_ignores_it(
    batch_world: BatchWorld, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    settings = batch_world.settings(endpoint_url=None)

    make_client(settings).describe_job_queues(jobQueues=[batch_world.queue])

    # Through the proxy, so not to real AWS, on every botocore installed.
    assert proxy.count("DescribeJobQueues") == 1
    assert endpoint_from_environment(settings, os.environ, "1.29.0") == proxy.url
    assert endpoint_from_environment(settings, os.environ, "1.31.0") is None
    ignored = {**os.environ, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert endpoint_from_environment(settings, ignored, "1.29.0") is None


@pytest.mark.usefixtures("aws_environment")
def test_misspelt_aws_settings_are_refused_with_the_ones_meant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEDRO_BATCH_RUNABLE_TIMEOUT", "60")
    block = {"job_queue": "q", "job_definition": "d", "lookup_attemps": 3}

    with pytest.raises(BatchSettingsError) as caught:
        AWSBatchRunner().resolve_settings({"aws_batch": block})

    message = str(caught.value)
    assert "Unknown batch setting 'lookup_attemps'" in message
    assert "Did you mean lookup_attempts" in message
    assert "Did you mean KEDRO_BATCH_RUNNABLE_TIMEOUT" in message
