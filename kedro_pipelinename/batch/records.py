"""Run records: what every batch run leaves in ``logs/batch/<run id>/run.json``.

A record holds what ``kedro batch runs/status/cancel/resume`` need from another
terminal, after the driver ended, or after it was killed: the run id, the engine
and the settings to reopen it with (``Engine.open``), the pipelines, the command
that started the run (its argv, working directory and ``KEDRO_*`` variables), the
driver's pid, and each job's nodes, parents, engine id and last known state.

``RunRecorder`` is the driver's ``RunEvents``: it rewrites the record atomically
(a temporary file, then ``os.replace``) when the run starts and ends, and at most
once per poll round in between (when the driver asks ``stop_requested``), so a
500-job round costs one write, not 500, and a driver killed with ``kill -9``
leaves a record one round old with ``state: running``.

A cancel request is a file of its own (``cancel`` beside ``run.json``): the
command that asks never writes the record a live driver is writing.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs
from attrs import define, field

from .engine import JobState, JobStatus
from .errors import BatchError, RunCancelled
from .pids import is_running, process_start
from .plan import JobPlan, PlannedJob

if TYPE_CHECKING:
    from .driver import RunOutcome
    from .engine import EngineRun

logger = logging.getLogger(__name__)

#: Where the records of a project's runs are, relative to the project.
RECORDS_DIR: Final = Path("logs") / "batch"
RECORD_FILE: Final = "run.json"
CANCEL_FILE: Final = "cancel"
#: The record format; a reader refuses records of a newer one.
FORMAT_VERSION: Final = 1

#: The states a user sees, for jobs and for runs (``kedro batch status --json``).
PENDING: Final = "PENDING"
RUNNING: Final = "RUNNING"
SUCCEEDED: Final = "SUCCEEDED"
FAILED: Final = "FAILED"
CANCELLED: Final = "CANCELLED"
#: Run states.
RUN_RUNNING: Final = "running"
RUN_SUCCEEDED: Final = "succeeded"
RUN_FAILED: Final = "failed"
RUN_CANCELLED: Final = "cancelled"

#: Engine settings whose names say they hold a secret are never written.
_SECRET_WORDS: Final = ("secret", "password", "token", "credential")


class RecordError(BatchError):
    """No such run record, or one this version cannot read."""


def now() -> str:
    """The current UTC time as the record writes it (ISO 8601, seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def shared_state(status: JobStatus) -> str:
    """The user's word for an engine's ``JobStatus``."""
    if status in (JobStatus.STARTING, JobStatus.RUNNING):
        return RUNNING
    if status is JobStatus.SUCCEEDED:
        return SUCCEEDED
    if status is JobStatus.FAILED:
        return FAILED
    return PENDING


def is_finished(state: str) -> bool:
    """Whether a job in the user's ``state`` will not change any more."""
    return state in (SUCCEEDED, FAILED, CANCELLED)


@define(kw_only=True)
class JobRecord:
    """One job of a run record; updated in place by the recorder.

    Attributes:
        job: The planned job (name, nodes, parents, command, environment).
        job_id: Its engine id, once submitted.
        state: ``PENDING``, ``RUNNING``, ``SUCCEEDED``, ``FAILED`` or ``CANCELLED``.
        engine_status: The engine's own word for it.
        reason: Why it is in that state, if known.
        exit_code: Its process's exit code, once known.
        log: Where its output is (a file, a CloudWatch stream).
        submitted: When it was submitted (or adopted).
        finished: When the driver saw it finish.
    """

    job: PlannedJob
    job_id: str | None = None
    state: str = PENDING
    engine_status: str | None = None
    reason: str | None = None
    exit_code: int | None = None
    log: str | None = None
    submitted: str | None = None
    finished: str | None = None

    @property
    def name(self) -> str:
        """The job name."""
        return self.job.name

    def observe(self, state: JobState) -> None:
        """Take what the engine reported; a cancelled job stays ``CANCELLED``."""
        new = shared_state(state.status)
        if not (self.state == CANCELLED and new == FAILED):
            self.state = new
        self.engine_status = state.engine_status
        self.reason = state.reason or self.reason
        self.exit_code = state.exit_code
        self.log = state.log_location or self.log
        if is_finished(self.state) and self.finished is None:
            self.finished = now()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.job.to_dict(),
            "job_id": self.job_id,
            "state": self.state,
            "engine_status": self.engine_status,
            "reason": self.reason,
            "exit_code": self.exit_code,
            "log": self.log,
            "submitted": self.submitted,
            "finished": self.finished,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobRecord:
        job = PlannedJob(
            name=data["name"],
            group=data.get("group", data["name"]),
            namespace=data.get("namespace"),
            nodes=data.get("nodes", ()),
            tags=data.get("tags", ()),
            depends_on=data.get("depends_on", ()),
            command=data.get("command", ()),
            env=data.get("env", {}),
        )
        return cls(
            job=job,
            job_id=data.get("job_id"),
            state=data.get("state", PENDING),
            engine_status=data.get("engine_status"),
            reason=data.get("reason"),
            exit_code=data.get("exit_code"),
            log=data.get("log"),
            submitted=data.get("submitted"),
            finished=data.get("finished"),
        )


def _jobs_by_name(jobs: Sequence[JobRecord]) -> dict[str, JobRecord]:
    return {job.name: job for job in jobs}


@define(kw_only=True)
class RunRecord:
    """A run as ``run.json`` holds it; updated in place by the recorder.

    Attributes:
        run_id: The run id.
        engine: The engine's entry-point name (``local``, ``aws``).
        engine_label: How the engine names itself ("AWS Batch queue q").
        project_path: The project directory of the driver.
        pipeline_names: The registered pipelines the run runs.
        grouping: How nodes were grouped into jobs.
        settings: The shared batch settings, as data.
        engine_settings: The engine's settings, as data (no secrets).
        command: ``argv`` (re-launchable: this interpreter's ``-m kedro``),
            ``cwd`` and ``env`` (the driver's ``KEDRO_*`` variables).
        driver: ``pid``, process ``start`` and ``host`` of the driver.
        state: ``running``, ``succeeded``, ``failed`` or ``cancelled``.
        started: When the first driver of the run started.
        updated: When the record was last written.
        finished: When the run ended, if it did.
        error: What stopped the run, if something did.
        attempts: How many drivers ran it (2 after one resume).
        jobs: Every job, parents before children.
    """

    run_id: str
    engine: str
    engine_label: str
    project_path: str
    pipeline_names: tuple[str, ...]
    grouping: str
    settings: dict[str, Any]
    engine_settings: dict[str, Any] | None
    command: dict[str, Any]
    driver: dict[str, Any]
    state: str = RUN_RUNNING
    started: str = field(factory=now)
    updated: str = field(factory=now)
    finished: str | None = None
    error: str | None = None
    attempts: int = 1
    jobs: list[JobRecord] = field(factory=list)

    def job(self, name: str) -> JobRecord:
        """The job called ``name``."""
        return _jobs_by_name(self.jobs)[name]

    def plan(self) -> JobPlan:
        """The run's plan, rebuilt from the record (to reopen its engine)."""
        return JobPlan(
            run_id=self.run_id,
            pipeline_names=self.pipeline_names,
            grouping=self.grouping,
            jobs=[job.job for job in self.jobs],
        )

    def done(self) -> int:
        """How many jobs succeeded."""
        return sum(job.state == SUCCEEDED for job in self.jobs)

    def driver_alive(self) -> bool:
        """Whether the run's driver still runs.

        On its own host, by pid and start time; a driver on another machine is
        taken for alive while its record is fresh (it writes once per round
        with news, and the longest round is ``max_poll_interval``).
        """
        pid, host = self.driver.get("pid"), self.driver.get("host")
        if host is None:  # a record without its driver's host: nobody to wait for
            return False
        if host == socket.gethostname():
            return isinstance(pid, int) and is_running(pid, self.driver.get("start"))
        age = datetime.now(timezone.utc) - datetime.fromisoformat(self.updated)
        limit = 3 * float(self.settings.get("max_poll_interval", 30.0)) + 60
        return age.total_seconds() < limit

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "run_id": self.run_id,
            "engine": self.engine,
            "engine_label": self.engine_label,
            "state": self.state,
            "pipeline_names": list(self.pipeline_names),
            "grouping": self.grouping,
            "project_path": self.project_path,
            "started": self.started,
            "updated": self.updated,
            "finished": self.finished,
            "error": self.error,
            "attempts": self.attempts,
            "command": self.command,
            "driver": self.driver,
            "settings": self.settings,
            "engine_settings": self.engine_settings,
            "jobs": [job.to_dict() for job in self.jobs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        if int(data.get("format", 0)) > FORMAT_VERSION:
            raise RecordError(
                f"The record of run {data.get('run_id')} has format "
                f"{data['format']}; upgrade kedro-pipelinename to read it."
            )
        return cls(
            run_id=data["run_id"],
            engine=data["engine"],
            engine_label=data.get("engine_label", data["engine"]),
            project_path=data["project_path"],
            pipeline_names=tuple(data.get("pipeline_names", ())),
            grouping=data.get("grouping", "namespace"),
            settings=dict(data.get("settings") or {}),
            engine_settings=data.get("engine_settings"),
            command=dict(data.get("command") or {}),
            driver=dict(data.get("driver") or {}),
            state=data.get("state", RUN_RUNNING),
            started=data.get("started") or now(),
            updated=data.get("updated") or now(),
            finished=data.get("finished"),
            error=data.get("error"),
            attempts=int(data.get("attempts", 1)),
            jobs=[JobRecord.from_dict(job) for job in data.get("jobs", [])],
        )


# --- where records are --------------------------------------------------------------


def records_dir(project_path: Path) -> Path:
    """The directory of the project's run records."""
    return Path(project_path) / RECORDS_DIR


def run_dir(project_path: Path, run_id: str) -> Path:
    """The directory of one run's record."""
    return records_dir(project_path) / run_id


def write_record(project_path: Path, record: RunRecord) -> None:
    """Write ``record`` atomically: readers see the old or the new one, whole."""
    directory = run_dir(project_path, record.run_id)
    directory.mkdir(parents=True, exist_ok=True)
    record.updated = now()
    temporary = directory / f".{RECORD_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(record.to_dict(), indent=2, default=str) + "\n")
    os.replace(temporary, directory / RECORD_FILE)


def _read(path: Path) -> RunRecord:
    try:
        return RunRecord.from_dict(json.loads(path.read_text()))
    except (KeyError, TypeError, ValueError) as error:
        raise RecordError(f"The run record {path} is unreadable ({error}).") from error


def list_records(project_path: Path) -> list[RunRecord]:
    """Every readable record of the project, newest first."""
    records = []
    for path in records_dir(project_path).glob(f"*/{RECORD_FILE}"):
        try:
            records.append(_read(path))
        except (OSError, RecordError) as error:
            logger.warning("Skipping %s: %s", path, error)
    # Run ids are UTC timestamps: newest first is descending.
    return sorted(records, key=lambda record: (record.started, record.run_id))[::-1]


def load_record(project_path: Path, run_id: str | None = None) -> RunRecord:
    """The record of ``run_id``, or of the newest run.

    Raises:
        RecordError: Saying which runs there are when there is no such record.
    """
    if run_id is None:
        records = list_records(project_path)
        if not records:
            raise RecordError(
                f"No batch runs are recorded in {records_dir(project_path)}; start "
                f"one with `kedro run --runner kedro_pipelinename.batch.BatchRunner`."
            )
        return records[0]
    path = run_dir(project_path, run_id) / RECORD_FILE
    if path.is_file():
        return _read(path)
    newest = [record.run_id for record in list_records(project_path)[:5]]
    known = f"the newest: {', '.join(newest)}" if newest else "none is recorded"
    raise RecordError(
        f"No batch run {run_id!r} in {records_dir(project_path)} ({known}); see "
        f"`kedro batch runs`."
    )


def request_cancel(project_path: Path, run_id: str, reason: str) -> Path:
    """Ask the run's driver to stop (it looks once per poll round)."""
    path = run_dir(project_path, run_id) / CANCEL_FILE
    temporary = path.with_name(f".{CANCEL_FILE}.{os.getpid()}.tmp")
    temporary.write_text(reason + "\n")
    os.replace(temporary, path)
    return path


def cancel_reason(project_path: Path, run_id: str) -> str | None:
    """Why the run was asked to stop, or ``None``."""
    try:
        return (run_dir(project_path, run_id) / CANCEL_FILE).read_text().strip()
    except OSError:
        return None


# --- what the driver records ----------------------------------------------------------


def _is_kedro_cli(argv0: str) -> bool:
    # `python -m kedro` shows itself as "python -m kedro" (Kedro's __main__ sets
    # argv[0] so for its help); the script is `.../bin/kedro`.
    path = Path(argv0)
    return (
        argv0.endswith("-m kedro")
        or path.name == "kedro"
        or path.parts[-2:] == ("kedro", "__main__.py")
    )


def driver_command(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """The command that started this driver, re-launchable from another process.

    A ``kedro`` CLI (the script, or ``python -m kedro``) becomes this
    interpreter's ``-m kedro``: a ``kedro`` on ``PATH`` may be another
    environment's. The ``KEDRO_*`` variables are kept; ``--params`` and
    ``--runner-params`` are in the argv.
    """
    argv = list(sys.argv if argv is None else argv)
    environ = os.environ if environ is None else environ
    if argv and _is_kedro_cli(argv[0]):
        relaunch = [sys.executable, "-m", "kedro", *argv[1:]]
    else:
        relaunch = [sys.executable, *argv]
    return {
        "argv": relaunch,
        "cwd": str(cwd or Path.cwd()),
        "env": {
            name: value
            for name, value in sorted(environ.items())
            if name.startswith("KEDRO_")
        },
    }


def settings_data(settings: Any) -> dict[str, Any] | None:
    """An attrs settings object as JSON data, without fields that name a secret."""
    if settings is None:
        return None
    return {
        name: value
        for name, value in attrs.asdict(settings).items()
        if not any(word in name.lower() for word in _SECRET_WORDS)
    }


class RunRecorder:
    """The ``RunEvents`` that keeps a run's record (see the module doc).

    Args:
        run: The run (plan, settings, project directory).
        engine: The engine's entry-point name.
        engine_settings: The engine's settings object, or ``None``.

    Example:
        >>> recorder = RunRecorder(run, "local", LocalBatchSettings())
        >>> Driver(plan, engine, settings, progress, events=recorder).run()
    """

    def __init__(self, run: EngineRun, engine: str, engine_settings: Any) -> None:
        self._project_path = Path(run.project_path)
        earlier = self._earlier(run.run_id)
        pid = os.getpid()
        self.record = RunRecord(
            run_id=run.run_id,
            engine=engine,
            engine_label=engine,
            project_path=str(self._project_path),
            pipeline_names=run.plan.pipeline_names,
            grouping=run.plan.grouping,
            settings=settings_data(run.settings) or {},
            engine_settings=settings_data(engine_settings),
            command=driver_command(),
            driver={
                "pid": pid,
                "start": process_start(pid),
                "host": socket.gethostname(),
            },
            jobs=[JobRecord(job=job) for job in run.plan.jobs],
        )
        if earlier is not None:  # a resumed run keeps when it first started
            self.record.started = earlier.started
            self.record.attempts = earlier.attempts + 1
        # A cancel request was for the driver that ran before this one.
        (run_dir(self._project_path, run.run_id) / CANCEL_FILE).unlink(missing_ok=True)
        self._jobs = _jobs_by_name(self.record.jobs)
        self._dirty = False

    def _earlier(self, run_id: str) -> RunRecord | None:
        try:
            return load_record(self._project_path, run_id)
        except (OSError, RecordError):
            return None

    def _write(self) -> None:
        try:
            write_record(self._project_path, self.record)
            self._dirty = False
        except OSError:  # a full disk must not stop the run
            logger.exception("Could not write the run record of %s", self.record.run_id)

    # --- RunEvents ------------------------------------------------------------------

    def started(self, plan: JobPlan, label: str) -> None:
        self.record.engine_label = label
        self._write()

    def submitted(self, name: str, job_id: str) -> None:
        job = self._jobs[name]
        job.job_id = job_id
        job.state = PENDING
        job.submitted = now()
        job.finished = None
        self._dirty = True

    def changed(self, name: str, state: JobState) -> None:
        self._jobs[name].observe(state)
        self._dirty = True

    def cancelled(self, names: Sequence[str], reason: str) -> None:
        for name in names:
            job = self._jobs[name]
            job.state = CANCELLED
            job.reason = reason
            job.finished = now()
        self._dirty = True

    def stop_requested(self) -> str | None:
        if self._dirty:
            self._write()
        return cancel_reason(self._project_path, self.record.run_id)

    def finished(self, outcome: RunOutcome | None, error: BaseException | None) -> None:
        record = self.record
        record.finished = now()
        if error is not None:
            stopped = isinstance(error, (RunCancelled, KeyboardInterrupt, SystemExit))
            record.state = RUN_CANCELLED if stopped else RUN_FAILED
            record.error = f"{type(error).__name__}: {error}".rstrip(": ")
        elif outcome is not None:
            record.state = RUN_SUCCEEDED if outcome.ok else RUN_FAILED
            record.error = None
        for job in record.jobs:
            if job.job_id is None and job.state == PENDING:
                # Never submitted: a parent failed, or fail_fast stopped the run.
                job.state = CANCELLED
                job.reason = job.reason or "not run: the run ended first"
        self._write()
