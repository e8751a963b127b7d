"""The run record's model: typed, versioned, validated on read.

A run record (``logs/batch/<run id>/run.json``) is a ``RunRecord``: the run, the
drivers that ran it (``DriverAttempt``, one per ``kedro run`` / resume), its jobs
(``JobRecord``) and each job's attempts (``JobAttempt``, one per submission).
``cattrs`` turns it into JSON data and back with strict types (a string is not
an int, an int is not a string), and ``attrs`` validators check the states and
timestamps. ``parse_record`` reads format 2 and migrates format 1 (the record
of kedro-pipelinename before attempts were kept), and raises ``RecordError``
with one line naming what is wrong for anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final

import cattrs
from attrs import Attribute, define, field

from ..run.run_id import InvalidRunIdError, check_safe_run_id
from .errors import BatchError
from .plan import JobPlan, PlannedJob
from .plan_render import job_data

#: The record format written; format 1 is read and migrated.
FORMAT_VERSION: Final = 2

#: The states a user sees, for jobs and for runs (``kedro batch status --json``).
PENDING: Final = "PENDING"
RUNNING: Final = "RUNNING"
SUCCEEDED: Final = "SUCCEEDED"
FAILED: Final = "FAILED"
CANCELLED: Final = "CANCELLED"
JOB_STATES: Final = (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED)
#: Run states.
RUN_RUNNING: Final = "running"
RUN_SUCCEEDED: Final = "succeeded"
RUN_FAILED: Final = "failed"
RUN_CANCELLED: Final = "cancelled"
RUN_STATES: Final = (RUN_RUNNING, RUN_SUCCEEDED, RUN_FAILED, RUN_CANCELLED)


class RecordError(BatchError):
    """No such run record, or one this version cannot read."""


def now() -> str:
    """The current UTC time as the record writes it (ISO 8601, seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def parse_time(text: str) -> datetime:
    """A record's timestamp; naive ones (none are written) are taken as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def is_finished(state: str) -> bool:
    """Whether a job in the user's ``state`` will not change any more."""
    return state in (SUCCEEDED, FAILED, CANCELLED)


def _timestamp(instance: object, attribute: Attribute[Any], value: object) -> None:
    if value is None and attribute.default is None:
        return
    if not isinstance(value, str):
        raise ValueError(f"{attribute.name} must be a timestamp, not {value!r}")
    try:
        parse_time(value)
    except ValueError as error:
        raise ValueError(
            f"{attribute.name} is {value!r}, not an ISO 8601 timestamp"
        ) from error


def _one_of(choices: tuple[str, ...]) -> Any:
    def check(instance: object, attribute: Attribute[Any], value: object) -> None:
        if value not in choices:
            raise ValueError(
                f"{attribute.name} is {value!r}, not one of {', '.join(choices)}"
            )

    return check


def _path_safe(value: str, what: str) -> str:
    # Engines make file names of job names and ids (the local engine's
    # <job>.json drives its pid kills): nothing in a record may leave its dir.
    try:
        check_safe_run_id(value, source=what)
    except InvalidRunIdError as error:
        raise ValueError(
            f"{what} is {value!r}, which names another directory"
        ) from error
    return value


def _safe_name(instance: object, attribute: Attribute[Any], value: object) -> None:
    if isinstance(value, str):
        _path_safe(value, attribute.name)


@define(kw_only=True)
class JobAttempt:
    """One submission of a job: its own engine id, state, reason and log.

    Attributes:
        number: 1 for the first submission of the job, then 2, 3...
        driver: The number of the driver (``DriverAttempt``) that submitted it.
        job_id: Its engine id.
        state: ``PENDING`` ... ``CANCELLED`` (``JOB_STATES``).
        engine_status: The engine's own word for it.
        reason: Why it is in that state, if known.
        exit_code: Its process's exit code, once known.
        log: Where its output is (a file, a CloudWatch stream).
        submitted: When it was submitted (or adopted).
        finished: When a driver saw it finish.
    """

    number: int
    driver: int
    job_id: str = field(validator=_safe_name)
    state: str = field(default=PENDING, validator=_one_of(JOB_STATES))
    engine_status: str | None = None
    reason: str | None = None
    exit_code: int | None = None
    log: str | None = None
    submitted: str = field(factory=now, validator=_timestamp)
    finished: str | None = field(default=None, validator=_timestamp)


@define(kw_only=True)
class JobRecord:
    """One job of a run: its plan, its state now, and every attempt of it.

    Attributes:
        job: The planned job (name, nodes, parents, command, environment),
            redacted.
        state: The job's state: its latest attempt's, or ``CANCELLED`` for a
            job never submitted because the run ended first.
        reason: Why it is in that state, if known.
        attempts: Every submission, oldest first.
    """

    job: PlannedJob
    state: str = field(default=PENDING, validator=_one_of(JOB_STATES))
    reason: str | None = None
    attempts: list[JobAttempt] = field(factory=list)

    @property
    def name(self) -> str:
        """The job name."""
        return self.job.name

    @property
    def latest(self) -> JobAttempt | None:
        """The latest attempt, if the job was ever submitted."""
        return self.attempts[-1] if self.attempts else None

    @property
    def job_id(self) -> str | None:
        """The engine id of the latest attempt."""
        return self.latest.job_id if self.latest else None

    @property
    def exit_code(self) -> int | None:
        """The exit code of the latest attempt."""
        return self.latest.exit_code if self.latest else None

    @property
    def log(self) -> str | None:
        """The log of the latest attempt."""
        return self.latest.log if self.latest else None

    @property
    def submitted(self) -> str | None:
        """When the latest attempt was submitted."""
        return self.latest.submitted if self.latest else None

    @property
    def finished(self) -> str | None:
        """When the latest attempt finished."""
        return self.latest.finished if self.latest else None

    def mark(self, state: str, reason: str | None) -> bool:
        """Set the job's (and its latest attempt's) state; whether it changed.

        A finished attempt gets its finishing time; a job already finished
        keeps its state.
        """
        if is_finished(self.state):
            return False
        self.state = state
        self.reason = reason or self.reason
        attempt = self.latest
        if attempt is not None and not is_finished(attempt.state):
            attempt.state = state
            attempt.reason = reason or attempt.reason
            if is_finished(state):
                attempt.finished = now()
        return True


@define(kw_only=True)
class DriverAttempt:
    """One driver of the run (the first ``kedro run``, then each resume).

    Attributes:
        number: 1, 2, ...
        host: The host it ran on.
        pid: Its process id there.
        process_start: Its process's start time (``pids.process_start``), to
            tell it from a process that reused the pid.
        started: When it started.
        finished: When it ended, if it did.
        state: How it ended (``RUN_STATES``); ``running`` while it runs.
        error: What stopped it, if something did.
    """

    number: int
    host: str
    pid: int
    process_start: str | None = None
    started: str = field(factory=now, validator=_timestamp)
    finished: str | None = field(default=None, validator=_timestamp)
    state: str = field(default=RUN_RUNNING, validator=_one_of(RUN_STATES))
    error: str | None = None


@define(kw_only=True)
class ResumeCommand:
    """The command that resumes the run, built once by the first driver.

    Attributes:
        argv: ``kedro run ...`` with the run's pipelines, env, params and
            runner; secret values are ``${NAME}`` references.
        env: Variables set before it (``KEDRO_BATCH_*``); hidden values are
            ``${NAME}`` references.
        cwd: The directory it runs in (the project).
    """

    argv: tuple[str, ...]
    env: dict[str, str] = field(factory=dict)
    cwd: str = "."


@define(kw_only=True)
class RunRecord:
    """A run as ``run.json`` holds it; updated in place by its lease holder.

    Attributes:
        run_id: The run id.
        engine: The engine's entry-point name (``local``, ``aws``).
        engine_label: How the engine names itself ("AWS Batch queue q").
        project_path: The project directory of the driver.
        pipeline_names: The registered pipelines the run runs.
        grouping: How nodes were grouped into jobs.
        settings: The shared batch settings, as data (redacted).
        engine_settings: The engine's settings, as data (redacted).
        resume: The command that resumes the run, if it has one.
        state: ``running``, ``succeeded``, ``failed`` or ``cancelled``.
        started: When the first driver of the run started.
        updated: When the record was last written.
        finished: When the run ended, if it did.
        error: What stopped the latest driver, if something did.
        drivers: Every driver of the run, oldest first.
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
    resume: ResumeCommand | None = None
    state: str = field(default=RUN_RUNNING, validator=_one_of(RUN_STATES))
    started: str = field(factory=now, validator=_timestamp)
    updated: str = field(factory=now, validator=_timestamp)
    finished: str | None = field(default=None, validator=_timestamp)
    error: str | None = None
    drivers: list[DriverAttempt] = field(factory=list)
    jobs: list[JobRecord] = field(factory=list)

    def job(self, name: str) -> JobRecord:
        """The job called ``name``."""
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)

    @property
    def attempts(self) -> int:
        """How many drivers ran it (2 after one resume)."""
        return len(self.drivers)

    @property
    def driver(self) -> DriverAttempt | None:
        """The latest driver."""
        return self.drivers[-1] if self.drivers else None

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


# --- JSON data ----------------------------------------------------------------


def _strict(kind: type) -> Any:
    def structure(value: object, _: type) -> object:
        # cattrs would take str(5) for a str and int("5") for an int.
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kind) or (
            kind is not bool and isinstance(value, bool)
        ):
            raise TypeError(f"expected {kind.__name__}, got {value!r}")
        return value

    return structure


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    for kind in (str, int, float, bool):
        converter.register_structure_hook(kind, _strict(kind))
    # The plan document's job schema (plan_render.py): one schema for both.
    converter.register_unstructure_hook(PlannedJob, job_data)
    converter.register_structure_hook(
        PlannedJob,
        lambda data, _: _planned_job(data),
    )
    return converter


def _planned_job(data: object) -> PlannedJob:
    if not isinstance(data, Mapping):
        raise TypeError(f"expected a job mapping, got {data!r}")
    strings = _strict(str)
    name = _path_safe(strings(data["name"], str), "a job name")
    listed = {
        key: [strings(item, str) for item in _list(data.get(key, []), key)]
        for key in ("nodes", "tags", "depends_on", "command")
    }
    env = data.get("env", {})
    if not isinstance(env, Mapping):
        raise TypeError(f"env must be a mapping, got {env!r}")
    namespace = data.get("namespace")
    return PlannedJob(
        name=name,
        group=strings(data.get("group", name), str),
        namespace=None if namespace is None else strings(namespace, str),
        env={strings(key, str): strings(value, str) for key, value in env.items()},
        **listed,
    )


def _list(value: object, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list, got {value!r}")
    return value


CONVERTER: Final = _converter()


def record_data(record: RunRecord) -> dict[str, Any]:
    """``record`` as JSON data, with its format."""
    data: dict[str, Any] = CONVERTER.unstructure(record)
    return {"format": FORMAT_VERSION, **data}


def _migrated(data: Mapping[str, Any]) -> dict[str, Any]:
    """A format-1 record as format-2 data: nothing of it is lost.

    Format 1 had one flat job record (the plan's fields and the latest
    submission's), one ``driver`` and a count of ``attempts``, and the driver's
    ``command``.
    """
    driver = data.get("driver") or {}
    count = data.get("attempts", 1)
    started = data.get("started") or now()
    drivers = []
    if isinstance(driver, Mapping) and isinstance(driver.get("pid"), int):
        drivers.append(
            {
                "number": count if isinstance(count, int) else 1,
                "host": driver.get("host") or "unknown",
                "pid": driver["pid"],
                "process_start": driver.get("start"),
                "started": started,
                "finished": data.get("finished"),
                "state": data.get("state", RUN_RUNNING),
                "error": data.get("error"),
            }
        )
    jobs = []
    for job in _list(data.get("jobs", []), "jobs"):
        if not isinstance(job, Mapping):
            raise TypeError(f"a job must be a mapping, got {job!r}")
        attempts = []
        if job.get("job_id") is not None:
            attempts.append(
                {
                    "number": 1,
                    "driver": drivers[0]["number"] if drivers else 1,
                    "job_id": job["job_id"],
                    "state": job.get("state", PENDING),
                    "engine_status": job.get("engine_status"),
                    "reason": job.get("reason"),
                    "exit_code": job.get("exit_code"),
                    "log": job.get("log"),
                    "submitted": job.get("submitted") or started,
                    "finished": job.get("finished"),
                }
            )
        jobs.append(
            {
                "job": job,
                "state": job.get("state", PENDING),
                "reason": job.get("reason"),
                "attempts": attempts,
            }
        )
    command = data.get("command") or {}
    resume = None
    if isinstance(command, Mapping) and command.get("argv"):
        resume = {
            "argv": command["argv"],
            "env": command.get("env") or {},
            "cwd": command.get("cwd") or data.get("project_path"),
        }
    return {
        **{key: value for key, value in data.items() if key not in ("command",)},
        "started": started,
        "engine_label": data.get("engine_label", data.get("engine")),
        "grouping": data.get("grouping", "namespace"),
        "pipeline_names": data.get("pipeline_names", []),
        "settings": data.get("settings") or {},
        "engine_settings": data.get("engine_settings"),
        "resume": resume,
        "drivers": drivers,
        "jobs": jobs,
    }


def _describe(error: BaseException, kind: type | None) -> str:
    """One problem of a record, as ``transform_error`` puts it before its path."""
    if isinstance(error, KeyError):
        return "required field missing"
    return " ".join(str(error).split()) or type(error).__name__


def _check_settings(record: RunRecord) -> None:
    from .settings import BatchSettings

    try:
        BatchSettings(**record.settings)
    except Exception as error:  # a validator's error names the setting
        raise ValueError(f"settings: {' '.join(str(error).split())}") from error


def parse_record(data: object) -> RunRecord:
    """The ``RunRecord`` of JSON ``data`` (format 1 or 2).

    Raises:
        RecordError: Saying in one line what is wrong (its caller adds the
            file): not a mapping, an unknown format, a missing or mistyped
            field, a bad state or timestamp, settings that do not validate.
    """
    if not isinstance(data, Mapping):
        raise RecordError(f"the top level is {type(data).__name__}, not an object")
    version = data.get("format", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordError(f"its format is {version!r}, not a record format")
    if version > FORMAT_VERSION:
        raise RecordError(
            f"it has format {version}; this kedro-pipelinename reads up to "
            f"{FORMAT_VERSION}: upgrade it to read this record"
        )
    body = {key: value for key, value in data.items() if key != "format"}
    try:
        if version == 1:
            body = _migrated(body)
        record = CONVERTER.structure(body, RunRecord)
        _check_settings(record)
        check_safe_run_id(record.run_id, source="run_id")
    except cattrs.BaseValidationError as error:
        problems = cattrs.transform_error(error, format_exception=_describe)
        raise RecordError("; ".join(problems[:3])) from error
    except InvalidRunIdError as error:
        raise RecordError(str(error)) from error
    except (KeyError, TypeError, ValueError) as error:
        what = f"{error} is missing" if isinstance(error, KeyError) else str(error)
        raise RecordError(what) from error
    return record
