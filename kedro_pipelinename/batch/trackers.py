"""Run trackers: one experiment-tracking run per batch run, whatever its jobs.

A batch run is many processes (one per job); an experiment tracker (MLflow, ...)
would see each as its own run. A *run tracker* fixes that from the driver: the
runner calls it before anything is submitted, and at the end::

    class RunTracker(Protocol):
        @classmethod
        def enabled_by_default(cls) -> bool: ...  # the `tracking` setting unset
        def start(self, run: TrackedRun) -> TrackerStart: ...
        def finish(self, status: TrackedStatus) -> None: ...

``start`` opens (or, for a resumed run, reopens) the tracker's run and returns
the environment every job needs to log into it (``MLFLOW_RUN_ID``: ids, never
tokens: the values are written to the run record as they are); ``finish`` gets
the batch run's status: ``FINISHED``, ``FAILED`` (jobs failed) or ``KILLED``
(Ctrl-C, SIGTERM, ``kedro batch cancel``). Trackers register in the entry-point
group ``kedro_pipelinename.run_trackers``, as engines do in
``kedro_pipelinename.batch_engines``::

    [project.entry-points."kedro_pipelinename.run_trackers"]
    mlflow = "kedro_pipelinename.trackers.mlflow:MlflowTracker"

The ``tracking`` setting picks them (``docs/tracking.md``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Final, Protocol

import attrs
from attrs import define

from ..names.logs import logger_for
from ..relaunch.boundaries import environment_variable
from .errors import BatchSettingsError, RunCancelled
from .plan import JobPlan
from .plugins import loaded, registered

logger = logger_for(__name__)

#: The entry-point group run trackers register in.
ENTRY_POINT_GROUP: Final = "kedro_pipelinename.run_trackers"

#: The ``tracking`` values that are no tracker's name.
NO_TRACKING: Final = "none"


class TrackedStatus(enum.Enum):
    """How a batch run ended, as trackers are told (MLflow's run statuses)."""

    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


@define(frozen=True, kw_only=True)
class TrackedRun:
    """The batch run a tracker tracks.

    Attributes:
        run_id: The Kedro run id every job carries (the same on a resume).
        pipeline_names: The registered pipelines the run runs.
        project_path: The driver's project directory.
        engine: The engine's entry-point name (``local``, ``aws``, ...).
        resumed: Whether the run id was given from outside (a resume, or a
            driver started again), so the tracker's run may exist already.
    """

    run_id: str
    pipeline_names: tuple[str, ...]
    project_path: Path
    engine: str
    resumed: bool = False


@define(frozen=True, kw_only=True)
class TrackerStart:
    """What a started tracker needs passed on.

    Attributes:
        job_env: Variables every job gets (unless the ``extra_env`` setting
            sets the same name: the project knows how its jobs reach the
            tracker). Written to the run record: ids and addresses, no secret.
        resume_env: Variables the run's resume command sets, so that a resumed
            driver continues the same tracker run.
    """

    job_env: Mapping[str, str] = attrs.field(factory=dict)
    resume_env: Mapping[str, str] = attrs.field(factory=dict)


class RunTracker(Protocol):
    """An experiment tracker that keeps one run per batch run."""

    @classmethod
    def enabled_by_default(cls) -> bool:
        """Whether to track when the ``tracking`` setting is unset."""
        ...

    def start(self, run: TrackedRun) -> TrackerStart:
        """Open (or reopen) the tracker's run; called once, before any job is
        submitted. Raising stops the batch run before anything is submitted."""
        ...

    def finish(self, status: TrackedStatus) -> None:
        """Set the tracker's run's final status; called once, after every job
        ended. An error here is logged, never raised."""
        ...


def _entry_points() -> list[EntryPoint]:
    return registered(ENTRY_POINT_GROUP)


def installed_trackers() -> dict[str, type[RunTracker]]:
    """Every run tracker the installed packages register, by name.

    One that cannot be loaded is logged and left out.
    """
    return {
        entry_point.name: tracker
        for entry_point, tracker in loaded(_entry_points(), "Run tracker")
    }


def chosen_trackers(setting: str | None) -> list[tuple[str, RunTracker]]:
    """The trackers the ``tracking`` setting asks for, constructed.

    Args:
        setting: ``None`` (every installed tracker whose
            ``enabled_by_default()`` says so), ``"none"``, or tracker names
            separated by commas (``"mlflow"``).

    Raises:
        BatchSettingsError: For a name no installed tracker has.
    """
    if setting is not None and setting.strip() == NO_TRACKING:
        return []
    installed = installed_trackers()
    if setting is None:
        names = [name for name, cls in installed.items() if _wanted(name, cls)]
    else:
        names = [name.strip() for name in setting.split(",") if name.strip()]
        unknown = [name for name in names if name not in installed]
        if unknown:
            raise BatchSettingsError(
                "tracking",
                f"No run tracker {', '.join(map(repr, unknown))} is installed "
                f"(installed: {', '.join(sorted(installed)) or 'none'}; "
                f"{NO_TRACKING!r} turns tracking off). A tracker registers in the "
                f"entry-point group {ENTRY_POINT_GROUP!r}; MLflow's comes with "
                f"`pip install kedro-pipelinename[mlflow]`.",
            )
    return [(name, installed[name]()) for name in names]


def _wanted(name: str, cls: type[RunTracker]) -> bool:
    try:
        return bool(cls.enabled_by_default())
    except Exception:  # a third party's check must not stop the run
        logger.warning(
            "Run tracker %r: enabled_by_default() failed.", name, exc_info=True
        )
        return False


def status_of(error: BaseException | None, ok: bool) -> TrackedStatus:
    """The tracker status of a batch run that ended with ``error`` (or none)."""
    if error is None:
        return TrackedStatus.FINISHED if ok else TrackedStatus.FAILED
    # SIGTERM reaches the driver as SystemExit (signals.py), Ctrl-C as
    # KeyboardInterrupt, `kedro batch cancel` as RunCancelled.
    if isinstance(error, (KeyboardInterrupt, SystemExit, RunCancelled)):
        return TrackedStatus.KILLED
    return TrackedStatus.FAILED


class Tracking:
    """The run's trackers, started and finished together (``runner.py``).

    Args:
        trackers: ``(name, tracker)`` pairs, from ``chosen_trackers``.
    """

    def __init__(self, trackers: Sequence[tuple[str, RunTracker]]) -> None:
        self._trackers = list(trackers)
        self._started: list[tuple[str, RunTracker]] = []
        self.job_env: dict[str, str] = {}
        self.resume_env: dict[str, str] = {}

    def start(self, run: TrackedRun) -> None:
        """Start every tracker; their variables go through the env boundary.

        Raises:
            BatchSettingsError: When two trackers set one variable, or a value
                cannot be a job's variable.
            Exception: Whatever a tracker's ``start`` raised (the ones started
                before it are finished as FAILED).
        """
        try:
            for name, tracker in self._trackers:
                started = tracker.start(run)
                self._started.append((name, tracker))
                source = f"the run tracker {name!r}"
                for target, variables in (
                    (self.job_env, started.job_env),
                    (self.resume_env, started.resume_env),
                ):
                    for key, value in variables.items():
                        if key in target and target[key] != value:
                            raise BatchSettingsError(
                                "tracking",
                                f"Two run trackers set {key}; keep one of them.",
                            )
                        target.update([environment_variable(key, value, source=source)])
                logger.info("Run tracker %r started.", name)
        except BaseException:
            self.finish(TrackedStatus.FAILED)
            raise

    def with_job_env(self, plan: JobPlan) -> JobPlan:
        """``plan`` with the trackers' variables in every job's environment; a
        variable the job sets already (``extra_env``) keeps its value."""
        if not self.job_env:
            return plan
        jobs = [attrs.evolve(job, env={**self.job_env, **job.env}) for job in plan.jobs]
        return attrs.evolve(plan, jobs=jobs)

    def finish(self, status: TrackedStatus) -> None:
        """Tell every started tracker the run's status (once); errors are logged."""
        started, self._started = self._started, []
        for name, tracker in started:
            try:
                tracker.finish(status)
            except Exception:  # the jobs are done: tracking must not fail them
                logger.warning(
                    "Run tracker %r could not record the status %s.",
                    name,
                    status.value,
                    exc_info=True,
                )
