"""The engine interface: what a place that runs jobs does, and what it declares.

The driver (``driver.py``) owns the plan: it decides *when* each job may be
submitted, tracks every job with one poll per round, applies ``fail_fast``,
cancels unfinished jobs on failure or interruption, adopts the jobs an earlier
driver of the same run left, and builds the error and the resume hint. An
engine does seven things, most of them for many jobs at once (``EngineBase``,
the engine kit, has four of them as defaults: ``open``, ``find_jobs``, ``wait``
and ``close``):

- ``open(run, settings)``: connect (build clients, find commands), asking
  nothing of the remote side: ``kedro batch status``, ``status --watch`` and
  ``cancel`` open it too, and must work when the run's job definition or
  partition is gone since;
- ``submit(submission)``: start one job whose parents are the engine ids in
  ``submission.depends_on`` (never more than ``spec.max_parents``); return its id;
- ``poll(job_ids)``: the current ``JobState`` of each of those jobs;
- ``cancel(job_ids, reason)``: stop them (best effort, idempotent);
- ``find_jobs()``: this run's jobs the engine already has, by job name (a run
  started again with the same run id reattaches to them instead of submitting
  duplicates);
- ``wait(seconds)``: block until the next poll is due, or earlier when the
  engine learns that a job changed;
- ``close()``: release clients, threads and processes.

Optionally, it has the run's pre-flight, which only a driver runs
(``check_engine``), once, after ``open`` and before anything is submitted:

- ``check()``: every problem of the run's resources at once (a job queue or
  partition that does not exist, a request the engine would refuse).

An engine without ``check`` (one written before it existed, which may still
check in ``open``) has no separate checks: ``check_engine`` passes it.

And it declares, as data (``EngineSpec``): its name, its settings class, how
many unfinished parents one job may name, its job-name rule, and how each of
its status words maps onto the shared ``JobStatus``, and how many
``submit`` calls it takes at once (``submit_concurrency``). Engines are found through
the ``kedro_pipelinename.batch_engines`` entry-point group (``engines.py``).

Example:
    ``docs/writing-an-engine.md`` shows a whole engine built on ``EngineBase``
    (``examples/kedro-batch-example-engine``), and how to run the contract suite
    (``pytest -p kedro_pipelinename.testing``) on yours.
"""

from __future__ import annotations

import abc
import enum
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    Protocol,
    TypeVar,
    runtime_checkable,
)

from attrs import define, field

from ..names.logs import logger_for
from .errors import BatchSettingsError, to_str_tuple
from .naming import JobNameRule

if TYPE_CHECKING:
    from .plan import JobPlan, PlannedJob
    from .settings import BatchSettings

logger = logger_for(__name__)


class JobStatus(str, enum.Enum):
    """The life cycle every engine's statuses map onto.

    ``SUBMITTED``: the engine has the job and has not placed it yet;
    ``PENDING``: it waits for its parents; ``QUEUED``: it is ready and waits for
    resources; ``STARTING``, ``RUNNING``; then ``SUCCEEDED`` or ``FAILED``
    (cancelled, timed out and killed jobs are ``FAILED``).
    """

    SUBMITTED = "submitted"
    PENDING = "pending"
    QUEUED = "queued"
    STARTING = "starting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """Whether the job will not change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


def _to_status_map(value: Mapping[str, JobStatus]) -> dict[str, JobStatus]:
    return {word: JobStatus(status) for word, status in value.items()}


@define(frozen=True, kw_only=True)
class EngineSpec:
    """What an engine declares about itself, as data.

    Attributes:
        name: Its entry-point name (``aws``, ``local``).
        settings: Its own settings class (attrs fields made with
            ``settings.setting``), resolved like ``BatchSettings``; or ``None``.
        max_parents: How many *unfinished* parents one submitted job may name
            (AWS Batch: 20 ``dependsOn``; an engine that starts a job at once: 0,
            and the driver submits a job only after its parents succeeded).
        job_names: The job-name rule.
        statuses: Each of the engine's status words -> the shared ``JobStatus``.
        parameters_block: The engine's own block of the run's parameters, read
            before the shared ``batch:`` block (AWS Batch: ``aws_batch``, the
            layout of Kedro's AWS Batch guide); or ``None``.
        setting_defaults: Defaults of shared settings that differ for this
            engine (the local engine: ``max_parallel`` = the number of CPUs).
        submit_concurrency: How many ``submit`` calls the driver may have in
            flight at once, each from its own thread (AWS Batch: 16, to keep
            up with its API rate at 100 ms a call). ``1`` (default): one at a
            time, from the driver's thread, for engines whose ``submit`` is
            not safe to call from several threads. The ``submit_concurrency``
            setting may lower it.
        array_index_variable: The environment variable that tells each child
            of an array job its index (AWS Batch: ``AWS_BATCH_JOB_ARRAY_INDEX``;
            SLURM: ``SLURM_ARRAY_TASK_ID``), for an engine with ``submit_array``
            (``ArrayEngine``); ``None`` (default): the engine runs no arrays.
    """

    name: str
    settings: type | None = None
    max_parents: int = 0
    job_names: JobNameRule
    statuses: Mapping[str, JobStatus] = field(converter=_to_status_map)
    parameters_block: str | None = None
    setting_defaults: Mapping[str, Any] = field(factory=dict)
    submit_concurrency: int = 1
    array_index_variable: str | None = None

    def status(self, word: str) -> JobStatus:
        """The shared status of the engine's ``word``.

        A word the spec does not know (an engine added a status) counts as
        ``SUBMITTED``, unfinished, and is logged: the job is tracked on, not lost.
        """
        try:
            return self.statuses[word]
        except KeyError:
            logger.warning(
                "Engine %s reported the status %r, which it does not declare; "
                "treating it as submitted.",
                self.name,
                word,
            )
            return JobStatus.SUBMITTED


@define(frozen=True, kw_only=True)
class JobState:
    """What an engine knows about one job at one poll.

    Attributes:
        job_id: The engine's id of the job (what ``submit`` returned).
        status: Where the job is in the shared life cycle.
        engine_status: The engine's own word for it (``RUNNABLE``), if any.
        name: The job's name; ``find_jobs`` always gives it.
        reason: Why it is in that status (AWS Batch ``statusReason``), if known.
        detail: More about a failure: the container's reason, or a local job's
            last lines of output.
        exit_code: The exit code of the job's process, once it exited.
        log_location: Where the job's output is: a CloudWatch log stream, a file.
        caused_by_dependency: ``True`` when the engine failed the job only
            because a job it depends on failed.
        array_id: The array job the job is a child of (``ArrayIds.array_id``),
            if it is one; ``find_jobs`` gives it, so that a driver started
            again knows which children were started together.
    """

    job_id: str
    status: JobStatus
    engine_status: str | None = None
    name: str | None = None
    reason: str | None = None
    detail: str | None = None
    exit_code: int | None = None
    log_location: str | None = None
    caused_by_dependency: bool = False
    array_id: str | None = None


@define(frozen=True, kw_only=True)
class Submission:
    """One job to start, with the engine ids of its unfinished parents.

    Attributes:
        job: The planned job (name, nodes, command, environment, ...).
        depends_on: Engine ids of parents that had not succeeded when the job
            was submitted; at most the engine's ``spec.max_parents``.
    """

    job: PlannedJob
    depends_on: tuple[str, ...] = field(converter=to_str_tuple, default=())


def _to_job_tuple(jobs: Iterable[PlannedJob]) -> tuple[PlannedJob, ...]:
    return tuple(jobs)


def _to_env(env: Mapping[str, str]) -> dict[str, str]:
    return dict(env)


@define(frozen=True, kw_only=True)
class ArraySubmission:
    """Jobs that are the same job for different namespaces, started as one array.

    Every child runs the same ``command`` with the same ``env``; child *i* finds
    its job, ``jobs[i]``, from its index (the engine's
    ``spec.array_index_variable``) by rebuilding the array's members from the
    project (``arrays.py``), not from a list in the request.

    Attributes:
        name: The array's job name, valid for the engine.
        jobs: The members: child *i* runs ``jobs[i]``.
        command: The argv every child runs.
        env: The environment every child gets.
        depends_on: Engine ids every child waits on: jobs, or whole arrays
            (``ArrayIds.array_id``: all of its children).
        pairs_with: Array ids of the same size whose child *i* child *i* waits
            on (AWS Batch ``N_TO_N``, SLURM ``aftercorr``).
    """

    name: str
    jobs: tuple[PlannedJob, ...] = field(converter=_to_job_tuple)
    command: tuple[str, ...] = field(converter=to_str_tuple)
    env: Mapping[str, str] = field(converter=_to_env)
    depends_on: tuple[str, ...] = field(converter=to_str_tuple, default=())
    pairs_with: tuple[str, ...] = field(converter=to_str_tuple, default=())


@define(frozen=True, kw_only=True)
class ArrayIds:
    """What ``submit_array`` returns: the array's id and each child's.

    Attributes:
        array_id: The whole array (a dependency on it waits for every child).
        child_ids: The engine id of child *i* (AWS ``<id>:<i>``, SLURM
            ``<id>_<i>``), which ``poll`` and ``cancel`` take like any job id.
    """

    array_id: str
    child_ids: tuple[str, ...] = field(converter=to_str_tuple)


@define(frozen=True, kw_only=True)
class EngineRun:
    """What an engine is opened for: one run's plan and where it runs from.

    Attributes:
        plan: The run's jobs (``plan.run_id`` is the run id).
        settings: The shared batch settings.
        project_path: The project directory of the driver.
    """

    plan: JobPlan
    settings: BatchSettings
    project_path: Path

    @property
    def run_id(self) -> str:
        """The run id every job carries."""
        return self.plan.run_id


@runtime_checkable
class Engine(Protocol):
    """A place that runs jobs (local processes, AWS Batch, SLURM, yours)."""

    #: What the engine declares about itself.
    spec: ClassVar[EngineSpec]
    #: Shown in messages: "AWS Batch queue q", "local processes".
    label: str

    @classmethod
    def open(cls, run: EngineRun, settings: Any) -> Engine:
        """An engine connected for ``run``; ``settings`` is an instance of
        ``spec.settings`` (or ``None``).

        Builds clients and nothing else: no call checks the run's resources
        (that is ``check``, which only a driver runs). ``kedro batch status``
        and ``cancel`` open the engine of a recorded run this way."""
        ...

    def submit(self, submission: Submission) -> str:
        """Start one job; return its engine id. Raise if it was not started."""
        ...

    def poll(self, job_ids: Sequence[str]) -> Mapping[str, JobState]:
        """The state of each job in ``job_ids`` (ids it does not know are omitted)."""
        ...

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        """Stop every job in ``job_ids``; jobs already finished are fine."""
        ...

    def find_jobs(self) -> Mapping[str, JobState]:
        """This run's jobs the engine already has, by job name (newest per name)."""
        ...

    def wait(self, seconds: float) -> None:
        """Block for up to ``seconds`` before the next poll."""
        ...

    def close(self) -> None:
        """Release what the engine holds; called once, last."""
        ...


def array_child_name(array_name: str, index: int) -> str:
    """How ``find_jobs`` names child ``index`` of the array job ``array_name``:
    ``<array name>[<index>]``. The driver knows which planned job that is; the
    engine needs only what the remote side tells it (a job's name and index)."""
    return f"{array_name}[{index}]"


@runtime_checkable
class ArrayEngine(Engine, Protocol):
    """An engine that starts a uniform fan-out as one array job; ``Engine`` plus
    two methods (and ``spec.array_index_variable``).

    Optional: the driver submits one job per planned job to an engine without
    them."""

    def max_array_size(self) -> int:
        """The most children one array may have here (AWS Batch: 10,000; SLURM:
        the cluster's ``MaxArraySize``); ``0`` or ``1``: no arrays."""
        ...

    def submit_array(self, array: ArraySubmission) -> ArrayIds:
        """Start every child of ``array`` with one request; their ids. Raise if
        it was not started (no child was)."""
        ...


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``items`` in slices of at most ``size``: one engine call each (AWS Batch
    describes 100 job ids per call, ``squeue`` is given 1,000)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sleep_wait(seconds: float) -> None:
    """The default ``wait``: sleep (an engine with no change notifications)."""
    time.sleep(max(0.0, seconds))


@runtime_checkable
class CheckedEngine(Engine, Protocol):
    """An engine with a pre-flight of its own (``check``); ``Engine`` plus one method.

    ``check`` is optional: an engine without it has no separate checks."""

    def check(self) -> Sequence[BatchSettingsError]:
        """Every problem of the run's resources, all at once; empty when none.

        Run by the driver once, after ``open``, before anything is submitted;
        never by ``kedro batch status`` or ``cancel``. Submits and creates
        nothing remote."""
        ...


#: The settings class an ``EngineBase`` is opened with (``spec.settings``).
SettingsT = TypeVar("SettingsT")
#: The engine class ``EngineBase.open`` returns an instance of.
EngineT = TypeVar("EngineT", bound="EngineBase[Any]")


class EngineBase(abc.ABC, Generic[SettingsT]):
    """The engine kit: subclass it and write ``submit``, ``poll`` and ``cancel``.

    It fills in the rest of ``Engine`` with defaults, each one line to override:

    - ``open(run, settings)``: ``cls(run, settings)``, typed against the settings
      class (``EngineBase[MySettings]``); the default ``__init__`` keeps both as
      ``self.run`` and ``self.settings``;
    - ``check()``: no problems (nothing to check before the run);
    - ``find_jobs()``: ``{}``, the documented default of an engine that keeps
      nothing between drivers: a rerun of the run id runs every job again;
    - ``wait(seconds)``: ``sleep_wait``, sleep until the next poll (an engine
      that learns of job changes earlier returns earlier);
    - ``close()``: nothing to release.

    The ``Engine`` protocol stays the interface: a class that does not subclass
    this one and has the methods is an engine too (``engine_problem``).

    Example:
        >>> class EchoEngine(EngineBase[None]):  # doctest: +SKIP
        ...     spec = EngineSpec(name="echo", job_names=JobNameRule(max_length=64),
        ...                       statuses={"done": JobStatus.SUCCEEDED})
        ...     label = "echo"
        ...     def submit(self, submission): ...
        ...     def poll(self, job_ids): ...
        ...     def cancel(self, job_ids, reason): ...
    """

    #: What the engine declares about itself.
    spec: ClassVar[EngineSpec]
    #: Shown in messages: "AWS Batch queue q", "local processes".
    label: str

    def __init__(self, run: EngineRun, settings: SettingsT) -> None:
        self.run = run
        self.settings = settings

    @classmethod
    def open(cls: type[EngineT], run: EngineRun, settings: SettingsT) -> EngineT:
        """An engine connected for ``run`` (see ``Engine.open``): ``cls(run,
        settings)``. Override it when connecting needs more (a client)."""
        return cls(run, settings)

    def check(self) -> Sequence[BatchSettingsError]:
        """No problems: override it to check the run's resources (``Engine``)."""
        return []

    @classmethod
    def bound_settings(
        cls, settings: BatchSettings, engine_settings: SettingsT
    ) -> BatchSettings:
        """The shared settings this engine can honour where it runs: ``settings``.

        Override it to cap what the place the jobs run cannot hold (the local
        engine caps ``max_parallel`` by this machine's CPUs, memory and open
        files); log what was asked, what is used and why.
        """
        return settings

    @abc.abstractmethod
    def submit(self, submission: Submission) -> str:
        """Start one job; return its engine id. Raise if it was not started."""

    @abc.abstractmethod
    def poll(self, job_ids: Sequence[str]) -> Mapping[str, JobState]:
        """The state of each job in ``job_ids`` (ids it does not know are omitted)."""

    @abc.abstractmethod
    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        """Stop every job in ``job_ids``; jobs already finished are fine."""

    def find_jobs(self) -> Mapping[str, JobState]:
        """``{}``: this engine keeps nothing between drivers."""
        return {}

    def wait(self, seconds: float) -> None:
        """Sleep until the next poll (``sleep_wait``)."""
        sleep_wait(seconds)

    def close(self) -> None:
        """Nothing to release."""


def bound_settings(
    engine: type[Engine], settings: BatchSettings, engine_settings: Any
) -> BatchSettings:
    """``settings`` as ``engine`` can honour them (``EngineBase.bound_settings``);
    unchanged for an engine without that method. Every runner resolves its
    settings through this, so ``BatchRunner`` with ``engine: local`` gets the same
    cap as ``LocalBatchRunner``."""
    bound = getattr(engine, "bound_settings", None)
    return bound(settings, engine_settings) if callable(bound) else settings


def engine_checks(engine: Engine) -> list[BatchSettingsError]:
    """The problems ``engine.check()`` finds; ``[]`` for an engine without ``check``
    (written before it existed: its ``open`` may have checked already)."""
    check = getattr(engine, "check", None)
    return list(check()) if callable(check) else []


def check_engine(engine: Engine) -> None:
    """The run's pre-flight on ``engine``: what a driver runs after ``open``.

    Raises:
        BatchSettingsError: Listing every problem ``check`` found; nothing was
            submitted.
    """
    problems = engine_checks(engine)
    if problems:
        raise BatchSettingsError.combine(problems)


def engine_problem(engine: type[Any]) -> str | None:
    """Why ``engine`` is no engine class (a missing ``spec`` or method), or ``None``."""
    spec = getattr(engine, "spec", None)
    if not isinstance(spec, EngineSpec):
        return f"{engine!r} has no `spec: EngineSpec` class attribute"
    missing = [
        method
        for method in ("open", "submit", "poll", "cancel", "find_jobs", "wait", "close")
        if not callable(getattr(engine, method, None))
    ]
    if missing:
        return f"{engine!r} lacks {', '.join(missing)}"
    abstract = sorted(getattr(engine, "__abstractmethods__", ()))
    if abstract:  # an EngineBase subclass that did not write them
        return f"{engine!r} does not implement {', '.join(abstract)}"
    if getattr(engine, "check", None) is not None and not callable(engine.check):
        return f"{engine!r} has a `check` that is not a method"
    return None
