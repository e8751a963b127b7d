"""The driver submits the jobs that may go now concurrently, up to the engine's
``spec.submit_concurrency`` (or the ``submit_concurrency`` setting), and keeps
every guarantee of one-at-a-time submission: a child after its parents' submits
returned, ``max_parallel``, the run record written from the driver's thread,
and a Ctrl-C or an error in a burst cancelling everything submitted."""

from __future__ import annotations

import os
import signal
import threading
from typing import ClassVar

import attrs
import pytest

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import EngineSpec, Submission
from kedro_pipelinename.batch.errors import BatchError
from kedro_pipelinename.batch.events import NoEvents
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from tests.support.plans import plan_of, planned
from tests.support.simulated import SPEC, SimulatedEngine

SETTINGS = BatchSettings(poll_interval=0.1, max_poll_interval=1.0)
#: Bounds every wait on another thread (no test waits this long unless broken).
BOUND = 30.0


class ConcurrentEngine(SimulatedEngine):
    """A simulated engine that takes 4 submits at once, and records, for each,
    the submits in flight with it and the jobs whose submit had returned."""

    spec: ClassVar[EngineSpec] = attrs.evolve(SPEC, submit_concurrency=4)

    def __init__(self, *args: object, together: int = 0, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.returned: dict[str, str] = {}
        self.returned_before: dict[str, set[str]] = {}
        self.unfinished_at_submit: list[int] = []
        self.threads: set[str] = set()
        # The first `together` submits wait for each other: they can only all
        # pass when that many are in flight at once.
        self._together = threading.Barrier(together) if together else None
        self._first: set[str] = set()

    def submit(self, submission: Submission) -> str:
        name = submission.job.name
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.returned_before[name] = set(self.returned)
            self.unfinished_at_submit.append(
                len(self.unfinished()) + self.in_flight - 1
            )
            self.threads.add(threading.current_thread().name)
            wait_together = self._together is not None and len(self._first) < (
                self._together.parties
            )
            if wait_together:
                self._first.add(name)
        try:
            if wait_together and self._together is not None:
                self._together.wait(timeout=BOUND)
            job_id = self.take(submission)
        finally:
            with self.lock:
                self.in_flight -= 1
        with self.lock:
            self.returned[name] = job_id
        return job_id

    def take(self, submission: Submission) -> str:
        return super().submit(submission)


class RecordingEvents(NoEvents):
    """Which threads told the run record of submissions."""

    def __init__(self) -> None:
        self.threads: set[str] = set()
        self.submitted_names: list[str] = []

    def submitted(self, name: str, job_id: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.submitted_names.append(name)


def _pairs(count: int) -> list[tuple[str, str]]:
    return [(f"r{number:02d}", f"c{number:02d}") for number in range(count)]


def _pair_plan(count: int) -> JobPlan:
    jobs: list[PlannedJob] = []
    for root, child in _pairs(count):
        jobs += [planned(root), planned(child, depends_on=[root])]
    return plan_of(jobs)


def test_ready_jobs_go_four_at_a_time_and_children_after_their_parents() -> None:
    plan = _pair_plan(8)
    engine = ConcurrentEngine(plan, together=4)
    events = RecordingEvents()

    outcome = Driver(
        plan, engine, SETTINGS, LogProgress(), events=events, clock=engine.clock
    ).run()

    assert outcome.ok
    # The barrier passed: 4 submits were in flight at once, never more.
    assert engine.max_in_flight == 4
    assert len(engine.threads) > 1
    for root, child in _pairs(8):
        assert root in engine.returned_before[child]
    # The run record is written from the driver's thread only, once per job.
    assert events.threads == {threading.current_thread().name}
    assert sorted(events.submitted_names) == sorted(job.name for job in plan.jobs)


def test_a_child_names_the_id_its_parents_submit_returned() -> None:
    plan = _pair_plan(6)
    seen: dict[str, tuple[str, ...]] = {}

    class Seeing(ConcurrentEngine):
        def take(self, submission: Submission) -> str:
            seen[submission.job.name] = submission.depends_on
            return super().take(submission)

    outcome = Driver(
        plan, Seeing(plan), SETTINGS, LogProgress(), clock=lambda: 0.0
    ).run()

    assert outcome.ok
    assert {child: seen[child] for _, child in _pairs(6)} == {
        child: (f"id-{root}",) for root, child in _pairs(6)
    }


def test_the_submit_concurrency_setting_lowers_the_engines_width() -> None:
    plan = _pair_plan(8)
    engine = ConcurrentEngine(plan)
    settings = attrs.evolve(SETTINGS, submit_concurrency=1)

    outcome = Driver(plan, engine, settings, LogProgress(), clock=engine.clock).run()

    assert outcome.ok
    assert engine.max_in_flight == 1
    # One at a time means from the driver's own thread, as before.
    assert engine.threads == {threading.current_thread().name}


def test_max_parallel_bounds_a_concurrent_burst() -> None:
    plan = plan_of([planned(f"j{number:02d}") for number in range(10)])
    engine = ConcurrentEngine(plan, duration=5.0)
    settings = attrs.evolve(SETTINGS, max_parallel=3)

    outcome = Driver(plan, engine, settings, LogProgress(), clock=engine.clock).run()

    assert outcome.ok
    assert max(engine.unfinished_at_submit) <= 2  # the job itself makes 3


def test_ctrl_c_during_a_burst_cancels_every_job_submitted() -> None:
    plan = plan_of([planned(f"j{number:02d}") for number in range(12)])

    class Interrupted(ConcurrentEngine):
        def take(self, submission: Submission) -> str:
            if submission.job.name == "j05":
                os.kill(os.getpid(), signal.SIGINT)
            return super().take(submission)

    engine = Interrupted(plan)

    with pytest.raises(KeyboardInterrupt):
        Driver(plan, engine, SETTINGS, LogProgress(), clock=engine.clock).run()

    cancelled = {job_id for call in engine.cancelled for job_id in call}
    assert "id-j05" in set(engine.returned.values())
    assert set(engine.returned.values()) == cancelled
    assert engine.unfinished() == []


def test_an_error_in_a_burst_cancels_what_was_submitted_and_propagates() -> None:
    plan = plan_of([planned(f"j{number:02d}") for number in range(12)])

    class Refusing(ConcurrentEngine):
        def take(self, submission: Submission) -> str:
            if submission.job.name == "j03":
                raise BatchError("sbatch refused the job (exit code 1)")
            return super().take(submission)

    engine = Refusing(plan)

    with pytest.raises(BatchError, match="sbatch refused"):
        Driver(plan, engine, SETTINGS, LogProgress(), clock=engine.clock).run()

    cancelled = {job_id for call in engine.cancelled for job_id in call}
    assert "j03" not in engine.returned
    assert set(engine.returned.values()) == cancelled
    assert engine.unfinished() == []


def test_a_long_burst_pauses_for_driver_rounds_so_a_cancel_stops_it() -> None:
    # A burst of 200 submits, with a clock that moves a second per reading:
    # it pauses every _BURST_ROUND "seconds" for a round (the lease renewed,
    # the record written, a `kedro batch cancel` seen). Without the pause, the
    # cancel asked after the first round would be seen only once all 200 were
    # submitted.
    from itertools import count

    from kedro_pipelinename.batch.errors import RunCancelled

    plan = plan_of([planned(f"j{number:03d}") for number in range(200)])
    engine = ConcurrentEngine(plan, duration=1000.0)
    ticks = count()

    class CancelAfterFirstRound(NoEvents):
        def __init__(self) -> None:
            self.rounds = 0
            self.submitted_names: list[str] = []

        def submitted(self, name: str, job_id: str) -> None:
            self.submitted_names.append(name)

        def stop_requested(self) -> str | None:
            self.rounds += 1
            return "cancelled by kedro batch cancel" if self.rounds > 1 else None

    events = CancelAfterFirstRound()
    with pytest.raises(RunCancelled, match="kedro batch cancel"):
        Driver(
            plan,
            engine,
            SETTINGS,
            LogProgress(),
            events=events,
            clock=lambda: float(next(ticks)),
        ).run()

    assert 0 < len(events.submitted_names) < 200
    cancelled = {job_id for call in engine.cancelled for job_id in call}
    assert set(engine.returned.values()) == cancelled
    assert engine.unfinished() == []
