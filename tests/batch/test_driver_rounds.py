"""The driver's rounds on an engine in virtual time (``support/simulated.py``):
which jobs it polls, how it waits, how it rides out an engine outage, and what a
Ctrl-C during cleanup does."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator

import pytest

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import JobState, JobStatus, Submission
from kedro_pipelinename.batch.errors import EngineUnavailable
from kedro_pipelinename.batch.events import NoEvents
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.batch.signals import ForcedExit
from tests.support.plans import plan_of, planned, wide_dag
from tests.support.simulated import SimulatedEngine, chain_plan

SETTINGS = BatchSettings(poll_interval=0.1, max_poll_interval=8.0)


def test_a_chain_polls_one_job_per_round_about_once_per_level() -> None:
    plan = chain_plan(400)
    engine = SimulatedEngine(plan, duration=5.0)

    outcome = Driver(plan, engine, SETTINGS, LogProgress(), clock=engine.clock).run()

    assert outcome.ok
    # Only the running job can change; the 399 waiting on it are not asked about.
    assert {len(ids) for ids in engine.polls} == {1}
    assert len(engine.polls) / 400 <= 1.2


def test_a_wide_dag_polls_only_jobs_whose_parents_finished() -> None:
    plan = wide_dag(500)
    engine = SimulatedEngine(plan, duration=5.0)

    outcome = Driver(plan, engine, SETTINGS, LogProgress(), clock=engine.clock).run()

    assert outcome.ok
    # At most a layer of 50 (and the fan-in's deferral) at a time, not 500.
    assert max(len(ids) for ids in engine.polls) <= 50
    ids_asked = sum(len(ids) for ids in engine.polls)
    per_job_polling = 500 * len(engine.polls)
    assert ids_asked * 10 < per_job_polling


def test_a_waiting_job_is_polled_once_its_parent_failed_and_fails_by_dependency() -> (
    None
):
    plan = plan_of([planned("a"), planned("b", depends_on=["a"])])
    engine = SimulatedEngine(plan, failing={"a"})
    settings = BatchSettings(poll_interval=0.1, fail_fast=False)

    outcome = Driver(plan, engine, settings, LogProgress(), clock=engine.clock).run()

    assert engine.polls[0] == ["id-a"]
    assert engine.polls[-1] == ["id-b"]
    assert {(f.job, f.caused_by_dependency) for f in outcome.failures} == {
        ("a", False),
        ("b", True),
    }


def test_an_unavailable_engine_changes_nothing_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plan = chain_plan(3)
    # Polls 2 to 21 fail: with waits doubling to 8 s, a minute and more.
    engine = SimulatedEngine(plan, duration=30.0, unavailable_polls=range(2, 22))

    with caplog.at_level(logging.WARNING, "kedro_pipelinename"):
        outcome = Driver(
            plan, engine, SETTINGS, LogProgress(), clock=engine.clock
        ).run()

    assert outcome.ok
    assert engine.cancelled == []
    messages = [record.getMessage() for record in caplog.records]
    started = [m for m in messages if "did not answer for job states" in m]
    assert len(started) == 1, messages
    assert "DescribeJobs: 503 Service Unavailable" in started[0]
    # A reminder about once a minute, and one line when it answers again.
    assert 1 <= sum("has not answered for" in m for m in messages) <= 3
    assert sum("answers again after" in m for m in messages) == 1
    # Backing off while it does not answer, never beyond max_poll_interval.
    assert max(engine.waits) == SETTINGS.max_poll_interval


def test_an_outage_longer_than_outage_timeout_cancels_the_jobs_and_says_why() -> None:
    plan = chain_plan(3)
    engine = SimulatedEngine(plan, duration=3600.0, unavailable_polls=range(2, 10**6))
    settings = BatchSettings(
        poll_interval=1.0, max_poll_interval=30.0, outage_timeout=300
    )

    with pytest.raises(EngineUnavailable) as raised:
        Driver(plan, engine, settings, LogProgress(), clock=engine.clock).run()

    message = str(raised.value)
    assert "did not answer for job states for 3" in message
    assert "outage_timeout is 300 s" in message
    assert "KEDRO_BATCH_OUTAGE_TIMEOUT" in message
    assert "DescribeJobs: 503 Service Unavailable" in message
    cancelled = sorted(job_id for ids in engine.cancelled for job_id in ids)
    assert cancelled == [f"id-job-000{n}" for n in range(3)]
    # About 300 s of tries, not 10**6.
    assert len(engine.polls) < 30


def test_reattach_asks_again_while_find_jobs_is_unavailable() -> None:
    plan = chain_plan(2)
    done = JobState(job_id="id-job-0000", status=JobStatus.SUCCEEDED, name="job-0000")
    engine = SimulatedEngine(plan, unavailable_finds=4, existing={"job-0000": done})
    engine.submit(Submission(job=plan.jobs[0]))  # what the earlier driver did

    outcome = Driver(
        plan, engine, SETTINGS, LogProgress(), reattach=True, clock=engine.clock
    ).run()

    assert outcome.ok
    assert engine.find_calls == 5
    assert outcome.adopted == frozenset({"job-0000"})


# --- Ctrl-C ----------------------------------------------------------------------


@pytest.fixture
def ctrl_c_as_in_a_terminal() -> Iterator[None]:
    """Python's own SIGINT handler, which the driver's may replace (a pytest
    started in the background, or an xdist worker, may have another)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _press_ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def _ctrl_c_after_two_polls(polls: int) -> None:
    if polls == 2:
        _press_ctrl_c()


def _presses_while_cancelling(count: int) -> tuple[SimulatedEngine, list[str]]:
    """35 running jobs; Ctrl-C after two polls, then ``count`` more times, each
    while the engine stops a job (the first, the 11th, ...)."""
    plan = plan_of([planned(f"job-{number:04d}") for number in range(35)])
    terminated: list[str] = []

    def terminate(job_id: str) -> None:
        terminated.append(job_id)
        if len(terminated) in (1, 11, 21)[:count]:
            _press_ctrl_c()

    engine = SimulatedEngine(
        plan,
        duration=1000.0,
        on_terminate=terminate,
        on_wait=_ctrl_c_after_two_polls,
    )
    return engine, terminated


@pytest.mark.usefixtures("ctrl_c_as_in_a_terminal")
def test_ctrl_c_again_while_cancelling_does_not_stop_the_cancelling(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, terminated = _presses_while_cancelling(1)

    with (
        caplog.at_level(logging.WARNING, "kedro_pipelinename"),
        pytest.raises(KeyboardInterrupt) as raised,
    ):
        Driver(engine.plan, engine, SETTINGS, LogProgress()).run()

    assert not isinstance(raised.value, ForcedExit)
    assert engine.unfinished() == []
    assert len(terminated) == 35
    messages = [record.getMessage() for record in caplog.records]
    assert (
        "Still cancelling 35 job(s); press Ctrl-C again to force exit and leave them."
    ) in messages


@pytest.mark.usefixtures("ctrl_c_as_in_a_terminal")
def test_a_third_ctrl_c_stops_cancelling_and_lists_the_jobs_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, terminated = _presses_while_cancelling(2)

    with (
        caplog.at_level(logging.WARNING, "kedro_pipelinename"),
        pytest.raises(ForcedExit),
    ):
        Driver(engine.plan, engine, SETTINGS, LogProgress()).run()

    assert len(terminated) == 11
    (forced,) = [
        r.getMessage() for r in caplog.records if "Forced exit" in r.getMessage()
    ]
    # The chunk being cancelled and every one after it, with engine ids.
    left = [f"job-{number:04d} (id-job-{number:04d})" for number in range(10, 35)]
    assert forced.endswith(", ".join(left))
    assert "25 job(s) may still run in the simulated engine" in forced


class _Rounds(NoEvents):
    """Counts the rounds in which the driver asked whether to stop (each renews
    the run's lease in ``RunRecorder``)."""

    def __init__(self, engine: SimulatedEngine) -> None:
        self._engine = engine
        #: find_jobs calls made by each time the driver asked.
        self.asked: list[int] = []

    def stop_requested(self) -> str | None:
        self.asked.append(self._engine.find_calls)
        return None


def test_reattach_through_an_outage_still_renews_the_lease_every_round() -> None:
    plan = chain_plan(2)
    engine = SimulatedEngine(plan, unavailable_finds=4)
    events = _Rounds(engine)

    Driver(
        plan,
        engine,
        SETTINGS,
        LogProgress(),
        reattach=True,
        events=events,
        clock=engine.clock,
    ).run()

    # Once after each of the four unanswered find_jobs, then the run's rounds.
    assert engine.find_calls == 5
    assert [calls for calls in events.asked if calls < 5] == [1, 2, 3, 4]
