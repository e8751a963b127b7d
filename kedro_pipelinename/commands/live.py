"""What a run's jobs are doing now: its engine reopened from the run record.

``Engine.open`` with the recorded plan and settings (never the run's pre-flight,
``check``: a run whose job definition or partition is gone since is still
watched and cancelled), then one ``poll`` with every recorded job id (the
engine batches it: AWS Batch 100 ids per ``DescribeJobs``), so any engine,
SLURM's too, answers ``kedro batch status`` as it answers its driver.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import click
from attrs import define

from ..batch.engine import Engine, EngineRun, JobState
from ..batch.engines import engine_named
from ..batch.errors import BatchError, BatchSettingsError
from ..batch.record_model import (
    CANCELLED,
    FAILED,
    RUN_CANCELLED,
    RUN_FAILED,
    RUN_RUNNING,
    RUN_SUCCEEDED,
    SUCCEEDED,
    JobAttempt,
    JobRecord,
    RunRecord,
    is_finished,
    parse_time,
)
from ..batch.records import shared_state
from ..batch.settings import BatchSettings
from ..batch.stores import RecordStore, live_holder


class EngineUnreachable(BatchError):
    """The engine of a run could not be opened or asked."""


def _open(record: RunRecord) -> Engine:
    try:
        engine = engine_named(record.engine, f"the record of run {record.run_id}")
    except BatchSettingsError as error:
        raise EngineUnreachable(
            f"Run {record.run_id} ran on the engine {record.engine!r}, which is not "
            f"installed here; install its package, or ask where it ran."
        ) from error
    try:
        settings = BatchSettings(**record.settings)
        spec_settings = engine.spec.settings
        engine_settings = (
            spec_settings(**(record.engine_settings or {})) if spec_settings else None
        )
    except (TypeError, ValueError) as error:
        raise EngineUnreachable(
            f"The record of run {record.run_id} holds settings this version cannot "
            f"use ({error}); use the kedro-pipelinename version that ran it."
        ) from error
    run = EngineRun(
        plan=record.plan(), settings=settings, project_path=Path(record.project_path)
    )
    try:
        return engine.open(run, engine_settings)
    except Exception as error:
        raise unreachable(record, error) from error


def unreachable(record: RunRecord, error: Exception) -> EngineUnreachable:
    """``error`` of the run's engine as the one line a user sees."""
    message = " ".join(str(error).split()) or type(error).__name__
    return EngineUnreachable(
        f"Could not ask {record.engine_label} about run {record.run_id}: {message}. "
        f"Check the network, credentials and endpoint, then try again."
    )


@contextlib.contextmanager
def reopened(record: RunRecord) -> Iterator[Engine]:
    """The run's engine, open; closed after the block.

    Raises:
        EngineUnreachable: When it is not installed, or cannot be opened.
    """
    engine = _open(record)
    try:
        yield engine
    finally:
        engine.close()


def poll_jobs(engine: Engine, record: RunRecord) -> Mapping[str, JobState]:
    """The engine's state of every submitted job of ``record``, by job id."""
    ids = [job.job_id for job in record.jobs if job.job_id is not None]
    if not ids:
        return {}
    try:
        return engine.poll(ids)
    except Exception as error:
        raise unreachable(record, error) from error


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if start is None:
        return None
    begun = parse_time(start)
    ended = parse_time(end) if end else datetime.now(timezone.utc)
    return max(0.0, (ended - begun).total_seconds())


@define(frozen=True, kw_only=True)
class AttemptView:
    """One attempt of a job as ``status`` shows it."""

    number: int
    driver: int
    job_id: str
    state: str
    reason: str | None
    exit_code: int | None
    log: str | None
    submitted: str
    finished: str | None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@define(frozen=True, kw_only=True)
class JobView:
    """One job as ``status`` shows it."""

    name: str
    nodes: tuple[str, ...]
    job_id: str | None
    state: str
    reason: str | None
    exit_code: int | None
    log: str | None
    started: str | None
    duration: float | None
    attempts: tuple[AttemptView, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nodes": list(self.nodes),
            "job_id": self.job_id,
            "state": self.state,
            "reason": self.reason,
            "exit_code": self.exit_code,
            "log": self.log,
            "started": self.started,
            "duration": self.duration,
            "attempts": [attempt.to_dict() for attempt in self.attempts],
        }


def _attempt_view(attempt: JobAttempt) -> AttemptView:
    return AttemptView(
        number=attempt.number,
        driver=attempt.driver,
        job_id=attempt.job_id,
        state=attempt.state,
        reason=attempt.reason,
        exit_code=attempt.exit_code,
        log=attempt.log,
        submitted=attempt.submitted,
        finished=attempt.finished,
    )


def job_view(job: JobRecord, live: JobState | None) -> JobView:
    """The job as the engine reports it now, or as recorded when it does not."""
    state, reason, exit_code, log = job.state, job.reason, job.exit_code, job.log
    attempts = [_attempt_view(attempt) for attempt in job.attempts]
    if live is not None and is_finished(job.state):
        # A child of an array the driver saw succeed from its parent's counts:
        # its log is asked when shown (``missing_logs``).
        log = log or live.log_location
        if attempts and attempts[-1].log is None:
            attempts[-1] = attrs.evolve(attempts[-1], log=log)
    elif live is not None:
        current = shared_state(live.status)
        state = current
        reason = live.reason or reason
        exit_code = live.exit_code if live.exit_code is not None else exit_code
        log = live.log_location or log
        if attempts:
            attempts[-1] = attrs.evolve(
                attempts[-1], state=state, reason=reason, exit_code=exit_code, log=log
            )
    finished = job.finished if is_finished(state) else None
    return JobView(
        name=job.name,
        nodes=job.job.nodes,
        job_id=job.job_id,
        state=state,
        reason=reason,
        exit_code=exit_code,
        log=log,
        started=job.submitted,
        duration=_seconds_between(job.submitted, finished)
        if finished or not is_finished(state)
        else None,
        attempts=tuple(attempts),
    )


def driven(where: Path | RecordStore, record: RunRecord) -> bool:
    """Whether a live driver holds the run (its lease, ``lease.py``)."""
    return live_holder(where, record.run_id) is not None


def run_state(record: RunRecord, jobs: list[JobView], *, driven: bool) -> str:
    """The run's state: the record's, or (its driver gone) what its jobs say."""
    if record.state != RUN_RUNNING or driven:
        return record.state
    states = [job.state for job in jobs]
    if any(job.job_id is not None and not is_finished(job.state) for job in jobs):
        return RUN_RUNNING  # the engine still runs them (AWS Batch, SLURM)
    if all(state == SUCCEEDED for state in states):
        return RUN_SUCCEEDED
    if CANCELLED in states and FAILED not in states:
        return RUN_CANCELLED
    return RUN_FAILED  # the driver died before the end: `kedro batch resume`


@define(frozen=True, kw_only=True)
class RunView:
    """A run as ``runs`` and ``status`` show it: one view of one record."""

    record: RunRecord
    state: str
    jobs: list[JobView]

    @property
    def succeeded(self) -> int:
        """How many jobs succeeded."""
        return sum(job.state == SUCCEEDED for job in self.jobs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.record.run_id,
            "state": self.state,
            "engine": self.record.engine,
            "pipeline_names": list(self.record.pipeline_names),
            "started": self.record.started,
            "finished": self.record.finished,
            "jobs_done": self.succeeded,
            "jobs_total": len(self.jobs),
            "drivers": [attrs.asdict(driver) for driver in self.record.drivers],
            "jobs": [job.to_dict() for job in self.jobs],
        }


def view_of(
    record: RunRecord, live: Mapping[str, JobState], *, driven: bool = False
) -> RunView:
    """The run with the engine's states ``live`` (by job id)."""
    jobs = [
        job_view(job, live.get(job.job_id) if job.job_id else None)
        for job in record.jobs
    ]
    return RunView(
        record=record, state=run_state(record, jobs, driven=driven), jobs=jobs
    )


#: How long ``kedro batch status`` waits for the logs an ended run's record
#: lacks: they complete the record, which is the answer, so an engine that
#: cannot be reached (no network, an outage) must not hold the command for
#: its client's timeouts and retries (minutes, on AWS's defaults).
LOG_LOOKUP_SECONDS = 15.0


def missing_logs(
    record: RunRecord, *, seconds: float = LOG_LOOKUP_SECONDS
) -> Mapping[str, JobState]:
    """The engine's states of the run's succeeded jobs whose log the record
    lacks, by job id; nothing when none lacks it or the engine cannot say
    within ``seconds``.

    The AWS engine polls an array's children through their parent's counts
    and never describes a child that succeeded (``engines/aws/children.py``):
    its log stream is asked here, when ``kedro batch status`` shows it, in one
    batched poll (100 per ``DescribeJobs``). The look-up runs in a daemon
    thread: one still waiting when the time is up is left behind, and ends
    with the command.
    """
    ids = [
        job.job_id
        for job in record.jobs
        if job.job_id is not None and job.state == SUCCEEDED and job.log is None
    ]
    if not ids:
        return {}
    found: list[Mapping[str, JobState]] = []

    def look_up() -> None:
        try:
            with reopened(record) as engine:
                found.append(engine.poll(ids))
        except Exception:  # the record still shows everything else
            return

    thread = threading.Thread(target=look_up, name="kedro-batch-logs", daemon=True)
    thread.start()
    thread.join(seconds)
    if not found:
        if thread.is_alive():
            click.echo(
                f"{record.engine_label} did not answer within {seconds:g} s: run "
                f"{record.run_id} is shown without the logs of {len(ids)} succeeded "
                f"jobs its record lacks. Run the command again to ask again.",
                err=True,
            )
        return {}
    return found[0]


def current_view(
    where: Path | RecordStore,
    record: RunRecord,
    *,
    strict: bool = False,
    logs: bool = False,
) -> RunView:
    """The run now: what ``runs``, ``status`` and ``--json`` all show.

    A run that ended, or that a live driver holds, is its record (the driver
    writes it every poll round). A run recorded as running whose driver is
    gone is asked of its engine (jobs may have finished since), and shown as
    the record when the engine cannot be reached.

    With ``logs`` (``kedro batch status``), a run that ended gets the logs
    its record lacks from its engine (``missing_logs``).

    Raises:
        EngineUnreachable: With ``strict``, instead of showing the record.
    """
    if record.state != RUN_RUNNING:
        return view_of(record, missing_logs(record) if logs else {})
    if driven(where, record):
        return view_of(record, {}, driven=True)
    try:
        with reopened(record) as engine:
            return view_of(record, poll_jobs(engine, record))
    except EngineUnreachable:
        if strict:
            raise
        return view_of(record, {})


def ask_engine(record: RunRecord) -> RunView:
    """The run as its engine sees it now (one open, one batched poll)."""
    with reopened(record) as engine:
        return view_of(record, poll_jobs(engine, record))
