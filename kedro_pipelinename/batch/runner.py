"""``BatchRunner``: the Kedro runner every batch engine shares.

An engine's runner names its engine (``engine = AWSBatchEngine``), or the
generic ``BatchRunner`` takes it from the ``engine`` setting (any engine of the
``kedro_pipelinename.batch_engines`` entry points). Everything else (settings
resolution, planning, pre-flight, dry run, the driver loop, the failure error and
the resume hint) lives here, so every engine behaves the same; the dry run's plan
is rendered by ``plan_render.py``.

It works with the stock ``kedro run --runner <module.Class>`` of every supported
Kedro: the CLI constructs the class with ``is_async`` only (and, on Kedro 1.6+,
with whatever ``--runner-params`` holds), and the rest of the settings come from
the run's parameters or the environment.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from attrs import define
from kedro.runner import AbstractRunner

from ..names.logs import logger_for
from ..relaunch.redaction import Redactor, redacted_logs, redactor_for
from ..run.run_id import run_id_from_environment
from .arrays import arrays_for
from .driver import Driver
from .engine import Engine, EngineRun, bound_settings, check_engine
from .engines import engine_named, installed_engines
from .errors import BatchJobError, BatchSettingsError, JobFailure, PreflightError
from .lease import lease_timeout
from .plan import JobPlan, plan_jobs
from .plan_render import as_json, plan_blocks
from .preflight import in_memory_datasets, require_names, run_preflight
from .progress import Progress, default_progress
from .record_model import ResumeCommand
from .records import RunRecorder, redacted_job
from .resume import shell_line
from .settings import (
    ENV_PREFIX,
    SHARED_BLOCK,
    BatchSettings,
    check_setting_names,
    env_var_name,
    given_setting,
    resolve_settings,
    unknown_setting_problems,
    unknown_variable_problems,
    where_to_set,
)
from .stores import open_store
from .trackers import TrackedRun, Tracking, chosen_trackers, status_of

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline
    from pluggy import PluginManager

    from ..run.catalog import SavingCatalog
    from ..run.context import RunContext

logger = logger_for(__name__)

#: Kedro 0.19's ``AbstractRunner.__init__`` takes ``extra_dataset_patterns``; 1.0
#: removed it.
_TAKES_PATTERNS = (
    "extra_dataset_patterns" in inspect.signature(AbstractRunner.__init__).parameters
)


def _as_variables(arguments: Mapping[str, Any]) -> dict[str, str]:
    """Runner arguments as ``KEDRO_BATCH_*`` variables (mappings as JSON)."""
    variables = {}
    for name, value in arguments.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (Mapping, list, tuple)):
            text = json.dumps(value)
        else:
            text = str(value)
        variables[env_var_name(name)] = text
    return variables


def _settings_classes(*engines: type[Engine]) -> tuple[type, ...]:
    """``BatchSettings`` and the settings classes of ``engines``, once each."""
    classes: list[type] = [BatchSettings]
    for engine in engines:
        settings = engine.spec.settings
        if settings is not None and settings not in classes:
            classes.append(settings)
    return tuple(classes)


def _every_engine(own: type[Engine] | None) -> tuple[type[Engine], ...]:
    """Every installed engine, and ``own`` (which may be installed or not)."""
    engines = list(installed_engines().values())
    if own is not None and own not in engines:
        engines.append(own)
    return tuple(engines)


def _show_progress_logs(engine: type[Any] | None = None) -> None:
    """Let the batch core's and the engine's INFO lines (plan, progress,
    submissions) through.

    Kedro's default logging configuration (every supported version) sets only the
    ``kedro`` logger to INFO; the root stays at WARNING. A level the project's
    logging.yml gives ``kedro_pipelinename`` or the logger is kept. The engine's
    logger is its package's (``kedro_pipelinename.engines.local``, or a third
    party's), found from the class, so the core names no engine.
    """
    if logging.getLogger("kedro_pipelinename").level != logging.NOTSET:
        return
    names = ["kedro_pipelinename.batch"]
    if engine is not None:
        names.append(engine.__module__.rpartition(".")[0] or engine.__module__)
    for name in names:
        named = logging.getLogger(name)
        if named.level == logging.NOTSET:
            named.setLevel(logging.INFO)


def run_redactor(settings: BatchSettings, context: RunContext) -> Redactor:
    """What hides the run's secrets (``relaunch/redaction.py``)."""
    return redactor_for(
        extra_env=settings.extra_env,
        public_env=settings.public_env,
        environ=os.environ,
        runtime_params=context.runtime_params,
    )


@define(frozen=True, kw_only=True)
class ResolvedSettings:
    """The engine of a run and its settings.

    Attributes:
        engine: The engine class.
        settings: The shared settings.
        engine_settings: An instance of ``engine.spec.settings``, or ``None``.
    """

    engine: type[Engine]
    settings: BatchSettings
    engine_settings: Any


class RemoteOutput:
    """Stands in the driver's catalog for an output a job computed elsewhere.

    Kedro 0.19's ``AbstractRunner.run`` loads every unpersisted pipeline output
    from the catalog after ``_run``; the data lives (and died) in the job.
    """

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset

    def __repr__(self) -> str:
        return f"<{self.dataset}: computed in a batch job, not returned to the driver>"


class BatchRunner(AbstractRunner):
    """Runs a named pipeline as jobs on an engine, one per namespace or node.

    ``kedro run --runner kedro_pipelinename.batch.BatchRunner`` with the
    ``engine`` setting (``--runner-params engine=slurm`` on Kedro 1.6+,
    ``batch: {engine: slurm}`` in the parameters, or ``KEDRO_BATCH_ENGINE``)
    runs any installed engine; ``AWSBatchRunner`` and ``LocalBatchRunner`` fix
    theirs.

    Args:
        is_async: Accepted for the CLI, which always passes it; jobs load and
            save in their own processes.
        **settings: Any setting of ``BatchSettings`` or the engine's settings
            class; they win over the parameters blocks and the environment.

    Raises:
        BatchSettingsError: For an argument that is no setting.

    Example:
        An engine's own runner is two lines (``docs/writing-an-engine.md``)::

            class SlurmRunner(BatchRunner):
                engine = SlurmEngine

        and runs with ``kedro run --pipelines train --runner my_pkg.SlurmRunner``.
    """

    #: Where users import the class from (``--runner``) when that is not its
    #: module: the ``kedro_pipelinename.batch`` names of the shipped runners.
    public_path: ClassVar[str | None] = "kedro_pipelinename.batch.BatchRunner"

    #: The engine this runner runs on; ``None``: the ``engine`` setting says.
    engine: ClassVar[type[Engine] | None] = None

    def __init__(self, is_async: bool = False, **settings: Any) -> None:
        base_arguments: dict[str, Any] = {"is_async": is_async}
        if _TAKES_PATTERNS:
            # Kedro 0.19: undeclared outputs must resolve to MemoryDatasets, so
            # that run() can read the placeholders _run leaves there.
            base_arguments["extra_dataset_patterns"] = {
                "{default}": {"type": "MemoryDataset"}
            }
        super().__init__(**base_arguments)
        engines = (self.engine,) if self.engine else _every_engine(None)
        check_setting_names(
            settings, _settings_classes(*engines), f"the arguments of {self._label()}"
        )
        self._arguments = dict(settings)
        #: Where progress goes; ``None`` picks rich on a terminal, logs otherwise.
        self.progress: Progress | None = None

    # --- for subclasses ----------------------------------------------------------

    def open_engine(
        self, engine: type[Engine], run: EngineRun, engine_settings: Any
    ) -> Engine:
        """The engine that runs ``run``'s jobs: ``engine.open(run, settings)``.

        Called after the shared pre-flight checks passed; the engine's own
        (``check``) run next, before anything is submitted. Override it to
        build the engine another way (``AWSBatchRunner`` passes its client).
        """
        return engine.open(run, engine_settings)

    @classmethod
    def _label(cls) -> str:
        return cls.__name__

    # --- AbstractRunner ------------------------------------------------------------

    def _get_executor(self, max_workers: int) -> None:
        return None

    def _run(
        self,
        pipeline: Pipeline,
        catalog: SavingCatalog,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        """Plan, check, then submit and track every job.

        The fourth argument is ``session_id`` on Kedro 0.19 and ``run_id`` on 1.x;
        both pass it positionally. The run id used is the run context's (they are
        the same).

        Raises:
            PreflightError: When a check failed; nothing was submitted.
            BatchSettingsError: For a missing or invalid setting.
            BatchJobError: When jobs failed (after the others were terminated
                with ``fail_fast``), with the resume command.
            BaseException: Whatever else stopped the driver (Ctrl-C, SIGTERM,
                an engine outage past ``outage_timeout``, ``RunCancelled``),
                after the run's unfinished jobs were cancelled and the resume
                command was logged.
        """
        from ..relaunch.errors import RunCommandError
        from ..run.context import current_run
        from ..run.tracking import run_parameters

        label = self._label()
        _show_progress_logs()
        require_names(pipeline, label)
        context = current_run()
        if context is None:
            raise PreflightError(
                f"{label} must run inside a Kedro session (kedro run --runner "
                f"{type(self).__module__}.{type(self).__qualname__}); nothing was "
                f"submitted.",
                [
                    "current_run() is None: the session was not patched (is "
                    "`import kedro_pipelinename` in settings.py?) or the runner was "
                    "called directly."
                ],
            )
        resolved = self.resolve_settings(run_parameters())
        _show_progress_logs(resolved.engine)
        settings = resolved.settings
        try:
            plan = plan_jobs(
                pipeline,
                settings=settings,
                context=context,
                job_names=resolved.engine.spec.job_names,
                in_memory=in_memory_datasets(pipeline, catalog),
            )
        except RunCommandError as error:
            raise PreflightError(
                f"{label}: a job's command cannot be built; nothing was submitted.",
                [str(error)],
            ) from error
        if not plan.jobs:
            logger.warning("%s: the pipeline has no nodes to run.", label)
            return
        from kedro.framework.project import pipelines as registry

        lost = run_preflight(plan, pipeline, catalog, registry, label)
        if settings.dry_run:
            project = Path(context.project_path or Path.cwd())
            self._dry_run(plan, resolved, run_redactor(settings, context), project)
        else:
            run = EngineRun(
                plan=plan,
                settings=settings,
                project_path=Path(context.project_path or Path.cwd()),
            )
            self._submit_and_track(run, pipeline, context, resolved)
        self._leave_placeholders(lost, catalog)

    # --- steps ---------------------------------------------------------------------

    def resolve_settings(
        self, parameters: Mapping[str, Any] | None = None
    ) -> ResolvedSettings:
        """The engine and its settings, from the arguments, the parameters blocks
        and the environment.

        Args:
            parameters: The run's parameters, as its config loader gives them
                (``run_tracking.run_parameters()``): the shared ``batch`` block
                and the engine's own (``aws_batch``). Never read through the
                catalog: a catch-all dataset factory would claim ``params:<key>``.

        Returns:
            The engine, the shared settings and the engine's.

        Raises:
            BatchSettingsError: Listing every missing, unknown or invalid setting
                and misspelt ``KEDRO_BATCH_*`` variable at once.
        """
        parameters = parameters or {}
        problems: list[BatchSettingsError] = []
        shared = self._parameters_block(parameters, SHARED_BLOCK, problems)
        engine = self._engine_class(shared, problems)
        blocks: list[tuple[str, Mapping[str, Any]]] = []
        if engine is not None and engine.spec.parameters_block:
            own = engine.spec.parameters_block
            blocks.append((own, self._parameters_block(parameters, own, problems)))
        blocks.append((SHARED_BLOCK, shared))
        # Keys and variables are checked against every installed engine's
        # settings: one `batch:` block (and one environment) serves them all.
        classes = _settings_classes(*_every_engine(engine))
        for name, block in blocks:
            problems += unknown_setting_problems(
                block, classes, f"the parameters block '{name}'"
            )
        problems += unknown_variable_problems(os.environ, classes)
        common: dict[str, Any] = {
            "arguments": self._arguments,
            "blocks": blocks,
            "environ": os.environ,
        }
        settings: BatchSettings | None = None
        engine_settings: Any = None
        try:
            settings = resolve_settings(
                BatchSettings,
                defaults=engine.spec.setting_defaults if engine else None,
                **common,
            )
        except BatchSettingsError as error:
            problems.append(error)
        if engine is not None and engine.spec.settings is not None:
            try:
                engine_settings = resolve_settings(engine.spec.settings, **common)
            except BatchSettingsError as error:
                problems.append(error)
        if problems or engine is None or settings is None:
            raise BatchSettingsError.combine(problems)
        return ResolvedSettings(
            engine=engine,
            settings=bound_settings(engine, settings, engine_settings),
            engine_settings=engine_settings,
        )

    def _engine_class(
        self, shared: Mapping[str, Any], problems: list[BatchSettingsError]
    ) -> type[Engine] | None:
        """The runner's engine, or the one the ``engine`` setting names."""
        found = given_setting(
            BatchSettings,
            "engine",
            arguments=self._arguments,
            blocks=[(SHARED_BLOCK, shared)],
            environ=os.environ,
        )
        name, source = found if found is not None else (None, "")
        if self.engine is not None:
            if name is not None and name != self.engine.spec.name:
                problems.append(
                    BatchSettingsError(
                        "engine",
                        f"{self._label()} runs on the engine "
                        f"{self.engine.spec.name!r}, but {source} says {name!r}. "
                        f"Remove it, or run with --runner "
                        f"kedro_pipelinename.batch.BatchRunner.",
                    )
                )
            return self.engine
        if name is None:
            engines = ", ".join(sorted(installed_engines())) or "none"
            problems.append(
                BatchSettingsError(
                    "engine",
                    f"{self._label()} needs the setting 'engine' (installed: "
                    f"{engines}). {where_to_set('engine')}",
                )
            )
            return None
        try:
            return engine_named(str(name), source)
        except BatchSettingsError as error:
            problems.append(error)
            return None

    def _parameters_block(
        self,
        parameters: Mapping[str, Any],
        key: str,
        problems: list[BatchSettingsError],
    ) -> Mapping[str, Any]:
        block = parameters.get(key)
        if block is None:
            return {}
        if not isinstance(block, Mapping):
            problems.append(
                BatchSettingsError(
                    key,
                    f"The parameter '{key}' must be a mapping of batch settings; "
                    f"got {block!r}.",
                )
            )
            return {}
        return block

    def _dry_run(
        self,
        plan: JobPlan,
        resolved: ResolvedSettings,
        redactor: Redactor,
        project: Path,
    ) -> None:
        """Show the plan (redacted), write it as JSON to ``plan_file`` (default:
        the project's ``logs/batch-plans/<run id>.json``), submit nothing."""
        from .tables import show

        engine = resolved.engine.spec.name
        shown = redacted_plan(plan, redactor)
        show(plan_blocks(shown, engine, f"; {self._label()} dry run"))
        settings = resolved.settings
        # Not the project's root (it was): a plan file is a run's by-product,
        # and logs/ is where Kedro projects keep those (and ignore them in git).
        path = Path(
            settings.plan_file
            or project / "logs" / "batch-plans" / f"{plan.run_id}.json"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(as_json(shown, engine))
        logger.warning(
            "Dry run: nothing was submitted. The plan of %d job(s) is in %s.",
            len(plan.jobs),
            path.resolve(),
        )

    def _submit_and_track(
        self,
        run: EngineRun,
        pipeline: Pipeline,
        context: RunContext,
        resolved: ResolvedSettings,
    ) -> None:
        redactor = run_redactor(run.settings, context)
        # Taken before the engine opens: a second driver of the run refuses
        # before it touches a job, a log or the record (lease.py).
        store = open_store(run.project_path, run.settings.record_uri)
        lease = store.lease(
            run.run_id,
            timeout=lease_timeout(run.settings.max_poll_interval),
            purpose="this driver",
        )
        lease.acquire()
        recorder: RunRecorder | None = None
        # A run id given from outside (a resumed run, a driver started again)
        # may have jobs (and a tracker run) already; a fresh one not.
        reattach = run_id_from_environment() == run.run_id
        # One experiment-tracking run for all the jobs (trackers.py): started
        # before anything is submitted, its ids in every job's environment.
        tracking = Tracking(())
        try:
            with redacted_logs(redactor):
                tracking = Tracking(chosen_trackers(run.settings.tracking))
                tracking.start(
                    TrackedRun(
                        run_id=run.run_id,
                        pipeline_names=run.plan.pipeline_names,
                        project_path=run.project_path,
                        engine=resolved.engine.spec.name,
                        resumed=reattach,
                    )
                )
                run = attrs.evolve(run, plan=tracking.with_job_env(run.plan))
                engine = self.open_engine(
                    resolved.engine, run, resolved.engine_settings
                )
                try:
                    # The engine's pre-flight: only a driver runs it (`kedro
                    # batch status` and `cancel` open the engine without it).
                    check_engine(engine)
                    progress = self.progress or default_progress()
                    # logs/batch/<run id>/run.json, for `kedro batch status` & co.
                    recorder = RunRecorder(
                        run,
                        resolved.engine.spec.name,
                        resolved.engine_settings,
                        resume=self._resume_command(
                            pipeline, context, redactor, tracking.resume_env
                        ),
                        redactor=redactor,
                        lease=lease,
                        store=store,
                    )
                    outcome = Driver(
                        run.plan,
                        engine,
                        run.settings,
                        progress,
                        reattach=reattach,
                        events=recorder,
                        arrays=arrays_for(run, engine, _registered_nodes(run.plan)),
                    ).run()
                finally:
                    engine.close()
                tracking.finish(status_of(None, outcome.ok))
        except BaseException as error:
            tracking.finish(status_of(error, ok=False))
            # Ctrl-C, SIGTERM, an outage, RunCancelled: the jobs were cancelled;
            # the same command resumes the run, as after a job failure.
            self._log_resume(self._hint(recorder))
            raise
        finally:
            lease.release()
        if outcome.ok:
            return
        resume = self._hint(recorder)
        self._log_resume(resume)
        failures = [redacted_failure(failure, redactor) for failure in outcome.failures]
        raise BatchJobError(failures, resume)

    @staticmethod
    def _hint(recorder: RunRecorder | None) -> str | None:
        """The stored resume command as one shell line (``resume.py``)."""
        if recorder is None or recorder.record.resume is None:
            return None
        return shell_line(recorder.record.resume, recorder.record.run_id)

    @staticmethod
    def _log_resume(resume: str | None) -> None:
        if resume:
            logger.warning(
                "To resume this run with its pipelines, env, params, runner "
                "settings and run id, run:\n  %s",
                resume,
            )

    def _resume_command(
        self,
        pipeline: Pipeline,
        context: RunContext,
        redactor: Redactor,
        tracker_env: Mapping[str, str] | None = None,
    ) -> ResumeCommand | None:
        """The command that resumes the run: the run's own command again.

        The whole original ``kedro run`` (pipelines, node filters, env, conf
        source, ``--params``, load versions), this runner with its arguments
        (``--runner-params`` on Kedro 1.6+, ``KEDRO_BATCH_*`` variables before),
        the run's ``KEDRO_BATCH_*`` variables; secrets as ``${NAME}``
        references (``relaunch/redaction.py``). With the same run id the driver
        reattaches: it adopts the jobs that succeeded and runs the others
        again, so nothing runs twice and no ``--from-nodes`` must be worked out
        (which jobs cancelled mid-run would make wrong).
        """
        from ..relaunch.argv import build_run_command
        from ..relaunch.errors import RunCommandError
        from ..relaunch.kedro_cli import has_option as _has_option
        from ..relaunch.params import runner_params_argument

        variables = {
            name: value
            for name, value in os.environ.items()
            if name.startswith(ENV_PREFIX) and value != ""
        }
        # The run trackers' ids (MLFLOW_RUN_ID): the resumed driver continues
        # the same tracker run (trackers.py).
        variables.update(tracker_env or {})
        try:
            # Secret params as references, whatever their length (redaction).
            shown = attrs.evolve(
                context, runtime_params=redactor.data(dict(context.runtime_params))
            )
            argv = build_run_command(pipeline, context=shown)
            argv.append(f"--runner={self._public_path()}")
            # Kedro 1.6 added `kedro run --runner-params`.
            if self._arguments and _has_option("runner_params"):
                argv.append(
                    f"--runner-params={runner_params_argument(self._arguments)}"
                )
            elif self._arguments:
                # Before Kedro 1.6 only code passes runner arguments; as variables
                # they still win over the parameters blocks they won over.
                variables.update(_as_variables(self._arguments))
        except RunCommandError as error:
            logger.warning("No resume command for this run: %s", error)
            return None
        return ResumeCommand(
            argv=tuple(redactor.text(word) for word in argv),
            env=redactor.env(variables),
            cwd=str(context.project_path or Path.cwd()),
        )

    @classmethod
    def _public_path(cls) -> str:
        # Read from the class's own namespace: a user's subclass of
        # LocalBatchRunner must not be written as LocalBatchRunner.
        declared = cls.__dict__.get("public_path")
        return declared or f"{cls.__module__}.{cls.__qualname__}"

    def _leave_placeholders(self, lost: list[str], catalog: SavingCatalog) -> None:
        # ``lost``: pre-flight's list of the outputs no dataset persists.
        for name in lost:
            try:
                catalog.save(name, RemoteOutput(name))
            except Exception:  # only Kedro 0.19's run() reads them
                logger.debug(
                    "Could not leave a placeholder for %s", name, exc_info=True
                )


def redacted_plan(plan: JobPlan, redactor: Redactor) -> JobPlan:
    """``plan`` as it may be shown: secrets as references (``redaction.py``)."""
    return attrs.evolve(plan, jobs=[redacted_job(job, redactor) for job in plan.jobs])


def redacted_failure(failure: JobFailure, redactor: Redactor) -> JobFailure:
    """``failure`` with its reason and detail (a job's last lines) redacted."""
    return attrs.evolve(
        failure,
        reason=None if failure.reason is None else redactor.text(failure.reason),
        detail=None if failure.detail is None else redactor.text(failure.detail),
    )


def _registered_nodes(plan: JobPlan) -> set[str]:
    """Every node of the run's registered pipelines: what a child of an array
    lists its namespaces from (``arrays.py``)."""
    from kedro.framework.project import pipelines as registry

    names: set[str] = set()
    for name in plan.pipeline_names:
        pipeline = registry.get(name)
        if pipeline is not None:
            names.update(node.name for node in pipeline.nodes)
    return names
