"""Run records in-process: a write per poll round, cancel requests, dead drivers."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_pipelinename.batch.engine import EngineRun, JobState, JobStatus
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.record_store import load_record, request_cancel
from kedro_pipelinename.batch.records import RunRecorder
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.batch.stores import LocalStore
from kedro_pipelinename.commands.live import view_of

RUN_ID = "2026-01-01T00.00.00.000Z"


def _run(tmp_path: Path, jobs: int) -> EngineRun:
    planned = [
        PlannedJob(
            name=f"kedro-n{index}",
            group=f"n{index}",
            namespace=None,
            nodes=[f"n{index}"],
            tags=[],
            depends_on=[],
            command=["kedro", "run", f"--nodes=n{index}"],
            env={},
        )
        for index in range(jobs)
    ]
    plan = JobPlan(run_id=RUN_ID, pipeline_names=["p"], grouping="none", jobs=planned)
    return EngineRun(plan=plan, settings=BatchSettings(), project_path=tmp_path)


def test_a_round_of_500_job_changes_is_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[str] = []
    original = LocalStore.write_record
    monkeypatch.setattr(
        LocalStore,
        "write_record",
        lambda store, record: (writes.append(record.state), original(store, record)),  # type: ignore[func-returns-value]
    )
    run = _run(tmp_path, 500)
    recorder = RunRecorder(run, "local", None)

    recorder.started(run.plan, "local processes")
    for job in run.plan.jobs:
        recorder.submitted(job.name, job.name)
        recorder.changed(
            job.name, JobState(job_id=job.name, status=JobStatus.SUCCEEDED)
        )
    recorder.stop_requested()
    recorder.stop_requested()  # nothing new: no write

    assert writes == ["running", "running"]
    assert load_record(tmp_path, RUN_ID).done() == 500


def test_stop_requested_gives_the_reason_of_a_cancel_request(tmp_path: Path) -> None:
    run = _run(tmp_path, 1)
    recorder = RunRecorder(run, "local", None)
    recorder.started(run.plan, "local processes")

    before = recorder.stop_requested()
    request_cancel(tmp_path, RUN_ID, "cancelled by a test")

    assert (before, recorder.stop_requested()) == (None, "cancelled by a test")


def test_a_record_left_by_a_dead_driver_is_decided_by_its_jobs(tmp_path: Path) -> None:
    run = _run(tmp_path, 2)
    recorder = RunRecorder(run, "local", None)
    recorder.started(run.plan, "local processes")
    recorder.submitted("kedro-n0", "kedro-n0")
    recorder.stop_requested()
    # As if killed with kill -9: its pid now belongs to nobody it was.
    record = load_record(tmp_path, RUN_ID)
    assert record.driver is not None
    record.driver.process_start = "not a start time"  # and no lease holds it
    done = JobState(job_id="kedro-n0", status=JobStatus.SUCCEEDED)

    half = view_of(record, {"kedro-n0": done})
    running = view_of(
        record, {"kedro-n0": JobState(job_id="kedro-n0", status=JobStatus.RUNNING)}
    )

    assert record.state == "running"
    assert [job.state for job in half.jobs] == ["SUCCEEDED", "PENDING"]
    assert half.state == "failed"  # nothing runs the rest: `kedro batch resume`
    assert running.state == "running"  # the engine still runs a job


def test_an_engine_setting_named_like_a_secret_is_stored_as_a_reference(
    tmp_path: Path,
) -> None:
    # A third-party engine's `api_token` setting: no variable or param marks it
    # secret, only its name does; the record must hold ${API_TOKEN}, not it.
    import attrs

    @attrs.define
    class TokenSettings:
        api_token: str
        queue: str

    run = _run(tmp_path, 1)
    recorder = RunRecorder(run, "token-engine", TokenSettings("s3cr3t-v4lue", "q"))
    recorder.started(run.plan, "token engine")

    text = (tmp_path / "logs" / "batch" / RUN_ID / "run.json").read_text()
    assert "s3cr3t-v4lue" not in text
    assert load_record(tmp_path, RUN_ID).engine_settings == {
        "api_token": "${API_TOKEN}",
        "queue": "q",
    }
