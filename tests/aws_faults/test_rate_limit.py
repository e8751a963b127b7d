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

#: The limit in these tests: 5 calls a second, which the engine spaces 210 ms
#: apart (``TokenBucket``: 5% over ``1 / rate``).
RATE = 5.0


def assert_spaced(proxy: FaultProxy) -> None:
    """No two Batch calls reached the endpoint closer than half the limiter's
    spacing.

    The proxy stamps a call when its thread gets to read it, which on a busy
    2-core machine can be tens of milliseconds late; counting calls per second
    would then see the limit's 5% margin eaten by the stamping and fail while
    the client kept its pace. Half the spacing (105 ms) is far above that
    lateness, and far above the gaps an unlimited call makes: concurrent submits
    arrive within milliseconds, and a call outside the limit lands within
    105 ms of a limited one whenever the limited calls run back to back (the
    eager polling keeps them so).
    """
    assert proxy.closest_arrivals() >= 0.5 * 1.05 / RATE


def test_every_batch_call_keeps_the_rate_limits_pace(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    engine = engine_through(batch_world, proxy, submit_rate=RATE)
    plan = wide_dag(24, fan_in=21)

    outcome = Driver(plan, engine, EAGER, LogProgress()).run()

    assert outcome.ok
    assert proxy.count("SubmitJob") == 24
    assert proxy.count("DescribeJobs") > 0
    # Every call: SubmitJob, DescribeJobs, ... (with up to 16 submits in flight).
    assert_spaced(proxy)


def test_botocores_retries_count_against_the_limit_too(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    # 429 answers: botocore sends each call again, and each resend is a call
    # AWS counts.
    proxy.add(Fault.respond("SubmitJob", 429, b'{"message": "slow down"}', times=12))
    engine = engine_through(batch_world, proxy, submit_rate=RATE)
    plan = wide_dag(12, fan_in=2)

    outcome = Driver(plan, engine, EAGER, LogProgress()).run()

    assert outcome.ok
    assert proxy.count("SubmitJob", "answered 429") == 12
    assert_spaced(proxy)
