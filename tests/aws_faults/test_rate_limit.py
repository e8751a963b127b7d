"""One client-side rate limit for every call the AWS Batch engine makes,
shared by the driver's concurrent submits, counted where AWS counts them: at
the endpoint (a ``FaultProxy`` in front of moto's server)."""

from __future__ import annotations

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from tests.aws_faults.through_proxy import engine_through
from tests.support.aws import BatchWorld
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.plans import wide_dag

#: Polling as often as it can: without a shared limit DescribeJobs alone would
#: exceed it.
EAGER = BatchSettings(poll_interval=0.01, max_poll_interval=0.02)


def test_no_second_holds_more_batch_calls_than_the_rate_limit(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    engine = engine_through(batch_world, proxy, submit_rate=10.0)
    plan = wide_dag(60, fan_in=25)

    outcome = Driver(plan, engine, EAGER, LogProgress()).run()

    assert outcome.ok
    assert proxy.count("SubmitJob") == 60
    assert proxy.count("DescribeJobs") > 0
    # Every call: SubmitJob, DescribeJobs, ... (with up to 16 submits in flight).
    assert proxy.busiest_second() <= 10


def test_botocores_retries_count_against_the_limit_too(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    # 429 answers: botocore sends each call again, and each resend is a call
    # AWS counts.
    proxy.add(Fault.respond("SubmitJob", 429, b'{"message": "slow down"}', times=12))
    engine = engine_through(batch_world, proxy, submit_rate=5.0)
    plan = wide_dag(12, fan_in=2)

    outcome = Driver(plan, engine, EAGER, LogProgress()).run()

    assert outcome.ok
    assert proxy.count("SubmitJob", "answered 429") == 12
    assert proxy.busiest_second() <= 5
