"""A status outage is no job failure: the engine's reads end in
``EngineUnavailable``, never a raw botocore error, and a shorter outage is ridden
out inside the engine.

The driver treats ``EngineUnavailable`` as "no news" and asks again later: a
whole run rides out an outage of several polls and terminates nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import JobStatus, Submission
from kedro_pipelinename.batch.errors import EngineUnavailable
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from tests.aws_faults.through_proxy import engine_through
from tests.support.aws import BatchWorld
from tests.support.fault_proxy import SERVICE_UNAVAILABLE, Fault, FaultProxy
from tests.support.plans import plan_of, planned

INTERNAL_ERROR = b'{"__type": "ServerException", "message": "internal error"}'

#: botocore tries each call twice; the engine makes three such calls per read.
ATTEMPTS: dict[str, Any] = {
    "api_max_attempts": 2,
    "status_attempts": 3,
    "api_timeout": 5.0,
}
#: Short enough for the read-timeout outage, long enough for a loaded machine.
READ_TIMEOUT = 1.0
#: Every HTTP request of one read.
OUTAGE = 2 * 3


def _outage(operation: str, kind: str, times: int) -> Fault:
    if kind == "503":
        return Fault.respond(operation, 503, SERVICE_UNAVAILABLE, times=times)
    if kind == "500":
        return Fault.respond(operation, 500, INTERNAL_ERROR, times=times)
    if kind == "reset":
        return Fault.drop(operation, times=times)
    return Fault.hang(operation, 3 * READ_TIMEOUT, times=times)


KINDS = ["503", "500", "reset", "read-timeout"]


@pytest.mark.parametrize("kind", KINDS)
def test_poll_through_an_outage_raises_engine_unavailable(
    batch_world: BatchWorld, proxy: FaultProxy, kind: str
) -> None:
    timeout = READ_TIMEOUT if kind == "read-timeout" else ATTEMPTS["api_timeout"]
    engine = engine_through(batch_world, proxy, **{**ATTEMPTS, "api_timeout": timeout})
    job_id = engine.submit(Submission(job=planned("kedro-a")))
    proxy.add(_outage("DescribeJobs", kind, OUTAGE))

    with pytest.raises(EngineUnavailable, match="DescribeJobs on AWS Batch queue"):
        engine.poll([job_id])

    assert proxy.pending() == 0
    # The outage is over: the next poll sees the job.
    assert engine.poll([job_id])[job_id].status is JobStatus.SUCCEEDED


@pytest.mark.parametrize("kind", ["503", "reset"])
def test_find_jobs_through_an_outage_raises_engine_unavailable(
    batch_world: BatchWorld, proxy: FaultProxy, kind: str
) -> None:
    engine = engine_through(batch_world, proxy, **ATTEMPTS)
    engine.submit(Submission(job=planned("kedro-a")))
    proxy.add(_outage("ListJobs", kind, OUTAGE))

    with pytest.raises(EngineUnavailable, match="ListJobs"):
        engine.find_jobs()


def test_an_outage_shorter_than_the_engines_retries_is_ridden_out(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    engine = engine_through(batch_world, proxy, **ATTEMPTS)
    job_id = engine.submit(Submission(job=planned("kedro-a")))
    # Two whole botocore calls fail; the engine's third succeeds.
    proxy.add(_outage("DescribeJobs", "503", OUTAGE - 2))

    states = engine.poll([job_id])

    assert states[job_id].status is JobStatus.SUCCEEDED
    assert proxy.count("DescribeJobs") == OUTAGE - 1


def test_a_run_rides_out_a_describe_jobs_outage_and_terminates_nothing(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    # No botocore retries: each poll is the engine's three calls.
    engine = engine_through(batch_world, proxy, api_max_attempts=1, status_attempts=3)
    plan = plan_of([planned("kedro-a"), planned("kedro-b", depends_on=["kedro-a"])])
    # Five whole polls fail (each spends the engine's retries); the driver keeps
    # the jobs' last states and asks again.
    proxy.add(_outage("DescribeJobs", "503", 5 * 3))
    settings = BatchSettings(
        poll_interval=0.01, max_poll_interval=0.05, outage_timeout=120.0
    )

    outcome = Driver(plan, engine, settings, LogProgress()).run()

    assert outcome.ok
    assert proxy.pending() == 0
    assert proxy.count("TerminateJob") == 0
    assert {job["status"] for job in batch_world.jobs()} == {"SUCCEEDED"}
