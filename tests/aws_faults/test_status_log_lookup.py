"""``kedro batch status`` of an ended run asks its engine only for the logs
its record lacks (array children the driver saw succeed from their parent's
counts), and an engine that does not answer does not hold the command: the
record is shown, and stderr says what is missing and what to do."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kedro_pipelinename.batch.record_model import (
    RUN_SUCCEEDED,
    SUCCEEDED,
    JobAttempt,
    JobRecord,
    RunRecord,
)
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.commands.live import missing_logs
from kedro_pipelinename.engines.aws.api import make_client
from tests.aws_faults.through_proxy import settings_through
from tests.support.aws import BatchWorld
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.plans import RUN_ID, planned


def _ended_run(world: BatchWorld, proxy: FaultProxy) -> RunRecord:
    """A succeeded AWS run of two jobs Batch holds, whose record lacks their
    logs, with its engine asked through ``proxy``."""
    client = make_client(world.settings())
    jobs = []
    for name in ("kedro-a", "kedro-b"):
        job = planned(name)
        job_id = client.submit_job(
            jobName=name, jobQueue=world.queue, jobDefinition=world.definition
        )["jobId"]
        attempt = JobAttempt(number=1, driver=1, job_id=job_id, state=SUCCEEDED)
        jobs.append(JobRecord(job=job, state=SUCCEEDED, attempts=[attempt]))
    # One attempt, no retry: the unanswered look-up ends soon after the test.
    engine_settings = settings_through(world, proxy, api_max_attempts=1)
    return RunRecord(
        run_id=RUN_ID,
        engine="aws",
        engine_label=f"AWS Batch queue {world.queue}",
        project_path=str(Path.cwd()),
        pipeline_names=("__default__",),
        grouping="nodes",
        settings=attrs.asdict(BatchSettings()),
        engine_settings=attrs.asdict(engine_settings),
        state=RUN_SUCCEEDED,
        jobs=jobs,
    )


def test_the_logs_a_record_lacks_are_asked_of_the_engine(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    record = _ended_run(batch_world, proxy)

    states = missing_logs(record)

    ids = [str(job.job_id) for job in record.jobs]
    assert sorted(states) == sorted(ids)
    assert proxy.count("DescribeJobs") == 1


def test_an_engine_that_does_not_answer_leaves_the_record_as_it_is(
    batch_world: BatchWorld, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    record = _ended_run(batch_world, proxy)
    proxy.add(Fault.hang("DescribeJobs", 5.0))

    states = missing_logs(record, seconds=0.2)

    assert states == {}
    message = " ".join(capsys.readouterr().err.split())
    assert (
        f"AWS Batch queue {batch_world.queue} did not answer within 0.2 s: run "
        f"{RUN_ID} is shown without the logs of 2 succeeded jobs its record lacks. "
        f"Run the command again to ask again."
    ) in message
