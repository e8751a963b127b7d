"""Exactly one Batch job per planned job, whatever happens to SubmitJob.

AWS Batch's SubmitJob has no client token: a request whose answer is lost may
have created the job, and sending it again creates a second one. Each test
scripts the fault at the HTTP level (``FaultProxy``) and counts the jobs moto's
server holds, asked directly. On botocore before 1.43.3 the old retry veto
(returning ``False``) made botocore resend at once: one lost answer made two
jobs, three made four.
"""

from __future__ import annotations

from collections import Counter

import pytest

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import ArraySubmission, Submission
from kedro_pipelinename.batch.errors import BatchError
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from tests.aws_faults.through_proxy import engine_through
from tests.support.aws import BatchWorld
from tests.support.fault_proxy import SERVICE_UNAVAILABLE, THROTTLED, Fault, FaultProxy
from tests.support.plans import plan_of, planned

FAST = BatchSettings(poll_interval=0.01, max_poll_interval=0.05)
EMPTY_LIST = b'{"jobSummaryList": []}'

#: A small DAG: two roots and a child of both.
PLAN = plan_of(
    [
        planned("kedro-a"),
        planned("kedro-b"),
        planned("kedro-c", depends_on=["kedro-a", "kedro-b"]),
    ]
)


def _names_in_batch(world: BatchWorld) -> Counter[str]:
    return Counter(job["jobName"] for job in world.jobs())


@pytest.mark.parametrize(
    "fault",
    [
        Fault.drop("SubmitJob", times=1),
        Fault.drop("SubmitJob", times=3),
        # Forwarded, then the answer held past the client's read timeout.
        Fault.hang("SubmitJob", 3.0, times=1),
    ],
    ids=["1-lost", "3-lost-in-a-row", "read-timeout"],
)
def test_lost_submit_answers_leave_exactly_one_job_per_planned_job(
    batch_world: BatchWorld, proxy: FaultProxy, fault: Fault
) -> None:
    # Short enough for the held answer, long enough for a loaded machine.
    engine = engine_through(batch_world, proxy, api_timeout=1.0)
    proxy.add(fault)

    outcome = Driver(PLAN, engine, FAST, LogProgress()).run()

    assert outcome.ok
    assert _names_in_batch(batch_world) == {"kedro-a": 1, "kedro-b": 1, "kedro-c": 1}
    assert proxy.pending() == 0  # every scripted fault happened


def test_a_lost_answer_is_found_although_list_jobs_lags_behind(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    engine = engine_through(batch_world, proxy, lookup_attempts=3)
    # The job is created but its answer lost; the next two ListJobs do not show
    # it yet (ListJobs is eventually consistent), the third does.
    proxy.add(Fault.drop("SubmitJob"), Fault.replace("ListJobs", EMPTY_LIST, times=2))

    job_id = engine.submit(Submission(job=planned("kedro-a")))

    assert [job["jobId"] for job in batch_world.jobs()] == [job_id]
    assert proxy.count("SubmitJob") == 1


def test_a_submit_answered_503_without_creating_the_job_is_sent_again_once(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    engine = engine_through(batch_world, proxy, lookup_attempts=1)
    proxy.add(Fault.respond("SubmitJob", 503, SERVICE_UNAVAILABLE, times=2))

    job_id = engine.submit(Submission(job=planned("kedro-a")))

    assert [job["jobId"] for job in batch_world.jobs()] == [job_id]
    # Each 503 was followed by a look for the job before the next send.
    assert proxy.count("SubmitJob") == 3
    assert proxy.count("ListJobs") == 2


def test_throttling_beyond_botocores_attempts_still_creates_one_job_per_job(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    # botocore gives up after 2 attempts; the engine backs off and sends again.
    engine = engine_through(batch_world, proxy, api_max_attempts=2)
    proxy.add(Fault.respond("SubmitJob", 429, THROTTLED, times=5))

    outcome = Driver(PLAN, engine, FAST, LogProgress()).run()

    assert outcome.ok
    assert _names_in_batch(batch_world) == {"kedro-a": 1, "kedro-b": 1, "kedro-c": 1}
    # Throttled requests created nothing: no look-up was needed.
    assert proxy.count("ListJobs") == 0


def test_a_submit_whose_outcome_cannot_be_checked_is_not_sent_again(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    engine = engine_through(
        batch_world, proxy, api_max_attempts=1, status_attempts=1, lookup_attempts=2
    )
    proxy.add(
        Fault.drop("SubmitJob"),
        Fault.respond("ListJobs", 503, SERVICE_UNAVAILABLE, times=2),
    )

    with pytest.raises(BatchError, match="not sending it again"):
        engine.submit(Submission(job=planned("kedro-a")))

    assert _names_in_batch(batch_world) == {"kedro-a": 1}
    assert proxy.count("SubmitJob") == 1


def test_a_lost_answer_to_an_arrays_submit_leaves_exactly_one_array_job(
    batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    engine = engine_through(batch_world, proxy, api_timeout=1.0)
    members = [planned(f"kedro-c{index}") for index in range(3)]
    proxy.add(Fault.drop("SubmitJob"))

    ids = engine.submit_array(
        ArraySubmission(name="kedro-cs", jobs=members, command=["true"], env={})
    )

    (array,) = batch_world.jobs()
    assert (array["jobName"], array["jobId"]) == ("kedro-cs", ids.array_id)
    assert array["arrayProperties"]["size"] == 3
    assert ids.child_ids == tuple(f"{ids.array_id}:{index}" for index in range(3))
    # Found by its name and run tags, never sent again.
    assert proxy.count("SubmitJob") == 1
