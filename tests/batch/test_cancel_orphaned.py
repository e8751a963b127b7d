"""``cancel_orphaned`` (``kedro batch cancel`` of a run whose driver is gone)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

from kedro_pipelinename.batch.cancelling import cancel_orphaned
from kedro_pipelinename.batch.engine import Engine, EngineRun, JobState, JobStatus
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.record_store import load_record
from kedro_pipelinename.batch.records import RunRecorder
from kedro_pipelinename.batch.settings import BatchSettings

RUN_ID = "2026-01-01T00.00.00.000Z"


class _Queue:
    """The engine side of an orphaned run: what ``poll`` and ``find_jobs``
    answer, and what was cancelled."""

    def __init__(self, found: dict[str, JobState]) -> None:
        self.found = found
        self.cancelled: list[str] = []

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        by_id = {state.job_id: state for state in self.found.values()}
        return {job_id: by_id[job_id] for job_id in job_ids if job_id in by_id}

    def find_jobs(self) -> dict[str, JobState]:
        return dict(self.found)

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        self.cancelled.extend(job_ids)


def _job(name: str) -> PlannedJob:
    return PlannedJob(
        name=name,
        group=name,
        namespace=None,
        nodes=[name],
        tags=[],
        depends_on=[],
        command=["kedro", "run", f"--nodes={name}"],
        env={},
    )


def test_children_of_an_array_the_record_never_noted_are_cancelled_too(
    tmp_path: Path,
) -> None:
    # A driver submitted kedro-a as a job and the clients' array, and was
    # killed before it wrote the array down: only find_jobs knows the children.
    plan = JobPlan(
        run_id=RUN_ID,
        pipeline_names=["p"],
        grouping="none",
        jobs=[_job("kedro-a"), _job("kedro-c1"), _job("kedro-c2")],
    )
    run = EngineRun(plan=plan, settings=BatchSettings(), project_path=tmp_path)
    recorder = RunRecorder(run, "fake", None)
    recorder.started(plan, "a fake queue")
    recorder.submitted("kedro-a", "id-a")
    queue = _Queue(
        {
            "kedro-a": JobState(job_id="id-a", status=JobStatus.RUNNING),
            "kedro-c-and-1-more[0]": JobState(
                job_id="arr:0", status=JobStatus.RUNNING, array_id="arr"
            ),
            "kedro-c-and-1-more[1]": JobState(
                job_id="arr:1", status=JobStatus.SUCCEEDED, array_id="arr"
            ),
            # Not this run's record, not an array child: left alone.
            "kedro-stranger": JobState(job_id="id-x", status=JobStatus.RUNNING),
        }
    )

    done = cancel_orphaned(
        tmp_path,
        load_record(tmp_path, RUN_ID),
        cast(Engine, queue),
        "cancelled by the test",
    )

    assert sorted(queue.cancelled) == ["arr:0", "id-a"]
    assert done.stopped == ("arr:0", "id-a")
    assert done.failed == ()
    record = load_record(tmp_path, RUN_ID)
    assert {job.name: job.state for job in record.jobs} == {
        "kedro-a": "CANCELLED",
        "kedro-c1": "CANCELLED",
        "kedro-c2": "CANCELLED",
    }
    assert record.state == "cancelled"
