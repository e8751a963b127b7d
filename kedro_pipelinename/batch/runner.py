"""``BatchRunner``: the Kedro runner every batch backend shares.

A subclass names its backend's settings and builds its backend; everything else
(settings resolution, planning, pre-flight, dry run, the driver loop, the failure
error and the resume hint) lives here, so ``AWSBatchRunner`` and
``LocalBatchRunner`` behave the same.

It works with the stock ``kedro run --runner <module.Class>`` of every supported
Kedro: the CLI constructs the class with ``is_async`` only (and, on Kedro 1.6+,
with whatever ``--runner-params`` holds), and the rest of the settings come from
the run's parameters or the environment.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kedro.runner import AbstractRunner

from .backend import JobBackend
from .driver import Driver, RunOutcome, resume_nodes
from .errors import BatchJobError, BatchSettingsError, PreflightError
from .plan import JobPlan, plan_jobs
from .preflight import not_persisted_outputs, require_names, run_preflight
from .progress import Progress, default_progress
from .settings import (
    PARAMETERS_KEY,
    AWSBatchSettings,
    BatchSettings,
    check_environment_names,
    check_setting_names,
    resolve_settings,
)

logger = logging.getLogger(__name__)

#: Kedro 0.19's ``AbstractRunner.__init__`` takes ``extra_dataset_patterns``; 1.0
#: removed it.
_TAKES_PATTERNS = (
    "extra_dataset_patterns" in inspect.signature(AbstractRunner.__init__).parameters
)


#: Every backend's settings class, registered by ``BatchRunner`` subclasses.
_BACKEND_SETTINGS_CLASSES: set[type] = {AWSBatchSettings}


def _every_settings_class() -> tuple[type, ...]:
    """The settings of every batch backend this package ships, and any subclass's.

    One ``aws_batch`` block may hold settings of several runners (the AWS one and
    the local one): a key is unknown only when no backend has it.
    """
    from importlib import import_module

    package = import_module("kedro_pipelinename.batch")
    for runner_name in ("AWSBatchRunner", "LocalBatchRunner"):
        try:
            getattr(package, runner_name)  # importing registers its settings
        except (ImportError, AttributeError):
            logger.debug("No %s to take settings from", runner_name)
    return (BatchSettings, *sorted(_BACKEND_SETTINGS_CLASSES, key=repr))


def _show_progress_logs() -> None:
    """Let this package's INFO lines (progress, submissions) through.

    Kedro's default logging configuration (every supported version) sets only the
    ``kedro`` logger to INFO; the root stays at WARNING. A level the project's
    logging.yml gives ``kedro_pipelinename`` is kept.
    """
    package_logger = logging.getLogger("kedro_pipelinename")
    batch_logger = logging.getLogger("kedro_pipelinename.batch")
    if package_logger.level == logging.NOTSET and batch_logger.level == logging.NOTSET:
        batch_logger.setLevel(logging.INFO)


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
    """Runs a named pipeline as jobs on a backend, one per namespace or node.

    Subclasses set ``backend_settings_class`` (or ``None``) and implement
    ``create_backend``. See ``AWSBatchRunner`` and ``LocalBatchRunner``.

    Args:
        is_async: Accepted for the CLI, which always passes it; jobs load and
            save in their own processes.
        **settings: Any setting of ``BatchSettings`` or the backend's settings
            class; they win over the parameters block and the environment.

    Raises:
        BatchSettingsError: For an argument that is no setting.

    Example:
        A runner for another scheduler implements its backend and says so::

            class SlurmRunner(BatchRunner):
                backend_settings_class = SlurmSettings  # or None

                def create_backend(self, plan, settings, slurm_settings):
                    return SlurmBackend(slurm_settings, run_id=plan.run_id)

        and runs with ``kedro run --pipelines train --runner my_pkg.SlurmRunner``.
    """

    #: The backend's own settings class, resolved like ``BatchSettings``.
    backend_settings_class: ClassVar[type | None] = None
    #: Defaults that replace ``BatchSettings``'s own for this backend.
    setting_defaults: ClassVar[Mapping[str, Any]] = {}
    #: The parameters block the settings are read from.
    parameters_key: ClassVar[str] = PARAMETERS_KEY

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.backend_settings_class is not None:
            _BACKEND_SETTINGS_CLASSES.add(cls.backend_settings_class)

    def __init__(self, is_async: bool = False, **settings: Any) -> None:
        base_arguments: dict[str, Any] = {"is_async": is_async}
        if _TAKES_PATTERNS:
            # Kedro 0.19: undeclared outputs must resolve to MemoryDatasets, so
            # that run() can read the placeholders _run leaves there.
            base_arguments["extra_dataset_patterns"] = {
                "{default}": {"type": "MemoryDataset"}
            }
        super().__init__(**base_arguments)
        check_setting_names(
            settings, self._settings_classes(), f"the arguments of {self._label()}"
        )
        self._arguments = dict(settings)
        #: Where progress goes; ``None`` picks rich on a terminal, logs otherwise.
        self.progress: Progress | None = None

    # --- for subclasses ----------------------------------------------------------

    def create_backend(
        self, plan: JobPlan, settings: BatchSettings, backend_settings: Any
    ) -> JobBackend:
        """The backend that runs ``plan``'s jobs (subclasses implement this).

        Called after the pre-flight checks passed, before anything is submitted;
        a backend may check its own resources here and raise.

        Args:
            plan: The jobs of the run.
            settings: The generic settings.
            backend_settings: An instance of ``backend_settings_class``, or
                ``None`` when the runner has none.

        Returns:
            A ``JobBackend``; the runner calls its ``close()`` when the run ends.
        """
        raise NotImplementedError

    @classmethod
    def _label(cls) -> str:
        return cls.__name__

    @classmethod
    def _settings_classes(cls) -> tuple[type, ...]:
        extra = (
            () if cls.backend_settings_class is None else (cls.backend_settings_class,)
        )
        return (BatchSettings, *extra)

    # --- AbstractRunner ------------------------------------------------------------

    def _get_executor(self, max_workers: int) -> None:
        return None

    def _run(
        self,
        pipeline: Any,
        catalog: Any,
        hook_manager: Any = None,
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
        """
        from ..command import RunCommandError
        from ..run_context import current_run
        from ..run_tracking import run_parameters

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
        settings, backend_settings = self.resolve_settings(run_parameters())
        try:
            plan = plan_jobs(pipeline, settings=settings, context=context)
        except RunCommandError as error:
            raise PreflightError(
                f"{label}: a job's command cannot be built; nothing was submitted.",
                [str(error)],
            ) from error
        if not plan.jobs:
            logger.warning("%s: the pipeline has no nodes to run.", label)
            return
        from kedro.framework.project import pipelines as registry

        run_preflight(plan, pipeline, catalog, registry, label)
        if settings.dry_run:
            self._dry_run(plan, settings)
        else:
            self._submit_and_track(plan, pipeline, context, settings, backend_settings)
        self._leave_placeholders(pipeline, catalog)

    # --- steps ---------------------------------------------------------------------

    def resolve_settings(
        self, parameters: Mapping[str, Any] | None = None
    ) -> tuple[BatchSettings, Any]:
        """Settings from the arguments, the parameters block and the environment.

        Args:
            parameters: The run's parameters, as its config loader gives them
                (``run_tracking.run_parameters()``); the block is
                ``parameters[parameters_key]``. Never read through the catalog:
                a catch-all dataset factory would claim ``params:<key>``.

        Returns:
            ``(BatchSettings, backend settings or None)``.

        Raises:
            BatchSettingsError: For a missing, unknown or invalid setting.
        """
        block = self._parameters_block(parameters or {})
        # Unknown keys and KEDRO_BATCH_* variables are checked against every
        # backend's settings, so one aws_batch block (and one environment) serves
        # AWSBatchRunner and LocalBatchRunner alike; both are reported at once.
        classes = _every_settings_class()
        unknown: list[BatchSettingsError] = []
        try:
            check_setting_names(
                block, classes, f"the parameters block '{self.parameters_key}'"
            )
        except BatchSettingsError as error:
            unknown.append(error)
        try:
            check_environment_names(os.environ, classes)
        except BatchSettingsError as error:
            unknown.append(error)
        if unknown:
            raise BatchSettingsError(
                unknown[0].setting, " ".join(str(error) for error in unknown)
            )
        common: dict[str, Any] = {
            "arguments": self._arguments,
            "parameters": block,
            "environ": os.environ,
            "parameters_key": self.parameters_key,
        }
        settings = resolve_settings(
            BatchSettings, defaults=self.setting_defaults, **common
        )
        backend_settings = (
            None
            if self.backend_settings_class is None
            else resolve_settings(self.backend_settings_class, **common)
        )
        return settings, backend_settings

    def _parameters_block(self, parameters: Mapping[str, Any]) -> Mapping[str, Any]:
        block = parameters.get(self.parameters_key)
        if block is None:
            return {}
        if not isinstance(block, Mapping):
            raise BatchSettingsError(
                self.parameters_key,
                f"The parameter '{self.parameters_key}' must be a mapping of batch "
                f"settings; got {block!r}.",
            )
        return block

    def _dry_run(self, plan: JobPlan, settings: BatchSettings) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(
            title=f"{self._label()} dry run: {len(plan.jobs)} job(s) of run "
            f"{plan.run_id} ({', '.join(plan.pipeline_names)})",
            title_justify="left",
            show_lines=True,
        )
        for column in ("job", "nodes", "command", "env", "depends on"):
            table.add_column(column, overflow="fold")
        for row in plan.table_rows():
            table.add_row(*row)
        Console().print(table)
        path = Path(settings.plan_file or f"batch-plan-{plan.run_id}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan.to_json())
        logger.warning(
            "Dry run: nothing was submitted. The plan of %d job(s) is in %s.",
            len(plan.jobs),
            path.resolve(),
        )

    def _submit_and_track(
        self,
        plan: JobPlan,
        pipeline: Any,
        context: Any,
        settings: BatchSettings,
        backend_settings: Any,
    ) -> None:
        backend = self.create_backend(plan, settings, backend_settings)
        try:
            progress = self.progress or default_progress()
            outcome = Driver(plan, backend, settings, progress).run()
        finally:
            backend.close()
        if outcome.ok:
            return
        resume = self._resume_hint(plan, pipeline, context, outcome)
        if resume:
            logger.warning(
                "To resume this run with its pipelines, env, params and run id, "
                "run:\n  %s",
                resume,
            )
        raise BatchJobError(outcome.failures, resume)

    def _resume_hint(
        self, plan: JobPlan, pipeline: Any, context: Any, outcome: RunOutcome
    ) -> str | None:
        from ..command import RunCommandError, build_resume_command
        from ..run_tracking import resume_hint

        start = resume_nodes(plan, pipeline, outcome.succeeded)
        if not start:
            return None
        try:
            argv = build_resume_command(pipeline, start, context=context)
        except RunCommandError as error:
            logger.warning("No resume command for this run: %s", error)
            return None
        return resume_hint([*argv, f"--runner={self._public_path()}"], context.run_id)

    @classmethod
    def _public_path(cls) -> str:
        from importlib import import_module

        package = import_module("kedro_pipelinename.batch")
        exported = getattr(package, "__all__", ())
        if cls.__name__ in exported:
            return f"kedro_pipelinename.batch.{cls.__name__}"
        return f"{cls.__module__}.{cls.__qualname__}"

    def _leave_placeholders(self, pipeline: Any, catalog: Any) -> None:
        for name in not_persisted_outputs(pipeline, catalog):
            try:
                catalog.save(name, RemoteOutput(name))
            except Exception:  # only Kedro 0.19's run() reads them
                logger.debug(
                    "Could not leave a placeholder for %s", name, exc_info=True
                )
