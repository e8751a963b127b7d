"""Run records: what every batch run leaves in ``logs/batch/<run id>/run.json``.

The record's model is ``record_model.py``, its files ``record_store.py``, its
owner ``lease.py`` and what it may hold ``relaunch/redaction.py``; this module is the
driver's side: ``RunRecorder``, the ``RunEvents`` that keeps the record while
the driver holds the run's lease.

It rewrites the record atomically when the run starts and ends, and at most
once per poll round in between (when the driver asks ``stop_requested``, which
also renews the lease), so a 500-job round costs one write, not 500, and a
driver killed with ``kill -9`` leaves a record one round old with ``state:
running``. A resumed run keeps everything earlier drivers recorded: each driver
is a ``DriverAttempt`` and each submission of a job a ``JobAttempt``, with its
own engine id, reason and log.

``mark_cancelled`` is the one way a job of a record becomes ``CANCELLED``: the
driver (``RunRecorder.cancelled``) and ``kedro batch cancel`` of a run whose
driver is gone both call it, and it counts what it changed.

A cancel request is a file of its own (``cancel`` beside ``run.json``): the
command that asks never writes the record a live driver is writing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..names.logs import logger_for
from ..relaunch.redaction import Redactor, looks_secret, reference
from .engine import JobState, JobStatus
from .errors import RunCancelled
from .pids import process_start
from .plan import JobPlan, PlannedJob
from .record_model import (
    CANCELLED,
    FAILED,
    PENDING,
    RUN_CANCELLED,
    RUN_FAILED,
    RUN_RUNNING,
    RUN_SUCCEEDED,
    RUNNING,
    SUCCEEDED,
    DriverAttempt,
    JobAttempt,
    JobRecord,
    RecordError,
    ResumeCommand,
    RunRecord,
    is_finished,
    now,
)
from .record_store import (
    CANCEL_FILE,
    RECORD_FILE,
    RECORDS_DIR,
    cancel_reason,
    list_records,
    load_record,
    request_cancel,
    run_dir,
    write_record,
)
from .stores import LocalStore, RecordStore

if TYPE_CHECKING:
    from .engine import EngineRun
    from .events import RunOutcome
    from .stores import RunLease

__all__ = [
    "CANCELLED",
    "CANCEL_FILE",
    "FAILED",
    "PENDING",
    "RECORDS_DIR",
    "RECORD_FILE",
    "RUNNING",
    "RUN_CANCELLED",
    "RUN_FAILED",
    "RUN_RUNNING",
    "RUN_SUCCEEDED",
    "SUCCEEDED",
    "JobRecord",
    "RecordError",
    "RunRecord",
    "RunRecorder",
    "cancel_reason",
    "is_finished",
    "list_records",
    "load_record",
    "mark_cancelled",
    "now",
    "request_cancel",
    "run_dir",
    "shared_state",
    "write_record",
]

logger = logger_for(__name__)

#: Why an unfinished attempt of a dead driver ends when its job is submitted again.
REPLACED: Final = "its driver was gone; the job was submitted again"


def shared_state(status: JobStatus) -> str:
    """The user's word for an engine's ``JobStatus``."""
    if status in (JobStatus.STARTING, JobStatus.RUNNING):
        return RUNNING
    if status is JobStatus.SUCCEEDED:
        return SUCCEEDED
    if status is JobStatus.FAILED:
        return FAILED
    return PENDING


def observe(attempt: JobAttempt, state: JobState, redactor: Redactor) -> None:
    """Take what the engine reported; a cancelled attempt stays ``CANCELLED``."""
    new = shared_state(state.status)
    if not (attempt.state == CANCELLED and new == FAILED):
        attempt.state = new
    attempt.engine_status = state.engine_status
    if state.reason:
        attempt.reason = redactor.text(state.reason)
    attempt.exit_code = state.exit_code
    attempt.log = state.log_location or attempt.log
    if is_finished(attempt.state) and attempt.finished is None:
        attempt.finished = now()


def mark_cancelled(record: RunRecord, names: Iterable[str], reason: str) -> list[str]:
    """Mark the unfinished jobs of ``names`` ``CANCELLED``; the ones it changed.

    The one way a record's job becomes cancelled (the driver, ``kedro batch
    cancel`` and a dead driver's cleanup all call it).
    """
    wanted = set(names)
    return [
        job.name
        for job in record.jobs
        if job.name in wanted and job.mark(CANCELLED, reason)
    ]


def redacted_job(job: PlannedJob, redactor: Redactor) -> PlannedJob:
    """``job`` as the record and the logs may show it."""
    return attrs.evolve(
        job,
        command=[redactor.text(word) for word in job.command],
        env=redactor.env(job.env),
    )


def settings_data(settings: Any, redactor: Redactor) -> dict[str, Any] | None:
    """An attrs settings object as JSON data, secrets as references."""
    if settings is None:
        return None
    data: dict[str, Any] = {}
    for name, value in attrs.asdict(settings).items():
        if looks_secret(name) and value is not None:
            data[name] = reference(name.upper())
        elif name == "extra_env" and isinstance(value, Mapping):
            data[name] = redactor.env(value)
        else:
            data[name] = redactor.data(value)
    return data


class RunRecorder:
    """The ``RunEvents`` that keeps a run's record (see the module doc).

    Args:
        run: The run (plan, settings, project directory).
        engine: The engine's entry-point name.
        engine_settings: The engine's settings object, or ``None``.
        resume: The command that resumes the run (kept from the first driver).
        redactor: What hides the run's secrets.
        lease: The run's lease, held by this driver; renewed once per round.
        store: Where the record lives (default: the project's ``logs/batch``).

    Example:
        >>> recorder = RunRecorder(run, "local", LocalBatchSettings())
        >>> Driver(plan, engine, settings, progress, events=recorder).run()
    """

    def __init__(
        self,
        run: EngineRun,
        engine: str,
        engine_settings: Any,
        *,
        resume: ResumeCommand | None = None,
        redactor: Redactor | None = None,
        lease: RunLease | None = None,
        store: RecordStore | None = None,
    ) -> None:
        self._project_path = Path(run.project_path)
        self._store = store if store is not None else LocalStore(self._project_path)
        self._redactor = redactor or Redactor()
        self._lease = lease
        earlier = self._earlier(run.run_id)
        pid = os.getpid()
        drivers = list(earlier.drivers) if earlier else []
        for old in drivers:  # a driver killed with kill -9 never said how it ended
            if old.state == RUN_RUNNING:
                old.state, old.finished = RUN_FAILED, old.finished or now()
                old.error = old.error or "the driver stopped without ending the run"
        self._driver = DriverAttempt(
            number=len(drivers) + 1,
            host=socket.gethostname(),
            pid=pid,
            process_start=process_start(pid),
        )
        old_jobs = {job.name: job for job in earlier.jobs} if earlier else {}
        self.record = RunRecord(
            run_id=run.run_id,
            engine=engine,
            engine_label=engine,
            project_path=str(self._project_path),
            pipeline_names=run.plan.pipeline_names,
            grouping=run.plan.grouping,
            settings=settings_data(run.settings, self._redactor) or {},
            engine_settings=settings_data(engine_settings, self._redactor),
            resume=(earlier.resume if earlier and earlier.resume else resume),
            drivers=[*drivers, self._driver],
            jobs=[
                JobRecord(
                    job=redacted_job(job, self._redactor),
                    attempts=list(old_jobs[job.name].attempts)
                    if job.name in old_jobs
                    else [],
                )
                for job in run.plan.jobs
            ],
        )
        if earlier is not None:  # a resumed run keeps when it first started
            self.record.started = earlier.started
        # A cancel request was for the driver that ran before this one.
        self._store.clear_cancel(run.run_id)
        self._jobs = {job.name: job for job in self.record.jobs}
        self._dirty = False

    def _earlier(self, run_id: str) -> RunRecord | None:
        try:
            return self._store.load_record(run_id)
        except RecordError as error:
            if self._store.has_record(run_id):
                logger.warning("Starting a new record: %s", error)
            return None

    def _write(self) -> None:
        if self._lease is not None and not self._lease.holding:
            # Another driver took the run over (renew logged it): the record
            # is its to write now.
            return
        try:
            self._store.write_record(self.record)
            self._dirty = False
        except Exception:  # a full disk or an unreachable S3 must not stop the run
            logger.exception("Could not write the run record of %s", self.record.run_id)

    # --- RunEvents ------------------------------------------------------------------

    def started(self, plan: JobPlan, label: str) -> None:
        self.record.engine_label = label
        self._write()

    def submitted(self, name: str, job_id: str) -> None:
        job = self._jobs[name]
        latest = job.latest
        if latest is not None and latest.job_id == job_id and latest.state != FAILED:
            job.state = latest.state  # adopted: the same attempt goes on
        else:
            if latest is not None and not is_finished(latest.state):
                latest.state, latest.finished = CANCELLED, now()
                latest.reason = REPLACED
            job.attempts.append(
                JobAttempt(
                    number=len(job.attempts) + 1,
                    driver=self._driver.number,
                    job_id=job_id,
                )
            )
            job.state, job.reason = PENDING, None
        self._dirty = True

    def changed(self, name: str, state: JobState) -> None:
        job = self._jobs[name]
        attempt = job.latest
        if attempt is None:
            return
        observe(attempt, state, self._redactor)
        job.state, job.reason = attempt.state, attempt.reason
        self._dirty = True

    def cancelled(self, names: Iterable[str], reason: str) -> None:
        mark_cancelled(self.record, names, self._redactor.text(reason))
        self._dirty = True

    def stop_requested(self) -> str | None:
        if self._lease is not None:  # first: a driver that lost it writes nothing
            self._lease.renew()
        if self._dirty:
            self._write()
        return self._store.cancel_reason(self.record.run_id)

    def finished(self, outcome: RunOutcome | None, error: BaseException | None) -> None:
        record = self.record
        record.finished = now()
        if error is not None:
            stopped = isinstance(error, (RunCancelled, KeyboardInterrupt, SystemExit))
            record.state = RUN_CANCELLED if stopped else RUN_FAILED
            message = f"{type(error).__name__}: {error}".rstrip(": ")
            record.error = self._redactor.text(message)
        elif outcome is not None:
            record.state = RUN_SUCCEEDED if outcome.ok else RUN_FAILED
            failed = ", ".join(failure.job for failure in outcome.failures)
            record.error = None if outcome.ok else f"job(s) failed: {failed or 'none'}"
        for job in record.jobs:
            if job.state == PENDING and job.job_id is None:
                # Never submitted: a parent failed, or fail_fast stopped the run.
                job.mark(CANCELLED, "not run: the run ended first")
            elif not is_finished(job.state):
                latest = job.latest
                if latest is not None and latest.driver != self._driver.number:
                    continue  # an earlier driver's job this one never adopted
                job.mark(CANCELLED, "the driver ended while it ran")
        self._driver.state = record.state
        self._driver.finished = record.finished
        self._driver.error = record.error
        self._write()
