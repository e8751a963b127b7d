"""A job stuck in RUNNABLE: warned about once with the usual causes, and with
``runnable_timeout`` terminated and reported failed, so the run ends cleanly."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import Submission
from kedro_pipelinename.batch.events import RunOutcome
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from tests.aws_faults.through_proxy import engine_through
from tests.support.aws import BatchWorld
from tests.support.fault_proxy import FaultProxy
from tests.support.moto_compute import MotoCompute
from tests.support.plans import plan_of, planned

FAST = BatchSettings(poll_interval=0.02, max_poll_interval=0.05)
#: The longest a run of these tests may take (seconds).
DEADLINE = 60.0


def _run_bounded(driver: Driver, world: BatchWorld) -> RunOutcome:
    """``driver.run()``, bounded: past ``DEADLINE`` the run's jobs are terminated
    behind its back (so it ends) and the test fails."""
    outcomes: list[RunOutcome] = []
    thread = threading.Thread(target=lambda: outcomes.append(driver.run()))
    thread.start()
    thread.join(DEADLINE)
    if thread.is_alive():
        client = world.client()
        for job in world.jobs():
            client.terminate_job(jobId=job["jobId"], reason="the test's deadline")
        thread.join(DEADLINE)
        raise AssertionError(f"the run was still waiting after {DEADLINE:g} s")
    (outcome,) = outcomes
    return outcome


@pytest.fixture
def no_capacity(batch_world: BatchWorld, tmp_path: Path) -> Iterator[MotoCompute]:
    """moto's Batch with a compute environment that never places a job."""
    with MotoCompute(tmp_path, capacity=False).running() as compute:
        yield compute


@pytest.mark.usefixtures("no_capacity")
def test_a_job_stuck_in_runnable_is_warned_about_then_fails_the_run(
    batch_world: BatchWorld, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    engine = engine_through(
        batch_world, proxy, runnable_warning=0.05, runnable_timeout=0.3
    )
    plan = plan_of([planned("kedro-a"), planned("kedro-b", depends_on=["kedro-a"])])

    with caplog.at_level(logging.WARNING, "kedro_pipelinename.engines.aws"):
        outcome = _run_bounded(Driver(plan, engine, FAST, LogProgress()), batch_world)

    (failure,) = [f for f in outcome.failures if not f.caused_by_dependency]
    assert failure.job == "kedro-a"
    assert failure.reason is not None and "runnable_timeout (0.3 s)" in failure.reason
    warnings = [
        r.getMessage() for r in caplog.records if r.name.endswith("queue_watch")
    ]
    assert len(warnings) == 1, warnings  # once, not every poll
    assert "Usual causes" in warnings[0]
    assert "Compute environments: kedro-ce: ENABLED" in warnings[0]
    # Terminated in Batch, not left waiting there.
    jobs = {job["jobName"]: job for job in batch_world.jobs()}
    assert jobs["kedro-a"]["status"] == "FAILED"
    assert "runnable_timeout" in jobs["kedro-a"]["statusReason"]


@pytest.mark.usefixtures("no_capacity")
def test_without_runnable_timeout_a_runnable_job_is_only_warned_about(
    batch_world: BatchWorld, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    engine = engine_through(batch_world, proxy, runnable_warning=0.05)
    job_id = engine.submit(Submission(job=planned("kedro-a")))
    with caplog.at_level(logging.WARNING, "kedro_pipelinename.engines.aws"):
        # Bounded: at most 40 polls, 20 ms apart.
        for _ in range(40):
            state = engine.poll([job_id])[job_id]
            if caplog.records:
                break
            engine.wait(0.02)

    assert state.engine_status == "RUNNABLE"
    assert "has waited in RUNNABLE" in caplog.records[0].getMessage()
