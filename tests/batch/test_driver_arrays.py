"""The driver with arrays: one ``submit_array`` per uniform fan-out, children
tracked as jobs, whole arrays named once, and reattaching without submitting a
child twice (virtual time: ``SimulatedEngine``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import (
    ArrayIds,
    ArraySubmission,
    JobState,
    JobStatus,
    Submission,
    array_child_name,
)
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from tests.batch.test_arrays import arrays_of, seed
from tests.support.simulated import SimulatedEngine

FAST = BatchSettings(poll_interval=1.0, max_poll_interval=1.0)


class ArrayEngine(SimulatedEngine):
    """``SimulatedEngine`` with arrays: child *i* of an array is the job
    ``jobs[i]`` (its id ``id-<job name>``), the array ``array-<name>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrays: list[ArraySubmission] = []
        self.singles: list[Submission] = []
        #: The ids the driver asked to cancel.
        self.sent: list[str] = []
        # Jobs find_jobs gives as succeeded ended before the driver started.
        for state in self._existing.values():
            if state.status is JobStatus.SUCCEEDED:
                self._submitted_at[state.job_id.removeprefix("id-")] = -self._duration

    def max_array_size(self) -> int:
        return 10_000

    def submit(self, submission: Submission) -> str:
        self.singles.append(submission)
        return super().submit(submission)

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        # Cancelling an array cancels every child.
        self.sent.extend(job_ids)
        children = [
            f"id-{job.name}"
            for array in self.arrays
            if f"array-{array.name}" in job_ids
            for job in array.jobs
        ]
        super().cancel([*job_ids, *children], reason)

    def submit_array(self, array: ArraySubmission) -> ArrayIds:
        self.arrays.append(array)
        ids = [
            super(ArrayEngine, self).submit(Submission(job=job)) for job in array.jobs
        ]
        return ArrayIds(array_id=f"array-{array.name}", child_ids=ids)


def test_a_fan_out_is_submitted_as_one_array_per_step() -> None:
    train = seed([f"client_{i}" for i in range(50)])
    plan, arrays = arrays_of(train)
    engine = ArrayEngine(plan)

    outcome = Driver(plan, engine, FAST, LogProgress(), arrays=arrays).run()

    assert outcome.ok
    assert len(outcome.succeeded) == 152
    assert [array.name for array in engine.arrays] == [a.name for a in arrays]
    assert sorted(s.job.name for s in engine.singles) == ["kedro-load", "kedro-report"]
    prepare, fit, score = engine.arrays
    assert prepare.depends_on == ("id-kedro-load",)
    assert fit.pairs_with == (f"array-{prepare.name}",) and fit.depends_on == ()
    assert score.pairs_with == (f"array-{fit.name}",)
    # The report waits on 50 scores: one array id, not 50 (nor deferred at 20).
    (report,) = [s for s in engine.singles if s.job.name == "kedro-report"]
    assert report.depends_on == (f"array-{score.name}",)
    # Every child is its own job to the driver: its id, its state.
    assert outcome.job_ids["kedro-client_7-fit"] == "id-kedro-client_7-fit"


def test_an_engine_without_arrays_gets_every_job_alone() -> None:
    train = seed(["client_1", "client_2", "client_3"])
    plan, arrays = arrays_of(train)
    engine = SimulatedEngine(plan)

    outcome = Driver(plan, engine, FAST, LogProgress(), arrays=arrays).run()

    assert outcome.ok
    assert outcome.job_ids == {job.name: f"id-{job.name}" for job in plan.jobs}


def _child(array: str, index: int, job: str, status: JobStatus) -> tuple[str, JobState]:
    return array_child_name(array, index), JobState(
        job_id=f"id-{job}", status=status, name=array, array_id=f"array-{array}"
    )


def test_a_driver_started_again_adopts_every_child_and_submits_none_twice() -> None:
    clients = ["client_1", "client_2", "client_3"]
    train = seed(clients)
    plan, arrays = arrays_of(train)
    prepare = arrays[0]
    existing = dict(
        [
            (
                "kedro-load",
                JobState(job_id="id-kedro-load", status=JobStatus.SUCCEEDED),
            ),
            *(
                _child(prepare.name, i, job.name, JobStatus.SUCCEEDED)
                for i, job in enumerate(prepare.jobs)
            ),
        ]
    )
    engine = ArrayEngine(plan, existing=existing)

    outcome = Driver(
        plan, engine, FAST, LogProgress(), reattach=True, arrays=arrays
    ).run()

    assert outcome.ok
    assert {job.name for job in prepare.jobs} <= outcome.adopted
    # fit pairs with the adopted prepare array as a whole.
    assert [a.name for a in engine.arrays] == [arrays[1].name, arrays[2].name]
    assert engine.arrays[0].pairs_with == (f"array-{prepare.name}",)
    assert [s.job.name for s in engine.singles] == ["kedro-report"]


def test_a_failed_child_is_resumed_alone_and_the_next_step_stays_an_array() -> None:
    clients = ["client_1", "client_2", "client_3"]
    train = seed(clients)
    plan, arrays = arrays_of(train)
    prepare, fit, score = arrays
    existing = dict(
        [
            (
                "kedro-load",
                JobState(job_id="id-kedro-load", status=JobStatus.SUCCEEDED),
            ),
            *(
                _child(
                    prepare.name,
                    i,
                    job.name,
                    JobStatus.FAILED if i == 1 else JobStatus.SUCCEEDED,
                )
                for i, job in enumerate(prepare.jobs)
            ),
        ]
    )
    engine = ArrayEngine(plan, existing=existing)

    outcome = Driver(
        plan, engine, FAST, LogProgress(), reattach=True, arrays=arrays
    ).run()

    assert outcome.ok
    assert [s.job.name for s in engine.singles] == [
        "kedro-client_2-prepare",
        "kedro-report",
    ]
    # fit went as an array once every prepare had succeeded (nothing to pair
    # with: its prepare went job by job); score pairs with it.
    assert [a.name for a in engine.arrays] == [fit.name, score.name]
    assert engine.arrays[0].pairs_with == ()
    assert engine.arrays[1].pairs_with == (f"array-{fit.name}",)


def test_a_shared_parent_that_failed_first_releases_the_array() -> None:
    # max_parallel 1: the array cannot go while load runs; load fails, so the
    # array never goes and its jobs are blocked, not submitted.
    train = seed(["client_1", "client_2"])
    plan, arrays = arrays_of(train)
    engine = ArrayEngine(plan, failing={"kedro-load"})
    settings = BatchSettings(poll_interval=1.0, fail_fast=False, max_parallel=1)

    outcome = Driver(plan, engine, settings, LogProgress(), arrays=arrays).run()

    assert not outcome.ok
    assert engine.arrays == []
    assert [s.job.name for s in engine.singles] == ["kedro-load"]
    assert "kedro-client_1-prepare" in outcome.not_run


def test_max_parallel_below_an_arrays_size_never_starves_it() -> None:
    train = seed([f"c{i}" for i in range(5)])
    plan, arrays = arrays_of(train, limit=2)  # what arrays_for cuts at max_parallel
    engine = ArrayEngine(plan)

    outcome = Driver(
        plan,
        engine,
        BatchSettings(poll_interval=1.0, max_parallel=2),
        LogProgress(),
        arrays=arrays,
    ).run()

    assert outcome.ok
    assert all(array.jobs and len(array.jobs) <= 2 for array in engine.arrays)
    assert len(engine.arrays) == 6  # 3 steps x (2 + 2), the fifth client alone


def test_fail_fast_cancels_a_whole_array_with_one_call() -> None:
    train = seed([f"client_{i}" for i in range(30)])
    plan, arrays = arrays_of(train)
    engine = ArrayEngine(plan, failing={"kedro-client_3-prepare"})

    outcome = Driver(plan, engine, FAST, LogProgress(), arrays=arrays).run()

    assert not outcome.ok
    sent = engine.sent
    # fit and score had not started: each is cancelled as one array; the
    # prepare array had finished children, so its unfinished ones go alone.
    assert f"array-{arrays[1].name}" in sent
    assert f"array-{arrays[2].name}" in sent
    assert not any(
        job_id.endswith("-fit") or job_id.endswith("-score") for job_id in sent
    )
    assert engine.unfinished() == []
